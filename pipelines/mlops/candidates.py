"""Candidate spans from typed patterns, and their context features.

The extractor is learned: these patterns only propose spans of a *type* (date, money, code, name,
duration, enum value); which span is the due date or the issuer is decided by per-field XGBoost models on
the context features computed here. Nothing here knows a template.

Everything works on a batch of documents at once: the documents are joined by newlines (:class:`TextBatch`)
so that each pattern runs once over the batch, and the features of all candidates are computed as array
operations. No pattern matches a newline and every look-around treats a newline as it treats the start or
end of a text, so the spans found are exactly those found document by document; the patterns whose matches
all hold a digit run over the lines that have one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property, lru_cache
from itertools import chain
from typing import Collection, Mapping, Sequence

import numpy as np

# The patterns of the types whose every match holds a digit. Each is written led by the class of the characters a
# match can start with, so that the regex engine jumps to those positions instead of trying every one (about a
# third less time over a month's lines). The look-behind that guards a match's start follows that first
# character, one character wider (``(?<![\w./-].)``), and each alternative starts with a look-behind that checks
# the first character is one it can start with, followed by the rest of it: the same spans as the plain forms
# (DATE: ``(?<![\w./-])(?:\d{4}-\d{1,2}-\d{1,2}|\d{1,2}[./-]\d{1,2}[./-]\d{2,4}|\d{1,2}(?:st|nd|rd|th)?[ -]MONTH\.?
# [ ,-]+\d{4}|MONTH\.? \d{1,2}(?:st|nd|rd|th)?,? \d{4})(?![\w/-])`` ignoring case; MONEY:
# ``(?<![\w.,/-])(?:CUR ?NUM(?: ?CUR(?![\w$]))?|NUM(?: ?CUR(?![\w$]))?|CUR ?\d{1,3}(?:,\d{3})*(?![\d.,]))
# (?![.,]?\d)``; CODE: ``(?<![\w/.-])(?:(?=[A-Z0-9./-]*\d)(?=[A-Z0-9./-]*[A-Z])[A-Z0-9]+(?:[./-][A-Z0-9]+)+|
# [A-Z]{2,5}\d{4,})(?![\w/-])``; DURATION: ``(?<![\w.])\d{1,3} (?:months?|years?|weeks?|days?)\b`` ignoring
# case), which tests/test_issue32_month.py keeps and compares them with. Only the month names ignore case in
# DATE_RE (a class with letters that ignores case gives the engine no first-character class): its first class
# lists both cases and the long s, which matches "s" when case is ignored.
_MONTH = (r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
          r"sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)")
_MONTH_REST = (r"(?:(?<=j)(?:an(?:uary)?|une?|uly?)|(?<=f)eb(?:ruary)?|(?<=m)(?:ar(?:ch)?|ay)"
               r"|(?<=a)(?:pr(?:il)?|ug(?:ust)?)|(?<=s)ep(?:t(?:ember)?)?|(?<=o)ct(?:ober)?|(?<=n)ov(?:ember)?"
               r"|(?<=d)ec(?:ember)?)")  # _MONTH after its first letter
DATE_RE = re.compile(
    rf"[\dJFMASONDjfmasond\u017f](?<![\w./-].)(?i:(?<=\d)(?:\d{{3}}-\d{{1,2}}-\d{{1,2}}|\d?[./-]\d{{1,2}}[./-]\d{{2,4}}"
    rf"|\d?(?:st|nd|rd|th)?[ -]{_MONTH}\.?[ ,-]+\d{{4}})|{_MONTH_REST}\.? \d{{1,2}}(?:st|nd|rd|th)?,? \d{{4}})"
    rf"(?![\w/-])")
_CUR = r"(?:[A-Z]{3}|[A-Z]{0,2}\$|[€£¥])"
_CUR_REST = r"(?:(?<=[A-Z])[A-Z]{2}|(?<=[A-Z])[A-Z]?\$|(?<=\$)|(?<=[€£¥]))"  # _CUR after its first character
_NUM = r"(?:\d{1,3}(?:(?:,\d{3})+|(?:\.\d{3})+|(?: \d{3})+)[.,]\d{2}|\d+[.,]\d{2})"
_NUM_REST = r"(?:(?<=\d)\d{0,2}(?:(?:,\d{3})+|(?:\.\d{3})+|(?: \d{3})+)[.,]\d{2}|(?<=\d)\d*[.,]\d{2})"
MONEY_RE = re.compile(
    rf"[\dA-Z$€£¥](?<![\w.,/-].)(?:{_CUR_REST} ?{_NUM}(?: ?{_CUR}(?![\w$]))?|{_NUM_REST}(?: ?{_CUR}(?![\w$]))?"
    rf"|{_CUR_REST} ?\d{{1,3}}(?:,\d{{3}})*(?![\d.,]))(?![.,]?\d)")
CODE_RE = re.compile(
    r"[A-Z0-9](?<![\w/.-].)(?:(?:(?<=\d)|(?=[A-Z0-9./-]*\d))(?:(?<=[A-Z])|(?=[A-Z0-9./-]*[A-Z]))[A-Z0-9]*"
    r"(?:[./-][A-Z0-9]+)+|(?<=[A-Z])[A-Z]{1,4}\d{4,})(?![\w/-])")
DURATION_RE = re.compile(r"\d(?<![\w.].)\d{0,2} (?:months?|years?|weeks?|days?)\b", re.I)
_WORD = r"(?:[A-Z]\.(?:[A-Z]\.)+|[A-Z][\w&'’-]*\.?)"
NAME_RE = re.compile(rf"{_WORD}(?: (?:(?:of|and|&|the|de) )?{_WORD})*")
TOKEN_RE = re.compile(r"[a-z]+")
_AND_RE = re.compile(r" (?:and|&) ")
_DIGIT_LINE_RE = re.compile(r"\d[^\n]*")  # from the first digit of a line to its end
_CONNECTORS = {"of", "and", "&", "the", "de"}

TYPES = ("date", "money", "code", "name", "duration", "enum")
TYPE_CODE = {t: i for i, t in enumerate(TYPES)}
# patterns whose every match holds a digit: they only need to look at the lines that have one
DIGIT_PATTERNS = (("date", DATE_RE), ("money", MONEY_RE), ("code", CODE_RE), ("duration", DURATION_RE))
FIELD_CANDIDATE_TYPES = {"date": ("date",), "money": ("money",), "enum": ("enum",),
                         "string": ("code", "name", "duration"), "list": ("code", "name")}


@dataclass(frozen=True)
class TextBatch:
    """Documents joined by newlines: offsets of each document and of each line in the joined text."""
    text: str
    offsets: np.ndarray  # where each document starts
    doc_ends: np.ndarray
    lines: list[str]
    line_starts: np.ndarray
    line_ends: np.ndarray  # the newline ending the line (or the end of the text)

    def doc_of(self, pos: np.ndarray) -> np.ndarray:
        return np.searchsorted(self.offsets, pos, side="right") - 1

    def line_of(self, pos: np.ndarray) -> np.ndarray:
        return np.searchsorted(self.line_starts, pos, side="right") - 1

    @cached_property
    def distinct(self) -> "DistinctLines":
        """The batch's distinct lines (computed once: the candidates and the features both read them)."""
        index: dict[str, int] = {}
        of_line = np.fromiter((index.setdefault(line, len(index)) for line in self.lines), dtype=np.int64,
                              count=len(self.lines))
        return DistinctLines(join_texts(list(index)), of_line, self.line_starts)


