"""The extractor's candidate generation: its faster forms find exactly the spans of the plain ones."""

from __future__ import annotations

import random
import re
from types import SimpleNamespace

import numpy as np

from conftest import TECHCORP

from pipelines.mlops import candidates as C
from pipelines.mlops import features as F

TRICKY = ["\u0130", "\u0131", "\u017f", "\u212a", "\u00e9", "\u00c9", "\u20ac", "\u00a3", "\u00df", "\n", " ", ".",
          "$", "-", "/", "&", "0", "7", "A", "a"]


def _enum_res() -> dict[str, re.Pattern]:
    from harness.golden import load_golden_set

    fields = dict(load_golden_set(TECHCORP).manifest.fields)
    fields["extra"] = SimpleNamespace(type="enum", values=["Net 30", "K-Line", "Sigma", "A$"],
                                      aliases={"Net 30": ["n30", "net30 days"], "Sigma": ["ss"]})
    return C.enum_patterns(fields)


def _random_text(rng: random.Random, words: list[str]) -> str:
    parts = []
    for _ in range(rng.randrange(1, 40)):
        r = rng.random()
        if r < 0.4:
            w = rng.choice(words)
            parts.append("".join(ch.upper() if rng.random() < 0.3 else ch for ch in w))
        elif r < 0.7:
            parts.append(rng.choice(TRICKY))
        else:
            parts.append(rng.choice(["the", "due", "Total", "x", "in", "kelvin", "sis"]))
        parts.append(rng.choice(["", " ", "  ", "\n", ",", "."]))
    return "".join(parts)


def test_enum_spans_on_lowered_text_equal_plain_regex():
    enum_res = _enum_res()
    words = [w for words in C._ENUM_WORDS.values() for w in words]
    rng = random.Random(13)
    used_fast = 0
    for _ in range(400):
        texts = [_random_text(rng, words) for _ in range(rng.randrange(1, 4))]
        batch = C.join_texts(texts)
        low = C._lowered_text(batch.text)
        for rx in enum_res.values():
            want = C._spans(rx, batch.text)
            got = C._enum_spans(rx, batch, low)
            assert np.array_equal(got, want.reshape(-1, 2)), (rx.pattern, batch.text)
            used_fast += low is not None and C._lowered_enum(C._ENUM_WORDS[rx.pattern]) is not None
    assert used_fast > 100  # the fast form was exercised, and texts with the special characters fell back


def test_candidates_of_golden_documents_unchanged():
    from harness.golden import load_golden_set

    golden = load_golden_set(TECHCORP)
    texts = [it.text for it in golden.items("test", kinds=("document",))]
    batch = C.join_texts(texts)
    enum_res = C.enum_patterns(golden.manifest.fields)
    low = C._lowered_text(batch.text)
    assert low is not None
    for rx in enum_res.values():
        assert np.array_equal(C._enum_spans(rx, batch, low), C._spans(rx, batch.text))
    runs = re.compile(C.NAME_RE.pattern).findall(batch.text)
    spans = C._spans(C.NAME_RE, batch.text)
    assert runs == [batch.text[s:e] for s, e in spans.tolist()]
    for rx in (C.NAME_RE, C.DATE_RE, C.MONEY_RE, C.CODE_RE, C.DURATION_RE):  # split-based matching = finditer
        got, found = C._matches(rx, batch.text)
        assert np.array_equal(got, C._spans(rx, batch.text)) and found == rx.findall(batch.text)


def _name_spans_reference(text: str) -> np.ndarray:
    """The name spans as the extractor found them before runs were remembered (one run at a time, parts
    searched in the whole text)."""
    spans = []
    for m in C.NAME_RE.finditer(text):
        run, base = m.group(), m.start()
        if " " not in run:
            if run.lower() not in C._CONNECTORS:
                spans.append((base, base + len(run)))
            continue
        seen, pos = set(), base
        for w in run.split(" "):
            if w.lower() not in C._CONNECTORS:
                seen.add((pos, base + len(run)))
            pos += len(w) + 1
        pieces = C._AND_RE.split(run) if " and " in run or " & " in run else ()
        if len(pieces) > 1:
            pos = base
            for piece in pieces:
                s = text.index(piece, pos)
                seen.add((s, s + len(piece)))
                pos = s + len(piece)
        spans += seen
    out = np.asarray(spans, dtype=np.int64).reshape(-1, 2)
    return out[np.lexsort((out[:, 1], out[:, 0]))]


