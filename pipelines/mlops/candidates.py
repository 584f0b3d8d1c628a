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
from functools import lru_cache
from itertools import chain
from typing import Mapping, Sequence

import numpy as np

from metrics.normalize import normalize_value, parse_money

_MONTH = (r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
          r"sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)")
DATE_RE = re.compile(
    rf"(?<![\w./-])(?:\d{{4}}-\d{{1,2}}-\d{{1,2}}|\d{{1,2}}[./-]\d{{1,2}}[./-]\d{{2,4}}"
    rf"|\d{{1,2}}(?:st|nd|rd|th)?[ -]{_MONTH}\.?[ ,-]+\d{{4}}|{_MONTH}\.? \d{{1,2}}(?:st|nd|rd|th)?,? \d{{4}})"
    rf"(?![\w/-])", re.I)
_CUR = r"(?:[A-Z]{3}|[A-Z]{0,2}\$|[€£¥])"
_NUM = r"(?:\d{1,3}(?:(?:,\d{3})+|(?:\.\d{3})+|(?: \d{3})+)[.,]\d{2}|\d+[.,]\d{2})"
MONEY_RE = re.compile(
    rf"(?<![\w.,/-])(?:(?:{_CUR}) ?{_NUM}(?: ?{_CUR}(?![\w$]))?|{_NUM}(?: ?{_CUR}(?![\w$]))?"
    rf"|(?:{_CUR}) ?\d{{1,3}}(?:,\d{{3}})*(?![\d.,]))(?![.,]?\d)")
CODE_RE = re.compile(
    r"(?<![\w/.-])(?:(?=[A-Z0-9./-]*\d)(?=[A-Z0-9./-]*[A-Z])[A-Z0-9]+(?:[./-][A-Z0-9]+)+|[A-Z]{2,5}\d{4,})"
    r"(?![\w/-])")
_WORD = r"(?:[A-Z]\.(?:[A-Z]\.)+|[A-Z][\w&'’-]*\.?)"
NAME_RE = re.compile(rf"{_WORD}(?: (?:(?:of|and|&|the|de) )?{_WORD})*")
DURATION_RE = re.compile(r"(?<![\w.])\d{1,3} (?:months?|years?|weeks?|days?)\b", re.I)
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


def _name_spans(text: str) -> np.ndarray:
    """Name spans in text order: a one-word run unless it is a connector, the spans of longer runs."""
    spans = _spans(NAME_RE, text)  # arrays and strings only: no match objects held (they would tax the GC)
    runs = [text[s:e] for s, e in spans.tolist()]  # the matched runs, without running the pattern again
    multi = np.fromiter((" " in r for r in runs), dtype=bool, count=len(runs))
    single = ~multi & np.fromiter((r.lower() not in _CONNECTORS for r in runs), dtype=bool, count=len(runs))
    offsets = [_run_offsets(runs[i]) for i in np.flatnonzero(multi).tolist()]
    flat = np.fromiter(chain.from_iterable(offsets), dtype=np.int64).reshape(-1, 2)
    per_run = np.fromiter(map(len, offsets), dtype=np.int64, count=len(offsets)) // 2
    more = flat + np.repeat(spans[multi, 0], per_run)[:, None]
    out = np.concatenate([spans[single], more])
    return out[np.lexsort((out[:, 1], out[:, 0]))]  # runs do not overlap: text order is run order (and a
    # run's own spans are distinct), so the order of the spans as found does not matter


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


def _enum_spans(rx: re.Pattern, batch: TextBatch, low: str | None = None) -> np.ndarray:
    """Spans of an enum pattern in the batch; ``low`` is :func:`_lowered_text` of the batch's text (None: it
    cannot be used, or it was not computed)."""
    if "\n" not in rx.pattern:
        fast = _lowered_enum(_ENUM_WORDS.get(rx.pattern, ())) if low is not None and rx.flags & re.I else None
        return _spans(fast, low) if fast is not None else _spans(rx, batch.text)
    # a value with a newline in it could match across two documents: one document at a time
    return np.concatenate([_spans(rx, batch.text[off:end]) + off for off, end in
                           zip(batch.offsets.tolist(), batch.doc_ends.tolist())] or [_spans(rx, "")])


