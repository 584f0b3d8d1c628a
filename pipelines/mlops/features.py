"""MLOps extractor, features: for each candidate span, numeric features and context words (left, right, line
start, previous line, own words, document class), built for a whole batch with array operations."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from metrics.normalize import normalize_value, parse_money
from pipelines.mlops.candidates import TOKEN_RE, TYPE_CODE, TYPES, Candidates, TextBatch, _codes

# ---------------------------------------------------------------------------------------------- features
N_NUMERIC = 12
PREFIXES = ("L", "L1", "R", "S", "P", "O")  # context words: left, just left, right, start of the line,
# the line above, the span's own words; then the span type (Y), the document class (C), the enum field (E)


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


def _words(low: str) -> tuple[list[str], np.ndarray, np.ndarray]:
    """(words, starts, ends) of ``TOKEN_RE`` (runs of ASCII lower-case letters) in a lower-cased text, the
    offsets from the letters' edges."""
    letter = _codes(low)
    edge = np.diff(((letter >= 97) & (letter <= 122)).astype(np.int8), prepend=0, append=0)
    return TOKEN_RE.findall(low), np.flatnonzero(edge == 1), np.flatnonzero(edge == -1)


def _line_tokens(batch: TextBatch) -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray]:
    """(words, starts, ends, line) of every token of the batch."""
    low = batch.text.lower()
    if len(low) == len(batch.text):  # one character for one: tokens of the whole text are those of its lines
        words, starts, ends = _words(low)
        return words, starts, ends, batch.line_of(starts)
    words, starts, ends, line = [], [], [], []
    for i, (text, ls) in enumerate(zip(batch.lines, batch.line_starts.tolist())):
        for m in TOKEN_RE.finditer(text.lower()):
            words.append(m.group())
            starts.append(m.start() + ls)
            ends.append(m.end() + ls)
            line.append(i)
    return words, *(np.asarray(x, dtype=np.int64) for x in (starts, ends, line))


def _lines(batch: TextBatch) -> _Lines:
    """The batch's lines, their tokens found once per distinct line (:attr:`TextBatch.distinct`) and copied to
    each copy of it: the same tokens, in the same order, as in the batch's text."""
    distinct = batch.distinct
    words, starts, ends, found_on = _line_tokens(distinct.batch)
    # in order of first appearance (the distinct lines are in the order of their first appearance, so each
    # word first appears in the same order as in the batch)
    ids = {w: i for i, w in enumerate(dict.fromkeys(words))}
    source, tok_line = distinct.copies(found_on)
    tok_word = np.fromiter(map(ids.__getitem__, words), dtype=np.int64, count=len(words))[source]
    shift = distinct.line_starts[tok_line] - distinct.batch.offsets[distinct.of_line[tok_line]]
    starts, ends = starts[source] + shift, ends[source] + shift
    n_lines = len(batch.lines)
    begin = np.searchsorted(tok_line, np.arange(n_lines), side="left")
    stop = np.searchsorted(tok_line, np.arange(n_lines), side="right")
    first = np.searchsorted(batch.line_starts, batch.offsets)
    line_first = first[batch.doc_of(batch.line_starts)]
    filled = np.fromiter((bool(t.strip()) for t in distinct.batch.lines), dtype=bool,
                         count=len(distinct.batch.lines))[distinct.of_line]
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


def _own(texts: Sequence[str], words: dict[str, int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For each distinct span text: ids of its first four words (lower-cased ASCII words, as ``TOKEN_RE``
    finds them in the text lower-cased; -1 padded; new words added to ``words`` in text order, then word
    order) and its numeric features [number of those words, upper-case share of its ASCII letters, starts
    upper]. All texts are handled at once: lower-casing is per character but for the final sigma (never an
    ASCII letter), so the words of the texts lower-cased one by one and joined are those of each text."""
    lows = list(map(str.lower, texts))
    low = "\n".join(lows)
    starts = np.zeros(len(texts), dtype=np.int64)  # where each lower-cased text starts in ``low``
    np.cumsum(np.fromiter(map(len, lows), dtype=np.int64, count=len(lows))[:-1] + 1, out=starts[1:])
    found, tok_start, _ = _words(low)
    tok_text = np.searchsorted(starts, tok_start, side="right") - 1
    first = np.searchsorted(tok_text, np.arange(len(texts)))  # each text's first word
    rank = np.arange(len(tok_start)) - first[tok_text]
    keep = rank < 4
    ids = np.full((len(texts), 4), -1, dtype=np.int64)
    ids[tok_text[keep], rank[keep]] = [words.setdefault(found[i], len(words)) for i in np.flatnonzero(keep).tolist()]
    n_own = np.bincount(tok_text[keep], minlength=len(texts)).astype(float)
    codes = _codes("\n".join(texts))
    ends = np.cumsum(np.fromiter(map(len, texts), dtype=np.int64, count=len(texts)) + 1) - 1
    is_upper = (codes >= 65) & (codes <= 90)
    upper = np.concatenate([[0], np.cumsum(is_upper)])
    alpha = np.concatenate([[0], np.cumsum(is_upper | ((codes >= 97) & (codes <= 122)))])
    begin = np.concatenate([[0], ends[:-1] + 1]) if len(texts) else ends
    n_upper, n_alpha = upper[ends] - upper[begin], alpha[ends] - alpha[begin]
    share = np.where(n_alpha > 0, n_upper / np.maximum(n_alpha, 1), 0.0)
    starts_upper = np.fromiter((t[:1].isupper() for t in texts), dtype=float, count=len(texts))
    return ids, n_own, np.column_stack([share, starts_upper]).reshape(len(texts), 2)


def _ranks(cands: Candidates, typ: str, value, reverse: bool) -> np.ndarray:
    """Rank of each candidate of type ``typ`` among the distinct values of that type in its document (-1
    for the other candidates). ``value`` is called once per distinct span text; the batch's distinct values
    are sorted once (Python's order, so equal values such as 0 and Decimal("0.00") are one value) and each
    document's ranks read off that order."""
    out = np.full(len(cands), -1.0)
    rows = np.flatnonzero(cands.type == TYPE_CODE[typ])
    if not rows.size:
        return out
    by_text: dict[str, object] = {}
    vals = [by_text[t] if t in by_text else by_text.setdefault(t, value(t)) for t in map(cands.text.__getitem__,
                                                                                       rows.tolist())]
    code = {v: i for i, v in enumerate(sorted(set(vals), reverse=reverse))}
    g = np.fromiter(map(code.__getitem__, vals), dtype=np.int64, count=len(vals))
    doc = cands.doc[rows]
    key = doc * len(code) + g
    distinct = np.unique(key)  # by document, then by rank in the batch
    first = np.searchsorted(distinct // len(code), doc)  # each document's first distinct value
    out[rows] = np.searchsorted(distinct, key) - first
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
    # the stable sort (the same result for integers) is several times faster than the default one here: the
    # pairs come in long runs already sorted by row
    both = np.sort(np.concatenate([np.asarray(r, dtype=np.int64) * n_keys + k for r, k in pairs]), kind="stable")
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