def join_texts(texts: Sequence[str]) -> TextBatch:
    text = "\n".join(texts)
    lengths = np.fromiter(map(len, texts), dtype=np.int64, count=len(texts))
    offsets = np.zeros(len(texts), dtype=np.int64)
    np.cumsum(lengths[:-1] + 1, out=offsets[1:])
    lines = text.split("\n")
    line_ends = np.cumsum(np.fromiter(map(len, lines), dtype=np.int64, count=len(lines)) + 1) - 1
    line_starts = np.concatenate(([0], line_ends[:-1] + 1))
    return TextBatch(text, offsets, offsets + lengths, lines, line_starts, line_ends)


@dataclass(frozen=True)
class DistinctLines:
    """The distinct lines of a batch, in order of first appearance, as a batch of their own (each line one of
    its documents), and which of them each line of the batch is. A month of documents repeats most of its
    lines (headings, labels, boilerplate: about 40% of a batch's characters): a pattern that never matches a
    newline, and whose look-arounds treat a newline as they treat the start or end of a text, finds in a line
    what it finds in each copy of it, so it runs over the distinct lines once and :meth:`spread` copies
    what it found to every line."""
    batch: TextBatch
    of_line: np.ndarray  # per line of the batch: its index among the distinct lines
    line_starts: np.ndarray  # the batch's line starts

    def spread(self, spans: np.ndarray) -> np.ndarray:
        """Spans found in :attr:`batch`'s text, in text order, as the spans of every copy of their lines in the
        original batch's text, in text order."""
        source, line = self.copies(self.batch.doc_of(spans[:, 0]))
        return spans[source] - self.batch.offsets[self.of_line[line]][:, None] + self.line_starts[line][:, None]

    def copies(self, found_on: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """For things found on the distinct lines ``found_on`` (ascending), in order: (which of them, the line of
        the original batch) of each of their copies, in the original's text order. (A thing's line, not its
        offset, says where it was found: the tokens of a line lower-cased to more characters have offsets past
        its end.)"""
        per_line = np.bincount(found_on, minlength=len(self.batch.offsets))
        first = np.cumsum(per_line) - per_line  # each distinct line's first
        count = per_line[self.of_line]  # on each line of the batch
        line = np.repeat(np.arange(len(self.of_line)), count)
        within = np.arange(int(count.sum())) - np.repeat(np.cumsum(count) - count, count)
        return first[self.of_line[line]] + within, line


@dataclass(frozen=True)
class Candidates:
    """The candidate spans of a batch, one entry per span, grouped by document and in each document in
    the order: dates, money, codes, durations, names, enum values (field by field), each in text order."""
    doc: np.ndarray  # document index in the batch
    type: np.ndarray  # index into TYPES
    start: np.ndarray  # offsets in the joined text
    end: np.ndarray
    enum: np.ndarray  # for type "enum": index into enum_fields of the field whose value/alias matched, else -1
    text: list[str]
    enum_fields: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.text)

    def take(self, rows: np.ndarray) -> "Candidates":
        """The candidates at ``rows`` (indices or a boolean mask), in that order."""
        rows = np.flatnonzero(rows) if rows.dtype == bool else rows
        return Candidates(self.doc[rows], self.type[rows], self.start[rows], self.end[rows], self.enum[rows],
                          [self.text[i] for i in rows.tolist()], self.enum_fields)