def _name_candidates(text: str) -> np.ndarray:
    """Name spans longer than one character; a span ending in ".." loses its trailing dots."""
    spans = _name_spans(text)
    codes, end = _codes(text), spans[:, 1]
    dots = (end - spans[:, 0] >= 2) & (codes[np.maximum(end - 1, 0)] == 46) & (codes[np.maximum(end - 2, 0)] == 46)
    for i in np.flatnonzero(dots).tolist():
        s, e = spans[i]
        spans[i, 1] = s + len(text[s:e].rstrip("."))
    return spans[spans[:, 1] - spans[:, 0] > 1]


def find_candidates(batch: TextBatch, enum_res: Mapping[str, re.Pattern]) -> Candidates:
    """Every candidate span of the batch's documents (see :class:`Candidates` for the order)."""
    parts = [(TYPE_CODE[typ], -1, spans) for (typ, _), spans in
             zip(DIGIT_PATTERNS, _digit_spans(batch, [rx for _, rx in DIGIT_PATTERNS]))]
    parts.append((TYPE_CODE["name"], -1, _name_candidates(batch.text)))
    low = _lowered_text(batch.text) if enum_res else None
    parts += [(TYPE_CODE["enum"], k, _enum_spans(rx, batch, low)) for k, rx in enumerate(enum_res.values())]
    spans = np.concatenate([p[2] for p in parts])
    typ = np.concatenate([np.full(len(p[2]), p[0], dtype=np.int64) for p in parts])
    enum = np.concatenate([np.full(len(p[2]), p[1], dtype=np.int64) for p in parts])
    doc = batch.doc_of(spans[:, 0])
    order = np.argsort(doc, kind="stable")  # by document, keeping the order of types and of the text
    start, end = spans[order, 0], spans[order, 1]
    text = batch.text
    return Candidates(doc[order], typ[order], start, end, enum[order],
                      [text[s:e] for s, e in zip(start.tolist(), end.tolist())], tuple(enum_res))


# ---------------------------------------------------------------------------------------------- features
N_NUMERIC = 12
PREFIXES = ("L", "L1", "R", "S", "P", "O")  # context words: left, just left, right, start of the line,
# the line above, the span's own words; then the span type (Y), the document class (C), the enum field (E)
_UPPER_DEL = str.maketrans("", "", "ABCDEFGHIJKLMNOPQRSTUVWXYZ")
_ALPHA_DEL = str.maketrans("", "", "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")


@dataclass(frozen=True)
class TokenFeatures:
    """The token features of the candidates as unique (row, key) pairs sorted by row then key; ``names[key]``
    is the token ("L:due", "P:amount", "Y:date", ...)."""
    rows: np.ndarray
    keys: np.ndarray
    names: list[str]


@dataclass(frozen=True)
class _Lines:
    """Each line's tokens (lower-cased ASCII words; each line lower-cased on its own) and the line above."""
    words: dict[str, int]  # word -> id
    tok_word: np.ndarray
    tok_start: np.ndarray  # line * stride + offset, so that searches stay within a line
    tok_end: np.ndarray
    stride: int
    begin: np.ndarray  # per line: index of its first token, and one past its last
    stop: np.ndarray
    prev: np.ndarray  # per line: the closest non-blank line above within three lines of its document, or -1
    first: np.ndarray  # per document: its first line, and its number of lines
    count: np.ndarray


def _line_tokens(batch: TextBatch) -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray]:
    """(words, starts, ends, line) of every token of the batch."""
    low = batch.text.lower()
    if len(low) == len(batch.text):  # one character for one: tokens of the whole text are those of its lines
        letter = _codes(low)
        edge = np.diff(((letter >= 97) & (letter <= 122)).astype(np.int8), prepend=0, append=0)
        starts = np.flatnonzero(edge == 1)
        return TOKEN_RE.findall(low), starts, np.flatnonzero(edge == -1), batch.line_of(starts)
    words, starts, ends, line = [], [], [], []
    for i, (text, ls) in enumerate(zip(batch.lines, batch.line_starts.tolist())):
        for m in TOKEN_RE.finditer(text.lower()):
            words.append(m.group())
            starts.append(m.start() + ls)
            ends.append(m.end() + ls)
            line.append(i)
    return words, *(np.asarray(x, dtype=np.int64) for x in (starts, ends, line))


