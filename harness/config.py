"""Pipeline settings: a YAML file per pipeline, typed by a pydantic model, overridable with ``--set``.

``--set classifier.max_depth=8`` sets a nested key; the value is read as YAML (``8`` is an int, ``true`` a
bool, ``[1, 2]`` a list). Unknown keys and wrong types stop with exit code 2 naming the key.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, Sequence, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from harness.errors import HarnessInputError
from harness.files import load_yaml_text, read_yaml_mapping

M = TypeVar("M", bound=BaseModel)


class StrictModel(BaseModel):
    """Base of every settings model: an unknown key is an error (exit 2 naming the key), never ignored.

    Every field of a subclass carries a ``description`` (``harness config`` prints them).
    """

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


def apply_override(data: dict, assignment: str) -> None:
    if "=" not in assignment:
        raise HarnessInputError(f"--set expects key=value, got {assignment!r}", field="--set")
    key, raw = assignment.split("=", 1)
    parts = [p for p in key.strip().split(".") if p]
    if not parts:
        raise HarnessInputError(f"--set has an empty key in {assignment!r}", field="--set")
    try:
        value = load_yaml_text(raw, f"--set {key.strip()}").data if raw.strip() else ""
    except HarnessInputError as exc:
        if "invalid YAML" not in exc.problem:
            raise  # over the alias/nesting budget: refused, never read as a string
        value = raw
    node = data
    for p in parts[:-1]:
        if not isinstance(node.get(p), dict):
            node[p] = {}
        node = node[p]
    node[parts[-1]] = value


def load_config(model: type[M], default_path: Path, config_file: str | Path | None = None,
                overrides: Sequence[str] = ()) -> M:
    """Defaults from ``default_path`` (or ``config_file``), then each ``--set`` in order."""
    source = Path(config_file) if config_file else default_path
    data, _ = read_yaml_mapping(source, "config file")
    for assignment in overrides:
        apply_override(data, assignment)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = ".".join(str(x) for x in err["loc"])
        keys = [a.split("=", 1)[0].strip() for a in overrides]
        given = next((k for k in reversed(keys) if k == loc or k.startswith(loc + ".")), None)
        origin, loc = ("--set", given) if given is not None else (str(source), loc)  # --set a.b.c: name a.b.c
        msg = "unknown setting" if err["type"] == "extra_forbidden" else err["msg"]
        raise HarnessInputError(msg, path=origin, field=loc) from None


def config_hash(config: BaseModel | dict) -> str:
    data = config.model_dump(mode="json") if isinstance(config, BaseModel) else config
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()


def dump(config: BaseModel) -> dict[str, Any]:
    return config.model_dump(mode="json")


def strip_credentials(value: Any) -> Any:
    """``value`` with the user-info of every URL removed (``http://KEY:SECRET@host`` -> ``http://host``), at
    any depth: what the harness records or prints never carries credentials given in a URL.

    >>> strip_credentials({"llm": {"endpoint_url": "http://AKIA:s3cret@127.0.0.1:9000/x"}})
    {'llm': {'endpoint_url': 'http://127.0.0.1:9000/x'}}
    """
    from urllib.parse import urlsplit, urlunsplit

    if isinstance(value, dict):
        return {k: strip_credentials(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(strip_credentials(v) for v in value)
    if isinstance(value, str) and "://" in value and "@" in value:
        try:
            parts = urlsplit(value)
        except ValueError:
            return value
        if parts.username is not None or parts.password is not None:
            host = parts.netloc.rsplit("@", 1)[1]
            return urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment))
    return value
