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
        return _one_line(": ".join(parts))


def _one_line(text: str) -> str:
    """Control characters (a newline in a key a file supplied) shown escaped: the message stays one line."""
    import re

    return re.sub(r"[\x00-\x1f\x7f\x85\u2028\u2029]", lambda m: {"\n": "\\n", "\t": "\\t", "\r": "\\r"}.get(
        m.group(), f"\\u{ord(m.group()):04x}"), text)
