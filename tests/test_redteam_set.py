"""The red-team golden set for the guardrails (golden_sets/redteam/): reproducible byte for byte, its promised
shape, and PII labels that are exact (every listed string present and valid, nothing PII-like left unlisted)."""

from __future__ import annotations

import collections
import hashlib
import json
import re
from pathlib import Path

import pytest
import yaml

from golden_sets import redteam

REDTEAM = Path(__file__).resolve().parents[1] / "golden_sets" / "redteam"
KEYS = {"id": str, "category": str, "where": str, "expect": list, "split": str, "pii": list, "pii_types": list,
        "text": str}
POLICIES = {"pii", "injection", "topic:Legal Advice", "topic:Financial Advice", "content:HATE", "content:INSULTS",
            "content:SEXUAL", "content:VIOLENCE"}
PII_TYPES = {"EMAIL", "PHONE", "US_SOCIAL_SECURITY_NUMBER", "CREDIT_DEBIT_CARD_NUMBER", "IP_ADDRESS",
             "INTERNATIONAL_BANK_ACCOUNT_NUMBER", "URL"}


@pytest.fixture(scope="module")
def rows() -> list[dict]:
    with (REDTEAM / "redteam.jsonl").open(encoding="utf-8") as f:
        return [json.loads(line) for line in f]


def _luhn(digits: str) -> bool:  # written out again here, not taken from the generator
    checksum = 0
    for i, d in enumerate(int(c) for c in reversed(digits)):
        checksum += d if i % 2 == 0 else (d * 2 if d < 5 else d * 2 - 9)
    return checksum % 10 == 0


def _mod97(iban: str) -> bool:
    s = iban.replace(" ", "")
    moved = s[4:] + s[:4]
    return int("".join(str(ord(c) - 55) if c.isalpha() else c for c in moved)) % 97 == 1


def test_committed_set_regenerates_byte_for_byte(tmp_path):
    path = redteam.generate(tmp_path / "rt")
    assert path == tmp_path / "rt" / "redteam.jsonl"
    for name in ("redteam.jsonl", "manifest.yaml"):
        assert (tmp_path / "rt" / name).read_bytes() == (REDTEAM / name).read_bytes(), name
    manifest = yaml.safe_load((REDTEAM / "manifest.yaml").read_text(encoding="utf-8"))
    assert manifest["name"] == "techcorp-redteam" and manifest["generator"]["seed"] == redteam.DEFAULT_SEED
    digest = hashlib.sha256((REDTEAM / "redteam.jsonl").read_bytes()).hexdigest()
    assert manifest["files"]["redteam.jsonl"]["sha256"] == digest
    assert "calibration" in manifest["split"] and manifest["version"] == manifest["generator"]["version"]


def test_seed_changes_the_set_and_cli_writes_it(tmp_path):
    assert redteam.main(["--out", str(tmp_path / "a"), "--seed", "7"]) == 0
    other = (tmp_path / "a" / "redteam.jsonl").read_bytes()
    assert other != (REDTEAM / "redteam.jsonl").read_bytes()
    redteam.main(["--out", str(tmp_path / "b"), "--seed", "7"])
    assert (tmp_path / "b" / "redteam.jsonl").read_bytes() == other


def test_every_line_has_the_format(rows):
    ids = [r["id"] for r in rows]
    assert len(ids) == len(set(ids))
    for r in rows:
        assert set(r) == set(KEYS), r["id"]
        for key, kind in KEYS.items():
            assert isinstance(r[key], kind), (r["id"], key)
        assert re.fullmatch(r"rt-\d{5}", r["id"])
        assert r["where"] in ("input", "output") and r["split"] in ("calibration", "test")
        assert r["text"].strip() and r["category"].strip()
        assert set(r["expect"]) <= POLICIES and len(set(r["expect"])) == len(r["expect"]), r["id"]
        assert len(r["pii"]) == len(r["pii_types"]) and set(r["pii_types"]) <= PII_TYPES
        assert ("pii" in r["expect"]) == bool(r["pii"]), r["id"]


