"""The word policy (``wordPolicyConfig.wordsConfig``): which configured words occur in a text, whole and in any
letter case, in time that does not grow with the number of words.

A word occurs where its letters stand with no word character (``\\w``) right before or right after it: the
same rule as ``(?<!\\w)word(?!\\w)`` with ``re.IGNORECASE``, with letter case compared by ``str.casefold``.
Searching each word in turn costs words x text (a 100,000-word list against a 108 KB text ran past 120 s).
Here the text is scanned once: every place a word can start (no word character before it, and its first
character is the first character of some word) is looked up, for each word length in the list, in one set of
the words. The cost is those places x the distinct lengths (at most :data:`MAX_WORD_CHARS` = 100), whatever the
number of words; a check whose cost would pass :data:`MAX_LOOKUPS` is not run and the engine blocks the text
(fails closed), saying the bound.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

MAX_LOOKUPS = 10_000_000  # set look-ups per check (about 3 s); 10,000 words on a 108 KB text take ~0.4 million
_NOT_WORD = re.compile(r"\W")


@dataclass(frozen=True)
class WordCheck:
    """The words of one check: those found (as configured, in their order), or why the check was not run."""
    found: tuple[str, ...] = ()
    over_budget: str = ""  # non-empty: the check was not run (the engine blocks the text), with the bound


@dataclass
class WordMatcher:
    """The configured words, indexed once for :meth:`check`."""
    words: list[str]
    _folded: dict[str, list[str]] = field(init=False, repr=False)  # folded word -> configured spellings
    _lengths: list[int] = field(init=False, repr=False)
    _starts: re.Pattern | None = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._folded = {}
        for w in self.words:
            self._folded.setdefault(w.casefold(), []).append(w)
        self._lengths = sorted({len(k) for k in self._folded})
        firsts = sorted({k[0] for k in self._folded if k})
        self._starts = re.compile(r"(?<!\w)[" + "".join(re.escape(c) for c in firsts) + "]") if firsts else None

    def check(self, text: str, max_lookups: int = MAX_LOOKUPS) -> WordCheck:
        """The configured words that occur in ``text``.

        >>> WordMatcher(["Wire", "wire fraud", "c++"]).check("WIRE FRAUD in C++.").found
        ('Wire', 'wire fraud', 'c++')
        >>> WordMatcher(["wire"]).check("wireless").found
        ()
        """
        if self._starts is None:
            return WordCheck()
        folded = text.casefold()
        starts = [m.start() for m in self._starts.finditer(folded)]
        cost = len(starts) * len(self._lengths)
        if cost > max_lookups:
            return WordCheck(over_budget=(
                f"{len(starts):,} places a word can start x {len(self._lengths)} word lengths = {cost:,} look-ups, "
                f"over the bound of {max_lookups:,} per check"))
        n = len(folded)
        ends = {m.start() for m in _NOT_WORD.finditer(folded)}
        ends.add(n)
        hits = set()
        for p in starts:
            for length in self._lengths:
                e = p + length
                if e > n:
                    break
                if e in ends and folded[p:e] in self._folded:
                    hits.add(folded[p:e])
        return WordCheck(found=tuple(w for w in self.words if w.casefold() in hits))