def _lines(batch: TextBatch) -> _Lines:
    words, starts, ends, tok_line = _line_tokens(batch)
    ids: dict[str, int] = {}
    tok_word = np.asarray([ids.setdefault(w, len(ids)) for w in words], dtype=np.int64)
    n_lines = len(batch.lines)
    begin = np.searchsorted(tok_line, np.arange(n_lines), side="left")
    stop = np.searchsorted(tok_line, np.arange(n_lines), side="right")
    first = np.searchsorted(batch.line_starts, batch.offsets)
    line_first = first[batch.doc_of(batch.line_starts)]
    filled = np.fromiter((bool(t.strip()) for t in batch.lines), dtype=bool, count=n_lines)
    prev = np.full(n_lines, -1, dtype=np.int64)
    for up in (3, 2, 1):  # the closest wins: written last
        above = np.arange(n_lines) - up
        ok = above >= line_first
        ok[ok] = filled[above[ok]]
        prev[ok] = above[ok]
    stride = 4 * (len(batch.text) + 1)  # above any offset (a line lower-cased is at most twice as long)
    return _Lines(ids, tok_word, tok_line * stride + starts, tok_line * stride + ends, stride, begin, stop, prev, first,
                  np.diff(np.append(first, n_lines)))


def _window(lo: np.ndarray, hi: np.ndarray, width: int) -> tuple[np.ndarray, np.ndarray]:
    """(row, token index) for the tokens lo[row] .. hi[row] - 1 of each row (at most ``width``)."""
    idx = lo[:, None] + np.arange(width)
    ok = idx < hi[:, None]
    return np.nonzero(ok)[0], idx[ok]


@lru_cache(maxsize=1 << 16)
def _own_parts(t: str) -> tuple[tuple[str, ...], float, float, float]:
    """A span text's first four words (lower-cased) and [number of those words, upper-case share of its ASCII
    letters, starts upper], remembered (a month of documents repeats its span texts)."""
    own = tuple(TOKEN_RE.findall(t.lower())[:4])
    n_alpha = len(t) - len(t.translate(_ALPHA_DEL))
    n_upper = len(t) - len(t.translate(_UPPER_DEL))
    return own, float(len(own)), n_upper / n_alpha if n_alpha else 0.0, float(t[:1].isupper())