def test_counts_categories_and_splits(rows):
    assert 400 <= len(rows) <= 600
    cats = collections.Counter(r["category"] for r in rows)
    manifest = yaml.safe_load((REDTEAM / "manifest.yaml").read_text(encoding="utf-8"))
    assert {c: v["total"] for c, v in manifest["counts"].items()} == dict(cats) and manifest["total"] == len(rows)

    def n(pred):
        return sum(1 for r in rows if pred(r))
    assert n(lambda r: r["category"].startswith("benign-") and r["expect"] == []) >= 150
    assert n(lambda r: r["category"] == "injection-direct") >= 40
    assert n(lambda r: r["category"] == "injection-document") >= 25
    assert n(lambda r: r["category"] == "injection-obfuscated") >= 30
    assert n(lambda r: r["expect"] == ["injection"]) == n(lambda r: r["category"].startswith("injection-"))
    assert all(r["where"] == "input" for r in rows if "injection" in r["expect"])
    for where in ("input", "output"):
        assert n(lambda r: r["expect"] == ["pii"] and r["where"] == where) >= 30
        for topic in ("topic:Legal Advice", "topic:Financial Advice"):
            assert n(lambda r: r["expect"] == [topic] and r["where"] == where) >= 8
        assert n(lambda r: r["category"].startswith("near-miss-") and r["where"] == where and not r["expect"]) >= 10
    content = [r for r in rows if r["category"] == "content-filter"]
    assert 15 <= len(content) <= 30
    assert {r["expect"][0] for r in content} == {"content:HATE", "content:INSULTS", "content:SEXUAL",
                                                "content:VIOLENCE"}
    types = collections.Counter(t for r in rows for t in r["pii_types"])
    assert set(types) == PII_TYPES and min(types.values()) >= 10
    # both splits hold every category, about 40 / 60 overall and per category
    by_split = collections.defaultdict(collections.Counter)
    for r in rows:
        by_split[r["split"]][r["category"]] += 1
    for cat, total in cats.items():
        cal, test = by_split["calibration"][cat], by_split["test"][cat]
        assert cal and test, cat
        assert 0.3 <= cal / total <= 0.5, cat
    assert 0.37 <= sum(by_split["calibration"].values()) / len(rows) <= 0.43


def test_pii_strings_are_present_valid_and_complete(rows):
    seen_formats = collections.Counter()
    for r in rows:
        for value, kind in zip(r["pii"], r["pii_types"]):
            assert value in r["text"], (r["id"], value)
            if kind == "US_SOCIAL_SECURITY_NUMBER":
                m = re.fullmatch(r"(\d{3})-(\d{2})-(\d{4})", value)
                assert m, value
                area, group, serial = m.groups()
                assert area not in ("000", "666") and area[0] != "9" and group != "00" and serial != "0000"
                assert value not in ("078-05-1120", "123-45-6789")
            elif kind == "CREDIT_DEBIT_CARD_NUMBER":
                assert re.fullmatch(r"\d[\d -]+\d", value), value
                digits = re.sub(r"[ -]", "", value)
                assert 13 <= len(digits) <= 19 and _luhn(digits), value
                seen_formats[" " if " " in value else "-" if "-" in value else "none"] += 1
            elif kind == "INTERNATIONAL_BANK_ACCOUNT_NUMBER":
                assert re.fullmatch(r"[A-Z]{2}\d{2}[A-Z0-9 ]+", value) and _mod97(value), value
            elif kind == "EMAIL":
                assert re.fullmatch(r"[a-z0-9._]+@[a-z0-9.-]+\.[a-z]{2,}", value), value
            elif kind == "IP_ADDRESS":
                assert re.fullmatch(r"(\d{1,3}\.){3}\d{1,3}|[0-9a-f:]+", value), value
        # nothing PII-like outside the listed strings (benign items: nothing at all)
        assert redteam.unlabelled_pii(r["text"], r["pii"]) == [], r["id"]
    assert set(seen_formats) == {" ", "-", "none"}
    # the PII items each carry a type the TechCorp guardrail configures
    configured = {"EMAIL", "PHONE", "US_SOCIAL_SECURITY_NUMBER", "CREDIT_DEBIT_CARD_NUMBER"}
    assert all(set(r["pii_types"]) & configured for r in rows if r["pii"])


def test_scanner_finds_what_it_should():
    text = "Mail ap@kestrelfoods.com, call (415) 555-0123, card 4111 1111 1111 1111, IBAN GB82 WEST 1234 5698 7654 32"
    found = {kind for kind, _ in redteam.unlabelled_pii(text, [])}
    assert {"EMAIL", "PHONE", "CREDIT_DEBIT_CARD_NUMBER", "INTERNATIONAL_BANK_ACCOUNT_NUMBER"} <= found
    assert redteam.unlabelled_pii("Invoice INV-2024-00123, total USD 1,234.56, due 2024-03-01.", []) == []
