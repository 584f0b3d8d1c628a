"""What a student's files may contain: plain data (no number too large to print), the settings the assignment
gives a range, and in prompts the placeholders of the task.

Placeholders: ``$name`` / ``${name}`` from the task's allowed set (``harness.grading.assignment.PLACEHOLDERS``),
``$$`` for a dollar sign, nothing else. Refused, with a message that says what to write instead: a placeholder
the task does not fill, ``$`` not followed by a name, attribute or index access (``$document.__class__``,
``$document[0]``, ``${document}[0]``) and format-style placeholders (``{document}``, ``{document.attr}``,
``{document[0]}``), which this pipeline never fills (its prompts are ``string.Template``\\ s, so JSON braces
need no escaping). A bare ``{name}`` is refused only for a placeholder name of some task (``{"label": ...}``
and other JSON stays as it is).
"""

from __future__ import annotations

import math
import re
from string import Template
from typing import Any, Mapping

from harness.grading.assignment import INTEGER_SETTINGS, PLACEHOLDERS, STUDENT_SETTINGS, Range

_ALL = frozenset().union(*PLACEHOLDERS.values())
_FORMAT = re.compile(r"(?<!\$)\{([A-Za-z_]\w*)((?:\.[A-Za-z_]\w*|\[[^\]\n]{0,40}\])*)\}")
_ACCESS = re.compile(r"\.[A-Za-z_]|\[")


def _show(text: str, n: int = 40) -> str:
    return text[:n] + "..." if len(text) > n else text


def placeholder_problem(text: str, task: str) -> str | None:
    """Why ``text`` (a prompt's system or user message for ``task``) is refused, or None; at most ~60
    characters of ``text`` are quoted."""
    allowed = PLACEHOLDERS[task]
    names = ", ".join(f"${n}" for n in sorted(allowed))
    for m in Template.pattern.finditer(text):
        if m.group("escaped") is not None:
            continue
        line = text.count("\n", 0, m.start()) + 1
        if m.group("invalid") is not None:
            after = _show(text[m.start():m.start() + 20].split("\n", 1)[0], 20)
            return (f"invalid placeholder at {after!r} (line {line} of the text): write a plain $name ({task} "
                    f"fills {names}) or $$ for a dollar sign")
        name = m.group("named") or m.group("braced")
        if name not in allowed:
            return f"unknown placeholder ${_show(name)} (line {line} of the text); {task} fills {names}"
        if _ACCESS.match(text, m.end()):
            access = _show(text[m.start():m.end() + 20].split("\n", 1)[0].split(" ", 1)[0], 40)
            return (f"attribute or index access {access!r} (line {line} of the text) is not allowed; "
                    f"placeholders are plain names: {names}")
    for m in _FORMAT.finditer(text):
        name, access = m.group(1), m.group(2)
        if access or name in _ALL:
            line = text.count("\n", 0, m.start()) + 1
            return (f"format-style placeholder {_show(m.group(0))!r} (line {line} of the text) is never filled: "
                    f"this pipeline's prompts use ${name if name in allowed else 'name'} ({task} fills {names})")
    return None


class Problem(Exception):
    """A setting refused: ``problem`` at key ``path`` (a tuple of the file's keys)."""
    def __init__(self, problem: str, path: tuple) -> None:
        super().__init__(problem)
        self.problem, self.path = problem, path


def settings_values(data: dict, ranges: Mapping[str, Range]) -> dict[str, int | float]:
    """Dotted key -> value of a ``settings.yaml`` mapping (nested keys; an empty mapping sets nothing), each
    key given a range by the assignment and within it; raises :class:`Problem` for the first one that is not."""
    allowed = ", ".join(sorted(ranges)) or "none"
    out: dict[str, int | float] = {}
    for path, value in _leaves(data, ()):
        key = ".".join(path)
        if key not in ranges:
            why = ("this assignment does not let you change it" if key in STUDENT_SETTINGS
                   else "not a setting you may change")
            raise Problem(f"{why} (allowed: {allowed})", path)
        if key in out:
            raise Problem("given twice", path)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise Problem(f"must be a number (got {type(value).__name__})", path)
        if key in INTEGER_SETTINGS and not isinstance(value, int):
            raise Problem(f"must be a whole number (got {value!r:.20})", path)
        if not math.isfinite(value) or not ranges[key].min <= value <= ranges[key].max:
            raise Problem(f"{value!r:.20} is outside the allowed range {ranges[key].min:g} to {ranges[key].max:g}",
                          path)
        out[key] = value if key in INTEGER_SETTINGS else float(value)
    return out


def _leaves(data: dict, prefix: tuple) -> list[tuple[tuple[str, ...], Any]]:
    out = []
    for key, value in data.items():
        if not isinstance(key, str) or not key:
            raise Problem(f"setting names must be text (got {type(key).__name__})", prefix)
        if isinstance(value, dict) and value:
            out.extend(_leaves(value, (*prefix, key)))
        elif not (isinstance(value, dict) and not value):
            out.append(((*prefix, key), value))
    return out


def huge_number(data: Any, path: tuple = ()) -> tuple | None:
    """The key path of the first integer over 2**62 in ``data`` (never converted to text: Python refuses to
    print one of over 4,300 digits), or None."""
    if isinstance(data, int) and not isinstance(data, bool):
        return path if data.bit_length() > 62 else None
    items = data.items() if isinstance(data, dict) else enumerate(data) if isinstance(data, list) else ()
    for key, value in items:
        if isinstance(key, int) and not isinstance(key, bool) and key.bit_length() > 62:
            return path
        found = huge_number(value, (*path, key if isinstance(key, str) else "?"))
        if found is not None:
            return found
    return None
