"""The guardrail's own regular expressions (``sensitiveInformationPolicyConfig.regexesConfig``), compiled once at
load and run so that no configured pattern can hang a check.

A guardrail file comes from whoever configured it, and a backtracking engine takes time exponential in the text
on a pattern such as ``(a+)+$`` (``'a' * 40 + '!'`` ran past 60 s on Python's ``re``). So:

* every pattern RE2 can read runs on **RE2** (``google-re2``): time linear in the text, whatever the pattern.
  RE2's classes ``\\d``, ``\\w``, ``\\s`` and ``\\b`` are ASCII (``\\p{L}``, ``\\p{N}`` are the Unicode ones);
* a pattern only Python's syntax can read (look-around, back-references, ``\\Z``, a repeat over 1,000, ...) is
  said at load (:attr:`Pattern.note`, one line naming it) and runs on Python's engine under a time budget per
  check, :data:`BUDGET_S`: a check that runs past it returns None, and the engine then **blocks** the text
  (fails closed) naming the pattern. The syntax is Python ``re``'s (it must parse there); the engine is the
  ``regex`` module in its ``re``-compatible mode, because ``re`` cannot be stopped from another thread and
  ``regex`` takes a timeout per call. Its compile time grows with nested counted repeats
  (``((a{1000}){1000}){1000}`` does not finish), so such a pattern is refused at load over
  :data:`MAX_EXPANDED` (RE2 refuses it too).

A match of nothing (``a*`` between two letters) carries no information and is not a finding.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal

BUDGET_S = 0.5  # per pattern and check, on Python's engine only (RE2 is linear in the text)
MAX_EXPANDED = 100_000  # nodes after counted repeats are unrolled: ~0.1 s to compile on the regex module


@dataclass(frozen=True)
class Pattern:
    """One compiled guardrail pattern and the engine it runs on."""
    source: str
    engine: Literal["re2", "python"]
    compiled: Any
    re2_problem: str = ""  # why RE2 could not read it (engine "python")

    @property
    def note(self) -> str:
        """What to say at load about a pattern RE2 cannot take (empty for an RE2 pattern)."""
        if self.engine == "re2":
            return ""
        return (f"pattern {self.source!r}: RE2 cannot read it ({self.re2_problem}); it runs on Python's engine "
                f"under a {BUDGET_S:g} s budget per check, and a check that runs past it blocks the text")

    def spans(self, text: str, budget_s: float = BUDGET_S) -> list[tuple[int, int]] | None:
        """(start, end) of every non-empty match in ``text``; None when Python's engine ran past ``budget_s``."""
        if self.engine == "re2":
            return [m.span() for m in self.compiled.finditer(text) if m.end() > m.start()]
        out = []
        try:
            for m in self.compiled.finditer(text, timeout=budget_s):
                if m.end() > m.start():
                    out.append(m.span())
        except TimeoutError:
            return None
        return out


def replace_spans(text: str, spans: list[tuple[int, int]], replacement: str) -> str:
    """``text`` with each (non-overlapping, ordered) span replaced by ``replacement`` taken literally.

    >>> replace_spans("a1b22c", [(1, 2), (3, 5)], r"{\\g<5>}")
    'a{\\\\g<5>}b{\\\\g<5>}c'
    """
    parts, at = [], 0
    for start, end in spans:
        parts += [text[at:start], replacement]
        at = end
    parts.append(text[at:])
    return "".join(parts)


def _expanded(items, cap: int) -> int:
    """Nodes of a parsed Python pattern once counted repeats are unrolled (stops counting past ``cap``)."""
    from re import _constants as c
    from re import _parser

    total = 0
    for op, av in items:
        inner = sum(_expanded(sub, cap) for sub in _subpatterns(av, _parser.SubPattern))
        if op in (c.MAX_REPEAT, c.MIN_REPEAT, c.POSSESSIVE_REPEAT):
            low, high = av[0], av[1]
            total += max(1, low if high == c.MAXREPEAT else high) * max(1, inner)
        else:
            total += 1 + inner
        if total > cap:
            return total
    return total


def _subpatterns(value, kind):
    if isinstance(value, kind):
        yield value
    elif isinstance(value, (tuple, list)):
        for x in value:
            yield from _subpatterns(x, kind)


@lru_cache(maxsize=512)
def compile_pattern(source: str) -> Pattern:
    """``source`` compiled on RE2, or on Python's engine when only Python's syntax reads it; ValueError (the
    problem in one line) when neither does or when it is too large to compile."""
    import re

    import re2

    options = re2.Options()
    options.log_errors = False  # RE2 would write its own line to stderr
    try:
        return Pattern(source, "re2", re2.compile(source, options))
    except re2.error as exc:
        problem = exc.args[0].decode("utf-8", "replace") if exc.args and isinstance(exc.args[0], bytes) \
            else str(exc)
    try:
        from re import _parser

        parsed = _parser.parse(source)
    except (re.error, OverflowError, RecursionError) as exc:
        raise ValueError(f"not a regular expression: {exc}") from None
    size = _expanded(parsed, MAX_EXPANDED)
    if size > MAX_EXPANDED:
        raise ValueError(f"its counted repeats unroll to over {MAX_EXPANDED:,} nodes (RE2: {problem}); "
                         "use fewer or smaller {n} repeats")
    import regex

    try:
        compiled = regex.compile(source, flags=regex.VERSION0)
    except (regex.error, OverflowError, RecursionError, ValueError) as exc:
        raise ValueError(f"not a regular expression: {exc}") from None
    return Pattern(source, "python", compiled, problem)