def _codes(text: str) -> np.ndarray:
    """The code point of each character."""
    return np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)


def _spans(rx: re.Pattern, text: str) -> np.ndarray:
    """(start, end) of each match, one row per match."""
    return np.fromiter(chain.from_iterable(m.span() for m in rx.finditer(text)), dtype=np.int64).reshape(-1, 2)


@lru_cache(maxsize=1 << 16)
def _run_offsets(run: str) -> tuple[int, ...]:
    """The spans proposed in a run of several capitalised words, as flat (start, end, start, end, ...) offsets
    in the run, remembered (a month of documents repeats its names and labels): each suffix that starts on a
    word that is not a connector, and each part between " and " / " & " (each part found from where the last
    one ended: the first occurrence of a part at or after that offset lies inside the run, so searching the
    run finds what searching the whole text would)."""
    end = len(run)
    seen = set()
    pos = 0
    for w in run.split(" "):  # the words of a run are separated by single spaces
        if w.lower() not in _CONNECTORS:
            seen.add((pos, end))
        pos += len(w) + 1
    pieces = _AND_RE.split(run) if " and " in run or " & " in run else ()
    if len(pieces) > 1:
        pos = 0
        for piece in pieces:
            s = run.index(piece, pos)
            seen.add((s, s + len(piece)))
            pos = s + len(piece)
    return tuple(chain.from_iterable(seen))


def _matches(rx: re.Pattern, text: str) -> tuple[np.ndarray, list[str]]:
    """(spans, matched strings) of a pattern without groups that never matches an empty string, from one
    ``split`` by the pattern as a group:
    the pieces alternate between text between matches and matches, so their lengths give the offsets (the
    same matches as ``finditer``, no match object made)."""
    pieces = _as_group(rx).split(text)
    ends = np.cumsum(np.fromiter(map(len, pieces), dtype=np.int64, count=len(pieces)))
    found = pieces[1::2]
    lengths = np.fromiter(map(len, found), dtype=np.int64, count=len(found))
    return np.column_stack([ends[1::2] - lengths, ends[1::2]]), found


@lru_cache(maxsize=16)
def _as_group(rx: re.Pattern) -> re.Pattern:
    """The same pattern as one group (for :func:`_matches`)."""
    return re.compile(f"({rx.pattern})", rx.flags)