def test_name_spans_equal_reference():
    from harness.golden import load_golden_set

    golden = load_golden_set(TECHCORP)
    text = "\n".join(it.text for it in golden.items("test", kinds=("document",)))
    assert np.array_equal(C._name_spans(text), _name_spans_reference(text))
    rng = random.Random(5)
    words = ["Smith", "and", "Jones", "&", "Co.", "The", "of", "Bank", "Bank of", "A.B.", "and Co", "d", "Ltd"]
    for _ in range(300):
        text = "".join(rng.choice(words) + rng.choice([" ", " ", "\n", ", ", "  "]) for _ in range(rng.randrange(1, 30)))
        assert np.array_equal(C._name_spans(text), _name_spans_reference(text)), text


def test_own_features_equal_reference():
    texts = ["ACME Corp", "Net 30", "", "ß-Straße", "İstanbul Ltd", "a b c d e f", "U.S. dollars", "30 days", "x",
             "", "ΣΑΣ Bank", "two\nlines Here", "Kelvin \u212a sign", "ﬁne print", "ABC DEF GHI JKL MNO"]
    words: dict[str, int] = {"x": 0}
    ids, n_own, num = F._own(texts, words)
    ref_words: dict[str, int] = {"x": 0}
    for i, t in enumerate(texts):
        own = C.TOKEN_RE.findall(t.lower())[:4]
        assert ids[i].tolist() == [ref_words.setdefault(w, len(ref_words)) for w in own] + [-1] * (4 - len(own))
        n_alpha = sum(c.isascii() and c.isalpha() for c in t)
        n_upper = sum(c.isascii() and c.isupper() for c in t)
        assert (n_own[i], *num[i]) == (len(own), n_upper / n_alpha if n_alpha else 0.0, float(t[:1].isupper()))
    assert words == ref_words and list(words) == list(ref_words)


def test_prediction_matrix_equals_the_full_matrix_columns():
    """Prediction builds only the columns the field models split on: the same sparse matrix, entry for entry
    and with the same stored entries (to XGBoost an absent entry is missing, not zero), as building every
    column and selecting them."""
    import scipy.sparse as sp

    from harness.golden import load_golden_set
    from pipelines.mlops.model import _matrix

    golden = load_golden_set(TECHCORP)
    docs = golden.items("test", kinds=("document",))[:80]
    batch = C.join_texts([d.text for d in docs])
    cands = C.find_candidates(batch, C.enum_patterns(golden.manifest.fields))
    numeric, tokens = F.candidate_features(batch, cands, [d.label for d in docs])
    numeric[::7, 3] = 0.0  # zeros in a kept numeric column are not stored either
    vocab = {t: i for i, t in enumerate(sorted(set(tokens.names))[::2])}  # half the tokens known
    full = _matrix(numeric, tokens, vocab)
    # the reference, built as before: the numeric part as scipy stores a dense array (zeros left out), one
    # 0/1 column per known token, side by side
    lookup = np.asarray([vocab.get(t, -1) for t in tokens.names], dtype=np.int64)[tokens.keys]
    known = lookup >= 0
    token_part = sp.csr_matrix((np.ones(int(known.sum()), dtype=np.float32), (tokens.rows[known], lookup[known])),
                               shape=(len(numeric), len(vocab)))
    ref = sp.hstack([sp.csr_matrix(numeric), token_part], format="csr")
    ref.sort_indices()
    assert full.dtype == ref.dtype == np.float32 and full.shape == ref.shape
    assert np.array_equal(full.indptr, ref.indptr) and np.array_equal(full.indices, ref.indices)
    assert np.array_equal(full.data, ref.data)
    for columns in (np.arange(full.shape[1]), np.array([0, 3, 5, 11, 12, 40, 41, full.shape[1] - 1]),
                    np.arange(F.N_NUMERIC, full.shape[1], 3)):
        got, want = _matrix(numeric, tokens, vocab, columns), full[:, columns].tocsr()
        want.sort_indices()
        assert got.shape == want.shape and got.has_sorted_indices
        assert np.array_equal(got.indptr, want.indptr) and np.array_equal(got.indices, want.indices)
        assert np.array_equal(got.data, want.data)