def _own(texts: Sequence[str], words: dict[str, int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For each distinct span text: ids of its first four words (-1 padded, new words added to ``words`` in
    text order) and its numeric features [number of those words, upper-case share of its ASCII letters,
    starts upper]."""
    ids = np.full((len(texts), 4), -1, dtype=np.int64)
    parts = [_own_parts(t) for t in texts]
    for i, (own, *_) in enumerate(parts):
        if own:
            ids[i, :len(own)] = [words.setdefault(w, len(words)) for w in own]
    num = np.array([p[1:] for p in parts], dtype=float).reshape(len(texts), 3)
    return ids, num[:, 0], num[:, 1:]


def _ranks(cands: Candidates, typ: str, value, reverse: bool) -> np.ndarray:
    """Rank of each candidate of type ``typ`` among the distinct values of that type in its document (-1
    for the other candidates)."""
    out = np.full(len(cands), -1.0)
    by_doc: dict[int, list[int]] = {}
    for r in np.flatnonzero(cands.type == TYPE_CODE[typ]).tolist():
        by_doc.setdefault(int(cands.doc[r]), []).append(r)
    for rows in by_doc.values():
        vals = [value(cands.text[r]) for r in rows]
        rank = {v: i for i, v in enumerate(sorted(set(vals), reverse=reverse))}
        out[rows] = [rank[v] for v in vals]
    return out


def _context_keys(lines: _Lines, cands: Candidates, line: np.ndarray) -> tuple[list, np.ndarray]:
    """(row, word key) pairs of the context words, word key = prefix index * n_words + word id, and the
    number of tokens left of each span on its line."""
    key = line * lines.stride
    kl = np.searchsorted(lines.tok_end, key + cands.start, side="right")
    kr = np.searchsorted(lines.tok_start, key + cands.end, side="left")
    begin, stop, prev = lines.begin[line], lines.stop[line], lines.prev[line]
    p_begin = np.where(prev >= 0, lines.begin[prev], 0)
    p_stop = np.where(prev >= 0, np.minimum(p_begin + 4, lines.stop[prev]), 0)
    windows = [_window(np.maximum(begin, kl - 4), kl, 4),  # L: up to four words left of the span
               _window(np.where(kl > begin, kl - 1, kl), kl, 1),  # L1: the word just left
               _window(kr, np.minimum(kr + 2, stop), 2),  # R: two words right
               _window(begin, np.minimum(begin + 3, stop), 3),  # S: the line's first three words
               _window(p_begin, p_stop, 4)]  # P: the first four words of the line above
    n_words = len(lines.words)
    pairs = [(rows, p * n_words + lines.tok_word[idx]) for p, (rows, idx) in enumerate(windows)]
    return pairs, kl - begin


def _special_keys(cands: Candidates, doc_classes: Sequence[str | None], base: int) -> tuple[list, list[str]]:
    """(row, key) pairs of the span type (Y), the document class (C) and the enum field (E) tokens, keys
    from ``base`` on, and their names."""
    names = [f"Y:{t}" for t in TYPES]
    classes: dict[str, int] = {}
    doc_cls = np.asarray([classes.setdefault(f"C:{c}" if c else "C:?", len(classes)) for c in doc_classes],
                         dtype=np.int64)
    names += list(classes) + [f"E:{f}" for f in cands.enum_fields]
    rows = np.arange(len(cands))
    is_enum = np.flatnonzero(cands.enum >= 0)
    pairs = [(rows, base + cands.type), (rows, base + len(TYPES) + doc_cls[cands.doc]),
             (is_enum, base + len(TYPES) + len(classes) + cands.enum[is_enum])]
    return pairs, names


def _group_sizes(key: np.ndarray) -> np.ndarray:
    """For each element, how many elements have its key."""
    order = np.argsort(key, kind="stable")
    ordered = key[order]
    group = np.cumsum(np.r_[True, ordered[1:] != ordered[:-1]]) - 1 if len(key) else ordered
    out = np.empty(len(key), dtype=np.int64)
    out[order] = np.bincount(group)[group]
    return out


def _token_features(pairs: list, words: dict[str, int], special: list[str]) -> TokenFeatures:
    """Unique (row, key) pairs sorted, keys renumbered to those used."""
    n_words = len(words)
    n_keys = len(PREFIXES) * n_words + len(special)
    both = np.sort(np.concatenate([np.asarray(r, dtype=np.int64) * n_keys + k for r, k in pairs]))
    both = both[np.r_[True, both[1:] != both[:-1]]] if len(both) else both
    rows, keys = both // n_keys, both % n_keys
    present = np.bincount(keys, minlength=n_keys) > 0
    used = np.flatnonzero(present)
    keys = (np.cumsum(present) - 1)[keys]  # renumbered in the same order
    word_list = list(words)
    names = [f"{PREFIXES[k // n_words]}:{word_list[k % n_words]}" if k < len(PREFIXES) * n_words
             else special[k - len(PREFIXES) * n_words] for k in used.tolist()]
    return TokenFeatures(rows, keys.reshape(-1), names)


def candidate_features(batch: TextBatch, cands: Candidates, doc_classes: Sequence[str | None]
                       ) -> tuple[np.ndarray, TokenFeatures]:
    """Numeric features (float32, ``N_NUMERIC`` columns) and token features ("L:due", "P:amount", ...) of
    each candidate; ``doc_classes`` gives each document's class (None: unknown)."""
    lines = _lines(batch)
    tids: dict[str, int] = {}
    tid = np.asarray([tids.setdefault(t, len(tids)) for t in cands.text], dtype=np.int64)
    own_ids, n_own, own_num = _own(list(tids), lines.words)  # adds the spans' own words to lines.words
    line = batch.line_of(cands.start)
    pairs, k_left = _context_keys(lines, cands, line)
    n_words = len(lines.words)
    rows, idx = np.nonzero(own_ids[tid] >= 0)
    pairs.append((rows, (len(PREFIXES) - 1) * n_words + own_ids[tid][rows, idx]))  # O: the span's own words
    special, names = _special_keys(cands, doc_classes, len(PREFIXES) * n_words)
    tokens = _token_features(pairs + special, lines.words, names)

    ls, le = batch.line_starts[line], batch.line_ends[line]
    local = line - lines.first[cands.doc]
    count = _group_sizes(cands.doc * max(1, len(tids)) + tid)  # spans of the same text in the document
    text = batch.text
    left = k_left > 0
    left[~left] = [bool(text[a:b].strip()) for a, b in zip(ls[~left].tolist(), cands.start[~left].tolist())]
    m_rank = _ranks(cands, "money", lambda t: parse_money(t) or 0, reverse=True)
    d_rank = _ranks(cands, "date", lambda t: normalize_value(t, "date"), reverse=False)
    numeric = np.column_stack([
        local / np.maximum(1, lines.count[cands.doc]), local, (cands.start - ls) / np.maximum(1, le - ls),
        cands.end - cands.start, n_own[tid], own_num[tid, 0], m_rank, m_rank == 0, d_rank,
        count, left, own_num[tid, 1]]) if len(cands) else np.zeros((0, N_NUMERIC))
    return numeric.astype(np.float32), tokens
