"""Issue 32, row 1 (the MLOps month): the faster forms of the extractor's work find exactly what the plain forms
found.

* The candidate patterns of the types whose every match holds a digit (date, money, code, duration) are written
  led by the class of their first character (pipelines/mlops/candidates.py); the plain forms they replace are
  kept here as their specification and both are run over the golden set's documents and over random strings
  built from the characters and words the patterns care about (both cases, the long s and the Kelvin sign that
  match "s" and "k" when case is ignored, digits of other scripts, currency signs, separators, newlines).
"""

from __future__ import annotations

import random
import re
from pathlib import Path

import pytest

from pipelines.mlops import candidates as C

TECHCORP = Path(__file__).resolve().parents[1] / "golden_sets" / "techcorp"

# the patterns as they were written before issue 32 (their meaning; candidates.py holds the faster forms)
_MONTH = C._MONTH
_CUR = r"(?:[A-Z]{3}|[A-Z]{0,2}\$|[€£¥])"
_NUM = r"(?:\d{1,3}(?:(?:,\d{3})+|(?:\.\d{3})+|(?: \d{3})+)[.,]\d{2}|\d+[.,]\d{2})"
PLAIN = {
    "date": re.compile(
        rf"(?<![\w./-])(?:\d{{4}}-\d{{1,2}}-\d{{1,2}}|\d{{1,2}}[./-]\d{{1,2}}[./-]\d{{2,4}}"
        rf"|\d{{1,2}}(?:st|nd|rd|th)?[ -]{_MONTH}\.?[ ,-]+\d{{4}}|{_MONTH}\.? \d{{1,2}}(?:st|nd|rd|th)?,? \d{{4}})"
        rf"(?![\w/-])", re.I),
    "money": re.compile(
        rf"(?<![\w.,/-])(?:(?:{_CUR}) ?{_NUM}(?: ?{_CUR}(?![\w$]))?|{_NUM}(?: ?{_CUR}(?![\w$]))?"
        rf"|(?:{_CUR}) ?\d{{1,3}}(?:,\d{{3}})*(?![\d.,]))(?![.,]?\d)"),
    "code": re.compile(
        r"(?<![\w/.-])(?:(?=[A-Z0-9./-]*\d)(?=[A-Z0-9./-]*[A-Z])[A-Z0-9]+(?:[./-][A-Z0-9]+)+|[A-Z]{2,5}\d{4,})"
        r"(?![\w/-])"),
    "duration": re.compile(r"(?<![\w.])\d{1,3} (?:months?|years?|weeks?|days?)\b", re.I),
}
FAST = dict(C.DIGIT_PATTERNS)

ATOMS = (list("0123456789ABCDEFGHJKMNOPSUXYZabcdefjmnorstuvy $€£¥.,/-\n_'")
         + ["\u017f", "\u212a", "\u0130", "\u0131", "\u0663", "\u0661\u0662", "Jan", "june", "SEPT", "Sept.",
            "march", "May", "Aug", "Dec", "\u017fep", "1st", "2nd", "3rd", "th", "USD", "US$", "$", "EUR", "1,234",
            ".56", ",00", " 000", "2024", "-12-", "months", "Years", "day", "wEEk", "INV/", "PO-", "AB1234",
            "\u017ft", "ST", "12.500,00", "A-1", "x9", "12 ", "Mar ", "ſep. 3, ", "2024-01-02", "3/4/25", "7th ",
            "Oct 1st 2023", "4 weeks"])


def _spans(rx: re.Pattern, text: str) -> list[tuple[int, int]]:
    return [m.span() for m in rx.finditer(text)]


def test_fast_patterns_are_the_plain_ones_on_the_golden_documents():
    from harness.golden import load_golden_set

    golden = load_golden_set(TECHCORP)
    text = "\n".join(it.text for split in golden.manifest.splits
                     for it in golden.items(split, kinds=("document",)))
    for name, plain in PLAIN.items():
        found = _spans(plain, text)
        assert found, name  # the documents hold values of every type
        assert _spans(FAST[name], text) == found, name


@pytest.mark.parametrize("name", list(PLAIN))
def test_fast_patterns_are_the_plain_ones_on_random_strings(name):
    rng = random.Random(32)
    plain, fast = PLAIN[name], FAST[name]
    hits = 0
    for _ in range(8_000):
        s = "".join(rng.choice(ATOMS) for _ in range(rng.randrange(1, 50)))
        want = _spans(plain, s)
        hits += bool(want)
        assert _spans(fast, s) == want, (name, s)
        for pos in (1, 3):  # from an offset too (a look-behind sees the text before it)
            assert [m.span() for m in fast.finditer(s, pos)] == [m.span() for m in plain.finditer(s, pos)], (name, s)
    assert hits > 50  # the strings exercise the pattern, not only its failures
