"""The one place the harness reads and writes YAML and JSON, with the input contract every file shares.

Reading (every YAML and JSON file the project reads goes through here):

* **YAML** (:func:`read_yaml_mapping`, :func:`load_yaml_text`): safe constructors only (no tags that build
  objects); refused with exit 2 and one line naming the file: files over :data:`MAX_YAML_BYTES`, more than
  :data:`MAX_ALIASES` aliases, nesting deeper than :data:`MAX_DEPTH`, or a document that would expand to more
  than :data:`MAX_NODES` nodes once its aliases are followed ("billion laughs": a 700-byte file whose
  aliases expand to 10^9 strings). The line of every key is kept, so a typed check can name it.
* **JSON** (:func:`loads_json`): strict: ``NaN``, ``Infinity`` and numbers too large for a float are refused,
  as is nesting deeper than Python can parse (``RecursionError`` becomes a named error), and a key given twice
  in one object (JSON parsers disagree on which one counts; the error names the key and its line).
  :func:`iter_jsonl` reads JSON Lines the same way, naming the line of a bad record; a line over
  :data:`MAX_JSONL_LINE_BYTES` is refused before it is read whole.
* **Typed checks** (:func:`validate`): a pydantic model per file kind; the first problem becomes
  ``file:line: field: problem``.

Writing: :func:`dumps_json` is ``json.dumps`` with ``allow_nan=False``; every JSON the project writes is
strict JSON that any parser reads.
"""

from __future__ import annotations

import json
import math
import re
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Mapping, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from harness.errors import HarnessInputError

MAX_YAML_BYTES = 4 * 1024 * 1024  # the largest YAML the project reads (manifests, pricing) is a few KiB
MAX_ALIASES = 100
MAX_DEPTH = 64
MAX_NODES = 200_000  # nodes after following aliases
MAX_JSON_DEPTH = 200
MAX_JSONL_LINE_BYTES = 64 * 1024 * 1024  # one JSON Lines record (a document's text, a prediction with its contexts)

M = TypeVar("M", bound=BaseModel)


class _Refused(Exception):
    def __init__(self, problem: str, line: int | None = None) -> None:
        super().__init__(problem)
        self.problem, self.line = problem, line