def _name_spans(text: str, codes: np.ndarray | None = None) -> np.ndarray:
    """Name spans in text order: a one-word run unless it is a connector, the spans of longer runs. ``codes``:
    :func:`_codes` of ``text``, when already computed."""
    spans, runs = _matches(NAME_RE, text)
    spaces = np.concatenate(([0], np.cumsum((_codes(text) if codes is None else codes) == 32)))
    multi = spaces[spans[:, 1]] > spaces[spans[:, 0]]  # runs with a space
    single = ~multi
    # a connector has at most three characters, and lower-casing never shortens a text: only short runs are looked at
    short = np.flatnonzero(single & (spans[:, 1] - spans[:, 0] <= 3))
    single[short] = [runs[i].lower() not in _CONNECTORS for i in short.tolist()]
    offsets = [_run_offsets(runs[i]) for i in np.flatnonzero(multi).tolist()]
    flat = np.fromiter(chain.from_iterable(offsets), dtype=np.int64).reshape(-1, 2)
    per_run = np.fromiter(map(len, offsets), dtype=np.int64, count=len(offsets)) // 2
    more = flat + np.repeat(spans[multi, 0], per_run)[:, None]
    out = np.concatenate([spans[single], more])
    # by start then end (one key each: the spans are distinct; NumPy's stable sort is the fastest here): runs do
    # not overlap, so text order is run order and the order of the spans as found does not matter
    return out[np.argsort(out[:, 0] * (len(text) + 1) + out[:, 1], kind="stable")]


def _digit_spans(batch: TextBatch, patterns) -> list[np.ndarray]:
    """Spans of each pattern that only matches on lines with a digit, run over those lines alone (joined by
    newlines) and mapped back to offsets in the batch."""
    keep = batch.line_of(_spans(_DIGIT_LINE_RE, batch.text)[:, 0])  # one match per such line, in order
    sub = "\n".join([batch.lines[i] for i in keep.tolist()])
    sub_starts = np.zeros(len(keep), dtype=np.int64)
    np.cumsum(batch.line_ends[keep][:-1] - batch.line_starts[keep][:-1] + 1, out=sub_starts[1:])
    shift = batch.line_starts[keep] - sub_starts
    out = []
    for rx in patterns:
        spans = _spans(rx, sub)
        out.append(spans + shift[np.searchsorted(sub_starts, spans[:, 0], side="right") - 1, None])
    return out


def enum_patterns(fields: Mapping) -> dict[str, re.Pattern]:
    """One regex per enum field matching its values and aliases (longest first)."""
    out = {}
    for name, spec in fields.items():
        if spec.type != "enum":
            continue
        words = set(spec.values)
        for alts in spec.aliases.values():
            words.update(alts)
        ordered = sorted(words, key=len, reverse=True)
        alt = "|".join(re.escape(w) for w in ordered)
        out[name] = re.compile(rf"(?<![A-Za-z0-9])(?:{alt})(?![A-Za-z])", re.I)
        _ENUM_WORDS[out[name].pattern] = tuple(ordered)
    return out


# An enum pattern's source -> its words in pattern order (recorded by enum_patterns): the source of its
# faster, exactly equivalent form over lower-cased text (:func:`_lowered_enum`).
_ENUM_WORDS: dict[str, tuple[str, ...]] = {}
# The characters other than ASCII letters that ``re.I`` matches to an ASCII letter (dotted and dotless i, long
# s, Kelvin sign); the first also lower-cases to two characters. A text without them, lower-cased, matches an
# ASCII pattern case-sensitively exactly where the text matches it case-insensitively.
_FOLDS_TO_ASCII = ("\u0130", "\u0131", "\u017f", "\u212a")


def _lowered_text(text: str) -> str | None:
    """``text`` lower-cased when that keeps every offset and case-insensitive matching of ASCII patterns
    (see ``_FOLDS_TO_ASCII``), else None."""
    if any(c in text for c in _FOLDS_TO_ASCII):
        return None
    low = text.lower()
    return low if len(low) == len(text) else None


@lru_cache(maxsize=64)
def _lowered_enum(words: tuple[str, ...]) -> re.Pattern | None:
    """The enum pattern of ``words`` for lower-cased text, case-sensitive and led by the
    class of the words' first characters so that the regex engine skips the positions no word starts at:
    ``[first chars](?<![A-Za-z0-9].)(?:(?<=f1)rest1|(?<=f2)rest2|...)(?![A-Za-z])``. At each position it tries
    the same words in the same order as ``(?<![A-Za-z0-9])(?:w1|w2|...)(?![A-Za-z])`` with ``re.I`` does, so
    it finds the same spans. None when a word has a newline or a character other than ASCII that has a case
    (``€``, ``£`` are kept: ``re.I`` matches a caseless character to itself alone, and no character lower-cases
    to one)."""
    if not words or any(not w or "\n" in w or not all(c.isascii() or c.lower() == c == c.upper() for c in w)
                        for w in words):
        return None
    low = [w.lower() for w in words]
    first = "".join(sorted({re.escape(w[0]) for w in low}))
    branches = "|".join(f"(?<={re.escape(w[0])}){re.escape(w[1:])}" for w in low)
    return re.compile(rf"[{first}](?<![A-Za-z0-9].)(?:{branches})(?![A-Za-z])", re.S)