def test_ranks_equal_ranking_each_document_on_its_own():
    """Money and date ranks come from one sort of the batch's distinct values: the same ranks as sorting each
    document's distinct values on its own (equal values such as 0 and Decimal("0.00") are one value)."""
    from harness.golden import load_golden_set
    from metrics.normalize import normalize_value, parse_money

    golden = load_golden_set(TECHCORP)
    docs = golden.items("test", kinds=("document",))[:120]
    texts = [d.text for d in docs]
    texts[5] += "\nTotal USD 0.00 and 0,00 EUR and 1.0 and 1.00 USD; due 2024-03-04 or 03/04/2024"
    texts[6] = texts[5]  # the same values in two documents
    batch = C.join_texts(texts)
    cands = C.find_candidates(batch, C.enum_patterns(golden.manifest.fields))
    for typ, value, reverse in (("money", lambda t: parse_money(t) or 0, True),
                                ("date", lambda t: normalize_value(t, "date"), False)):
        got = F._ranks(cands, typ, value, reverse)
        want = np.full(len(cands), -1.0)
        by_doc: dict[int, list[int]] = {}
        for r in np.flatnonzero(cands.type == C.TYPE_CODE[typ]).tolist():
            by_doc.setdefault(int(cands.doc[r]), []).append(r)
        for rows in by_doc.values():
            vals = [value(cands.text[r]) for r in rows]
            rank = {v: i for i, v in enumerate(sorted(set(vals), reverse=reverse))}
            want[rows] = [rank[v] for v in vals]
        assert np.array_equal(got, want), typ
        assert (got >= 0).sum() == (cands.type == C.TYPE_CODE[typ]).sum() > 100


def _candidates_over_the_whole_text(batch: C.TextBatch, enum_res) -> C.Candidates:
    """The candidates as found before the patterns ran over the distinct lines: every pattern over the whole
    batch text (the digit patterns over its lines with a digit)."""
    parts = [(C.TYPE_CODE[typ], -1, spans) for (typ, _), spans in
             zip(C.DIGIT_PATTERNS, C._digit_spans(batch, [rx for _, rx in C.DIGIT_PATTERNS]))]
    parts.append((C.TYPE_CODE["name"], -1, C._name_candidates(batch.text)))
    low = C._lowered_text(batch.text)
    parts += [(C.TYPE_CODE["enum"], k, C._enum_spans(rx, batch, low)) for k, rx in enumerate(enum_res.values())]
    spans = np.concatenate([p[2] for p in parts])
    typ = np.concatenate([np.full(len(p[2]), p[0], dtype=np.int64) for p in parts])
    enum = np.concatenate([np.full(len(p[2]), p[1], dtype=np.int64) for p in parts])
    doc = batch.doc_of(spans[:, 0])
    order = np.argsort(doc, kind="stable")
    start, end = spans[order, 0], spans[order, 1]
    return C.Candidates(doc[order], typ[order], start, end, enum[order],
                        [batch.text[s:e] for s, e in zip(start.tolist(), end.tolist())], tuple(enum_res))


def _lines_over_the_whole_text(batch: C.TextBatch) -> tuple:
    """Each token's (word, start, end, line) found in the whole batch text, as the features did before."""
    words, starts, ends, line = F._line_tokens(batch)
    return list(words), starts.tolist(), ends.tolist(), line.tolist()


