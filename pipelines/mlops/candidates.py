"""Candidate spans from typed patterns, and their context features.

The extractor is learned: these patterns only propose spans of a *type* (date, money, code, name,
duration, enum value); which span is the due date or the issuer is decided by per-field XGBoost models on
the context features computed here. Nothing here knows a template.
"""

from __future__ import annotations

import bisect
import re
from typing import Mapping, NamedTuple, Sequence

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
_CONNECTORS = {"of", "and", "&", "the", "de"}

TYPES = ("date", "money", "code", "name", "duration", "enum")
FIELD_CANDIDATE_TYPES = {"date": ("date",), "money": ("money",), "enum": ("enum",),
                         "string": ("code", "name", "duration"), "list": ("code", "name")}


class Candidate(NamedTuple):
    type: str
    text: str
    start: int
    end: int
    enum_field: str | None = None  # for type "enum": the field whose value/alias matched


def _name_spans(text: str) -> list[tuple[int, int]]:
    spans = []
    for m in NAME_RE.finditer(text):
        words = [(w.start() + m.start(), w.end() + m.start()) for w in re.finditer(r"\S+", m.group())]
        seen = set()
        for i in range(len(words)):  # every suffix that starts on a capitalised word
            w = text[words[i][0]:words[i][1]]
            if w.lower() in _CONNECTORS:
                continue
            seen.add((words[i][0], words[-1][1]))
        pieces = re.split(r" (?:and|&) ", m.group())
        if len(pieces) > 1:
            pos = m.start()
            for piece in pieces:
                s = text.index(piece, pos)
                seen.add((s, s + len(piece)))
                pos = s + len(piece)
        spans.extend(sorted(seen))
    return spans


def enum_patterns(fields: Mapping) -> dict[str, re.Pattern]:
    """One regex per enum field matching its values and aliases (longest first)."""
    out = {}
    for name, spec in fields.items():
        if spec.type != "enum":
            continue
        words = set(spec.values)
        for alts in spec.aliases.values():
            words.update(alts)
        alt = "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))
        out[name] = re.compile(rf"(?<![A-Za-z0-9])(?:{alt})(?![A-Za-z])", re.I)
    return out


def find_candidates(text: str, enum_res: Mapping[str, re.Pattern]) -> list[Candidate]:
    cands: list[Candidate] = []
    for typ, rx in (("date", DATE_RE), ("money", MONEY_RE), ("code", CODE_RE), ("duration", DURATION_RE)):
        cands.extend(Candidate(typ, m.group(), m.start(), m.end()) for m in rx.finditer(text))
    for s, e in _name_spans(text):
        span = text[s:e].rstrip(".") if text[s:e].endswith("..") else text[s:e]
        if len(span) > 1:
            cands.append(Candidate("name", span, s, s + len(span)))
    for name, rx in enum_res.items():
        cands.extend(Candidate("enum", m.group(), m.start(), m.end(), enum_field=name) for m in rx.finditer(text))
    return cands


class LineIndex:
    """Map a character offset to its line, with each line's tokens computed once."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.starts = [0] + [m.end() for m in re.finditer("\n", text)]
        self._tokens: dict[int, tuple[list[str], list[int], list[int]]] = {}
        self._prev: dict[int, list[str]] = {}

    def line_of(self, pos: int) -> int:
        return bisect.bisect_right(self.starts, pos) - 1

    def bounds(self, line: int) -> tuple[int, int]:
        start = self.starts[line]
        end = self.starts[line + 1] - 1 if line + 1 < len(self.starts) else len(self.text)
        return start, end

    def tokens(self, line: int) -> tuple[list[str], list[int], list[int]]:
        """(tokens, start offsets, end offsets) of a line, lower-cased letters only."""
        got = self._tokens.get(line)
        if got is None:
            s, e = self.bounds(line)
            toks, starts, ends = [], [], []
            for m in TOKEN_RE.finditer(self.text[s:e].lower()):
                toks.append(m.group())
                starts.append(m.start() + s)
                ends.append(m.end() + s)
            got = self._tokens[line] = (toks, starts, ends)
        return got

    def prev_tokens(self, line: int) -> list[str]:
        """First four tokens of the closest non-empty line above (within three lines)."""
        got = self._prev.get(line)
        if got is None:
            got = []
            for k in range(line - 1, max(-1, line - 4), -1):
                toks = self.tokens(k)[0]
                if toks or self.text[slice(*self.bounds(k))].strip():
                    got = toks[:4]
                    break
            self._prev[line] = got
        return got


N_NUMERIC = 12
_UPPER_DEL = str.maketrans("", "", "ABCDEFGHIJKLMNOPQRSTUVWXYZ")
_ALPHA_DEL = str.maketrans("", "", "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")


def candidate_features(text: str, cands: Sequence[Candidate], doc_class: str | None
                       ) -> tuple[list[list[float]], list[list[str]]]:
    """Numeric features and token features ("L:due", "P:amount", ...) for each candidate."""
    idx = LineIndex(text)
    n_lines = max(1, len(idx.starts))
    money_vals = {c.start: parse_money(c.text) or 0 for c in cands if c.type == "money"}
    money_rank = {v: i for i, v in enumerate(sorted(set(money_vals.values()), reverse=True))}
    date_vals = {c.start: normalize_value(c.text, "date") for c in cands if c.type == "date"}
    date_rank = {v: i for i, v in enumerate(sorted(set(date_vals.values())))}
    counts: dict[str, int] = {}
    for c in cands:
        counts[c.text] = counts.get(c.text, 0) + 1
    cls_tok = f"C:{doc_class}" if doc_class else "C:?"
    numeric, tokens = [], []
    per_line: dict[int, tuple] = {}  # prefixed token lists of a line, built once
    for c in cands:
        line = idx.line_of(c.start)
        ls, le = idx.bounds(line)
        toks_l, starts_l, ends_l = idx.tokens(line)
        cached = per_line.get(line)
        if cached is None:
            cached = per_line[line] = (["L:" + t for t in toks_l], ["L1:" + t for t in toks_l],
                                       ["R:" + t for t in toks_l],
                                       ["S:" + t for t in toks_l[:3]] + ["P:" + t for t in idx.prev_tokens(line)])
        lpref, l1pref, rpref, static = cached
        k_left = bisect.bisect_right(ends_l, c.start)
        k_right = bisect.bisect_left(starts_l, c.end)
        toks = [f"Y:{c.type}", cls_tok]
        if c.enum_field:
            toks.append(f"E:{c.enum_field}")
        toks += lpref[max(0, k_left - 4):k_left]
        if k_left:
            toks.append(l1pref[k_left - 1])
        toks += rpref[k_right:k_right + 2]
        toks += static
        own = TOKEN_RE.findall(c.text.lower())[:4]
        toks += ["O:" + t for t in own]
        n_alpha = len(c.text) - len(c.text.translate(_ALPHA_DEL))
        n_upper = len(c.text) - len(c.text.translate(_UPPER_DEL))
        m_rank = money_rank.get(money_vals.get(c.start), -1) if c.type == "money" else -1
        d_rank = date_rank.get(date_vals.get(c.start), -1) if c.type == "date" else -1
        numeric.append([line / n_lines, line, (c.start - ls) / max(1, le - ls), len(c.text), len(own),
                        n_upper / n_alpha if n_alpha else 0.0, m_rank, float(m_rank == 0), d_rank, counts[c.text],
                        float(k_left > 0 or bool(text[ls:c.start].strip())), float(c.text[:1].isupper())])
        tokens.append(toks)
    return numeric, tokens