class _BudgetLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` that counts aliases and nesting while it composes the node graph."""

    def __init__(self, stream) -> None:
        super().__init__(stream)
        self._aliases = 0
        self._depth = 0

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            self._aliases += 1
            if self._aliases > MAX_ALIASES:
                raise _Refused(f"more than {MAX_ALIASES} YAML aliases", self.peek_event().start_mark.line + 1)
            return super().compose_node(parent, index)
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise _Refused(f"nested deeper than {MAX_DEPTH} levels", self.peek_event().start_mark.line + 1)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def _expanded_size(node: yaml.Node, memo: dict[int, int]) -> int:
    """Nodes in ``node`` once every alias is followed (aliases share nodes: memoised, so linear)."""
    key = id(node)
    if key not in memo:
        memo[key] = 0  # a recursive alias refers back here: counts as nothing more
        if isinstance(node, yaml.MappingNode):
            total = 1 + sum(_expanded_size(k, memo) + _expanded_size(v, memo) for k, v in node.value)
        elif isinstance(node, yaml.SequenceNode):
            total = 1 + sum(_expanded_size(v, memo) for v in node.value)
        else:
            total = 1
        memo[key] = min(total, MAX_NODES + 1)
    return memo[key]


def _key_lines(node: yaml.Node, prefix: tuple = (), out: dict | None = None) -> dict[tuple, int]:
    """Line (1-based) of every key path in the document, e.g. ``("criteria", 2, "target") -> 17``."""
    out = {} if out is None else out
    if len(out) > MAX_NODES:
        return out
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            path = (*prefix, k.value if isinstance(k, yaml.ScalarNode) else "?")
            out.setdefault(path, k.start_mark.line + 1)
            _key_lines(v, path, out)
    elif isinstance(node, yaml.SequenceNode):
        for i, v in enumerate(node.value):
            path = (*prefix, i)
            out.setdefault(path, v.start_mark.line + 1)
            _key_lines(v, path, out)
    return out


@dataclass(frozen=True)
class YamlDoc:
    """A parsed YAML file: its data, raw bytes and the line of each key path."""
    path: str
    data: Any
    raw: bytes = b""
    lines: Mapping[tuple, int] = field(default_factory=dict)

    def line(self, loc: tuple) -> int | None:
        """The line of ``loc`` or of its nearest enclosing key that has one."""
        loc = tuple(loc)
        while loc:
            if loc in self.lines:
                return self.lines[loc]
            loc = loc[:-1]
        return None


def load_yaml_text(text: str, path: str = "<text>") -> YamlDoc:
    """Parse YAML under the budget (see the module docstring); errors name ``path`` and the line."""
    loader = None
    try:
        loader = _BudgetLoader(text)  # the reader refuses control characters here
        node = loader.get_single_node()
        if node is not None and _expanded_size(node, {}) > MAX_NODES:
            raise _Refused(f"expands to more than {MAX_NODES:,} nodes through its aliases (refused)")
        data = loader.construct_document(node) if node is not None else None
        lines = _key_lines(node) if node is not None else {}
    except _Refused as exc:
        raise HarnessInputError(exc.problem, path=path, line=exc.line) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise HarnessInputError(f"invalid YAML: {getattr(exc, 'problem', None) or exc}", path=path,
                                line=None if mark is None else mark.line + 1) from None
    except RecursionError:
        raise HarnessInputError("nested too deeply", path=path) from None
    except (ValueError, OverflowError) as exc:  # a scalar its tag cannot build: 2020-02-30, !!int abc, 10**5000
        raise HarnessInputError(f"invalid YAML: {str(exc)[:120]}", path=path) from None
    finally:
        if loader is not None:
            loader.dispose()
    return YamlDoc(path=path, data=data, lines=lines)


def read_yaml(path: str | os.PathLike, what: str) -> YamlDoc:
    """Read and parse a YAML file (size budget first); errors name the file and line."""
    path = str(path)
    try:
        size = os.path.getsize(path)
        if size > MAX_YAML_BYTES:
            raise HarnessInputError(f"{what} is {size:,} bytes, over the {MAX_YAML_BYTES:,}-byte limit", path=path)
        with open(path, "rb") as fh:
            raw = fh.read(MAX_YAML_BYTES + 1)
    except FileNotFoundError:
        raise HarnessInputError(f"{what} not found", path=path) from None
    except IsADirectoryError:
        raise HarnessInputError(f"{what} is a directory, not a file", path=path) from None
    except OSError as exc:
        raise HarnessInputError(f"cannot read {what}: {exc.strerror}", path=path) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise HarnessInputError(f"not valid UTF-8 at byte {exc.start}", path=path) from None
    doc = load_yaml_text(text, path)
    return YamlDoc(path=path, data=doc.data, raw=raw, lines=doc.lines)


def read_yaml_mapping(path: str | os.PathLike, what: str) -> tuple[dict, bytes]:
    """A YAML file that must hold a mapping: (data, raw bytes). Errors name file and line."""
    doc = read_yaml_mapping_doc(path, what)
    return doc.data, doc.raw


def read_yaml_mapping_doc(path: str | os.PathLike, what: str) -> YamlDoc:
    doc = read_yaml(path, what)
    if doc.data is None:
        return YamlDoc(path=doc.path, data={}, raw=doc.raw, lines=doc.lines)
    if not isinstance(doc.data, dict):
        raise HarnessInputError(f"a {what} must be a mapping", path=doc.path)
    return doc


# ---------------------------------------------------------------------------------------------- JSON
def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number JSON allows")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text} is too large for a number")
    return value


class _DuplicateKey(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _unique_keys(pairs: list) -> dict:
    """An object's pairs as a dict; a key given twice raises :class:`_DuplicateKey`."""
    out = dict(pairs)
    if len(out) != len(pairs):
        seen: set = set()
        for key, _ in pairs:
            if key in seen:
                raise _DuplicateKey(key)
            seen.add(key)
    return out


def _duplicate_line(text: str, key: str) -> int | None:
    """The line where ``key`` is given a second time in one object of ``text`` (on the error path only)."""
    import re

    stack: list = []
    for m in re.finditer(r'("(?:[^"\\]|\\.)*")\s*(:?)|[{}\[\]]', text):
        tok = m.group()
        if tok in "{[":
            stack.append(set() if tok == "{" else None)
        elif tok in "}]":
            if stack:
                stack.pop()
        elif m.group(2) and stack and stack[-1] is not None:
            name = json.loads(m.group(1))
            if name == key and name in stack[-1]:
                return text.count("\n", 0, m.start()) + 1
            stack[-1].add(name)
    return None


_DECODER = json.JSONDecoder(parse_constant=_refuse_constant, parse_float=_finite_float,
                            object_pairs_hook=_unique_keys)  # stateless: shared


_MAY_HOLD_SURROGATE = re.compile(r"\\u[dD][89a-fA-F]")  # only such a text can decode to a lone surrogate


def _refuse_lone_surrogates(obj: Any) -> None:
    """A ``\\udc80``-style escape with no partner decodes to text no file, terminal or database can hold (UTF-8
    cannot encode it): refused where the file is read, not as a traceback where it is written."""
    try:
        json.dumps(obj, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("a \\uD800-\\uDFFF escape that is not a surrogate pair (no character)") from None


def loads_json(text: str | bytes, *, path: str | os.PathLike | None = None, line: int | None = None) -> Any:
    """Strict JSON: no NaN/Infinity, no overflowing numbers, bounded nesting; errors name file and line.

    >>> loads_json('{"a": [1, 2.5]}')
    {'a': [1, 2.5]}
    >>> loads_json('{"latency_s": NaN}', path="p.jsonl", line=3)
    Traceback (most recent call last):
    ...
    harness.errors.HarnessInputError: p.jsonl:3: invalid JSON: NaN is not a number JSON allows
    >>> loads_json('{"a": 1,\\n "a": 2}', path="g.json")
    Traceback (most recent call last):
    ...
    harness.errors.HarnessInputError: g.json:2: invalid JSON: key 'a' given twice in one object
    """
    try:
        if type(text) is str and not text.startswith("\ufeff"):  # what json.loads does with it, minus a new decoder
            obj = _DECODER.decode(text)
        else:
            obj = json.loads(text, parse_constant=_refuse_constant, parse_float=_finite_float,
                             object_pairs_hook=_unique_keys)
        if _MAY_HOLD_SURROGATE.search(text if isinstance(text, str) else text.decode("utf-8", "replace")):
            _refuse_lone_surrogates(obj)
        return obj
    except _DuplicateKey as exc:
        if line is None:
            decoded = text if isinstance(text, str) else text.decode("utf-8", "replace")
            line = _duplicate_line(decoded, exc.key)
        raise HarnessInputError(f"invalid JSON: key {exc.key!r} given twice in one object", path=path,
                                line=line) from None
    except json.JSONDecodeError as exc:
        raise HarnessInputError(f"broken JSON ({exc.msg} at column {exc.colno})", path=path,
                                line=line if line is not None else exc.lineno) from None
    except RecursionError:
        raise HarnessInputError("invalid JSON: nested too deeply", path=path, line=line) from None
    except ValueError as exc:
        raise HarnessInputError(f"invalid JSON: {exc}", path=path, line=line) from None


def read_bytes(path: str | os.PathLike, what: str) -> bytes:
    """A file's bytes; a missing, unreadable or directory path is exit 2 naming the file and ``what`` it is."""
    try:
        return Path(path).read_bytes()
    except FileNotFoundError:
        raise HarnessInputError(f"{what} not found", path=path) from None
    except IsADirectoryError:
        raise HarnessInputError(f"{what} is a directory, not a file", path=path) from None
    except OSError as exc:
        raise HarnessInputError(f"cannot read {what}: {exc.strerror}", path=path) from None


def read_json(path: str | os.PathLike, what: str) -> Any:
    """Read a JSON file strictly (see :func:`loads_json`)."""
    raw = read_bytes(path, what)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise HarnessInputError(f"not valid UTF-8 at byte {exc.start}", path=path) from None
    return loads_json(text, path=path)


def iter_jsonl(path: str | os.PathLike) -> Iterator[tuple[int, dict]]:
    """Yield (line number, object) for each non-empty line; raise a named error on the first bad one."""
    with open(path, "rb") as fh:
        for lineno, raw in jsonl_lines(fh, path):
            obj = jsonl_object(raw, path, lineno)
            if obj is not None:
                yield lineno, obj


def jsonl_lines(fh: Any, path: str | os.PathLike) -> Iterator[tuple[int, bytes]]:
    """(line number, raw line) of a JSON Lines file open in binary mode, no line held in memory beyond
    :data:`MAX_JSONL_LINE_BYTES` (its final ``\\n`` not counted; a ``\\r`` before it is): a longer line is exit 2
    naming the file and the line, whatever its size (a file of one endless line is refused after reading that
    many bytes)."""
    readline, limit = fh.readline, MAX_JSONL_LINE_BYTES + 1
    lineno = 0
    while raw := readline(limit):
        lineno += 1
        if len(raw) == limit and not raw.endswith(b"\n"):
            raise HarnessInputError(f"line longer than {MAX_JSONL_LINE_BYTES:,} bytes (refused: one record is at "
                                    "most that)", path=path, line=lineno)
        yield lineno, raw


def jsonl_object(raw: bytes, path: str | os.PathLike, lineno: int) -> dict | None:
    """The object of one JSON Lines line as read from the file (None: a blank line), as :func:`iter_jsonl`
    reads each; a bad line is a named error."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise HarnessInputError(f"not valid UTF-8 at byte {exc.start}", path=path, line=lineno) from None
    if not text.strip():
        return None
    obj = loads_json(text, path=path, line=lineno)
    if not isinstance(obj, dict):
        raise HarnessInputError("each line must be a JSON object", path=path, line=lineno)
    return obj


def dumps_json(data: Any, **kwargs: Any) -> str:
    """``json.dumps`` that never writes NaN or Infinity (strict JSON, readable by every parser)."""
    if "cls" not in kwargs:
        try:
            key = tuple(sorted(kwargs.items()))
            encoder = _ENCODERS.get(key)
        except TypeError:  # an unhashable setting: an encoder for this call alone, below
            pass
        else:
            if encoder is None:  # one encoder per setting, made once (json.dumps makes one a call)
                encoder = _ENCODERS[key] = json.JSONEncoder(allow_nan=False, **kwargs)
            return encoder.encode(data)
    return json.dumps(data, allow_nan=False, **kwargs)


_ENCODERS: dict[tuple, json.JSONEncoder] = {}


# ---------------------------------------------------------------------------------------------- typed checks
def validation_problem(exc: ValidationError) -> tuple[tuple, str]:
    """(location, one-line problem) of a pydantic error's first entry."""
    err = exc.errors()[0]
    msg = "unknown key" if err["type"] == "extra_forbidden" else err["msg"]
    if err["type"] == "value_error" and isinstance((err.get("ctx") or {}).get("error"), ValueError):
        msg = str(err["ctx"]["error"])  # a validator's own sentence, without pydantic's "Value error, "
    if "input" in err and err["type"] != "missing" and not isinstance(err["input"], (dict, list)):
        shown = repr(err["input"])
        msg = f"{msg} (got {shown[:60] + '...' if len(shown) > 60 else shown})"
    return tuple(err["loc"]), msg


def validate(model: type[M], data: Any, *, path: str | os.PathLike | None = None, line: int | None = None,
             doc: YamlDoc | None = None, prefix: str = "") -> M:
    """``model`` from ``data``; the first problem is raised as ``file:line: field: problem`` (exit 2)."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        loc, msg = validation_problem(exc)
        where = ".".join(str(x) if not isinstance(x, int) else f"[{x}]" for x in loc).replace(".[", "[")
        if prefix:
            where = f"{prefix}.{where}" if where else prefix
        if doc is not None and line is None:
            line = doc.line(tuple(x for x in loc))
        raise HarnessInputError(msg, path=path if path is not None else (doc.path if doc else None), line=line,
                                field=where or None) from None