STOPLIST = frozenset({"total", "due", "smith", "the", "ltd", "usd"})


def test_patterns_over_distinct_lines_find_what_the_whole_text_holds():
    """The candidate patterns and the feature tokens run over a batch's distinct lines and are copied to each
    copy of a line (TextBatch.distinct): the same candidates, in the same order, and the same tokens as running
    over the whole text; on the golden documents, and on random documents made of a few repeated lines (blank
    ones, ones with the characters that lower-case to another length or match ASCII ignoring case, an enum value
    with a newline, which is searched document by document); with a stoplist, without its names, as taking
    them out of every candidate did."""
    from harness.golden import load_golden_set
    from pipelines.mlops.model import _stopped

    golden = load_golden_set(TECHCORP)
    enum_res = _enum_res()
    words = sorted({w for rx in enum_res.values() for w in C._ENUM_WORDS[rx.pattern]})  # the same whatever ran before
    rng = random.Random(36)
    pool = [_random_text(rng, words).replace("\n", " ") for _ in range(30)] + ["", "  ", "Total USD 1,234.56",
                                                                            "Due 2024-01-02", "Smith and Jones Ltd"]
    batches = [[it.text for it in golden.items("test", kinds=("document",))]]
    batches += [["\n".join(rng.choice(pool) for _ in range(rng.randrange(0, 12))) for _ in range(rng.randrange(1, 6))]
                for _ in range(150)]
    # "İ" lower-cases to two characters: the tokens of such a line are found line by line, their offsets in the
    # line lower-cased, past its end when enough of them come first (the review's case, and a Turkish address)
    batches += [["İİİ ab", "cd"], ["İSTANBUL İZMİR TİCARET ltd\nTotal due 2024-01-05\nAmount: 100.00 TL",
                                   "İSTANBUL İZMİR TİCARET ltd"]]
    batches += [["\n".join(rng.choice(pool + ["İİİİİİ x y", "İİ ab cd İ"]) for _ in range(rng.randrange(1, 8)))
                 for _ in range(rng.randrange(1, 4))] for _ in range(60)]
    # an enum value with a newline (as enum_patterns writes it), and a pattern written by hand with "\n" escaped:
    # both may match across lines, so both are searched document by document
    newline_enum = dict(enum_res, **C.enum_patterns({"lines": SimpleNamespace(type="enum", values=["Net\n30"],
                                                                              aliases={})}),
                        hand=re.compile(r"(?<![A-Za-z0-9])(?:neT\n30|ss)(?![A-Za-z])", re.I))
    batches += [["Total net\n30 days", "net\n30"], ["a neT", "30 b"]]  # a value across lines; across documents
    copied = 0
    for texts in batches:
        batch = C.join_texts(texts)
        copied += len(batch.distinct.batch.text) < len(batch.text)
        for res, stop in ((enum_res, ()), (newline_enum, ()), (enum_res, STOPLIST)):
            got = C.find_candidates(batch, res, stop)
            want = _candidates_over_the_whole_text(C.join_texts(texts), res)
            want = want.take(~_stopped(want, stop))  # the stoplist's names, as prediction took them out before
            for name in ("doc", "type", "start", "end", "enum"):
                assert np.array_equal(getattr(got, name), getattr(want, name)), (name, texts)
            assert got.text == want.text
        lines = F._lines(batch)
        words_, starts, ends, line = _lines_over_the_whole_text(C.join_texts(texts))
        assert [list(lines.words)[i] for i in lines.tok_word.tolist()] == words_
        base = np.asarray(line, dtype=np.int64) * lines.stride  # a token's key: its line * stride + its offset
        assert (lines.tok_start - base).tolist() == starts and (lines.tok_end - base).tolist() == ends
        assert list(lines.words) == list(dict.fromkeys(words_))  # each word's id: the order of first appearance
    assert copied > 100  # the batches repeat lines