def _within_lines(rx: re.Pattern) -> bool:
    """Whether an enum pattern's matches stay within a line: one :func:`enum_patterns` made whose values and
    aliases have no newline. Any other pattern may match a newline (``\\n`` written as an escape, a class), so
    it is searched one document at a time."""
    words = _ENUM_WORDS.get(rx.pattern)
    return words is not None and not any("\n" in w for w in words)


def _enum_spans(rx: re.Pattern, batch: TextBatch, low: str | None = None) -> np.ndarray:
    """Spans of an enum pattern in the batch; ``low`` is :func:`_lowered_text` of the batch's text (None: it
    cannot be used, or it was not computed)."""
    if _within_lines(rx):
        fast = _lowered_enum(_ENUM_WORDS.get(rx.pattern, ())) if low is not None and rx.flags & re.I else None
        return _spans(fast, low) if fast is not None else _spans(rx, batch.text)
    # a match could cross a newline, so across two documents: one document at a time
    return np.concatenate([_spans(rx, batch.text[off:end]) + off for off, end in
                           zip(batch.offsets.tolist(), batch.doc_ends.tolist())] or [_spans(rx, "")])


def _name_candidates(text: str) -> np.ndarray:
    """Name spans longer than one character; a span ending in ".." loses its trailing dots."""
    codes = _codes(text)
    spans = _name_spans(text, codes)
    end = spans[:, 1]
    dots = (end - spans[:, 0] >= 2) & (codes[np.maximum(end - 1, 0)] == 46) & (codes[np.maximum(end - 2, 0)] == 46)
    for i in np.flatnonzero(dots).tolist():
        s, e = spans[i]
        spans[i, 1] = s + len(text[s:e].rstrip("."))
    return spans[spans[:, 1] - spans[:, 0] > 1]


def stopped(texts: Sequence[str], stoplist: Collection[str]) -> np.ndarray:
    """Whether each text is a single-word name on the stoplist (case-folded words; the model learns it), each
    distinct text looked at once."""
    verdict = {t: " " not in t and t.casefold() in stoplist for t in set(texts)}
    return np.fromiter(map(verdict.__getitem__, texts), dtype=bool, count=len(texts))


def find_candidates(batch: TextBatch, enum_res: Mapping[str, re.Pattern], stoplist: Collection[str] = ()
                    ) -> Candidates:
    """Every candidate span of the batch's documents (see :class:`Candidates` for the order) but the names on
    ``stoplist`` (:func:`stopped`). The patterns run over the batch's distinct lines (:class:`DistinctLines`),
    but for an enum pattern whose matches may cross a newline (:func:`_within_lines`)."""
    lines = batch.distinct
    ub = lines.batch
    parts = [(TYPE_CODE[typ], -1, lines.spread(spans)) for (typ, _), spans in
             zip(DIGIT_PATTERNS, _digit_spans(ub, [rx for _, rx in DIGIT_PATTERNS]))]
    names = _name_candidates(ub.text)
    if stoplist:
        names = names[~stopped(list(map(ub.text.__getitem__, map(slice, names[:, 0].tolist(), names[:, 1].tolist()))),
                               stoplist)]
    parts.append((TYPE_CODE["name"], -1, lines.spread(names)))
    low = _lowered_text(ub.text) if enum_res else None
    parts += [(TYPE_CODE["enum"], k, lines.spread(_enum_spans(rx, ub, low)) if _within_lines(rx)
               else _enum_spans(rx, batch, None)) for k, rx in enumerate(enum_res.values())]
    spans = np.concatenate([p[2] for p in parts])
    typ = np.concatenate([np.full(len(p[2]), p[0], dtype=np.int64) for p in parts])
    enum = np.concatenate([np.full(len(p[2]), p[1], dtype=np.int64) for p in parts])
    doc = batch.doc_of(spans[:, 0])
    order = np.argsort(doc, kind="stable")  # by document, keeping the order of types and of the text
    start, end = spans[order, 0], spans[order, 1]
    text = batch.text
    return Candidates(doc[order], typ[order], start, end, enum[order],
                      list(map(text.__getitem__, map(slice, start.tolist(), end.tolist()))), tuple(enum_res))
