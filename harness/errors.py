"""Errors the command line turns into exit code 2 with a one-line message."""

from __future__ import annotations

import os


class HarnessInputError(Exception):
    """Bad input from a user: a file, a line in it, a field, and what is wrong.

    The CLI prints ``error: <file>:<line>: <field>: <problem>`` and exits 2.

    >>> str(HarnessInputError("bad value", path="g/documents.jsonl", line=3, field="label"))
    'g/documents.jsonl:3: label: bad value'
    """

    def __init__(self, problem: str, *, path: str | os.PathLike | None = None,
                 line: int | None = None, field: str | None = None) -> None:
        self.problem = problem
        self.path = None if path is None else str(path)
        self.line = line
        self.field = field
        super().__init__(self.format())

    def format(self) -> str:
        parts = []
        if self.path is not None:
            parts.append(self.path if self.line is None else f"{self.path}:{self.line}")
        if self.field is not None:
            parts.append(self.field)
        parts.append(self.problem)
        return ": ".join(parts)


def read_yaml_mapping(path: "os.PathLike | str", what: str) -> tuple[dict, bytes]:
    """Parse a YAML file that must hold a mapping; returns (data, raw bytes). Errors name file and line."""
    import yaml

    path = str(path)
    try:
        with open(path, "rb") as fh:
            raw = fh.read()
    except FileNotFoundError:
        raise HarnessInputError(f"{what} not found", path=path) from None
    try:
        data = yaml.safe_load(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise HarnessInputError(f"not valid UTF-8 at byte {exc.start}", path=path) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise HarnessInputError(f"invalid YAML: {getattr(exc, 'problem', exc)}", path=path,
                                line=None if mark is None else mark.line + 1) from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise HarnessInputError(f"a {what} must be a mapping", path=path)
    return data, raw
