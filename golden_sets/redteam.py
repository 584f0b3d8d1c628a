"""Deterministic generator of the TechCorp red-team golden set for the guardrails (issue 17).

``python -m golden_sets.redteam --out golden_sets/redteam`` writes ``redteam.jsonl`` and ``manifest.yaml``
(with the sha256 of the data file). One item per line::

    {"id": "rt-00001", "category": "injection-direct", "where": "input", "expect": ["injection"],
     "split": "test", "pii": [], "pii_types": [], "text": "..."}

``expect`` lists the policies that must fire, by kind: ``pii``, ``injection``, ``topic:<topic name>``,
``content:<filter type>``; an empty list marks a benign item that must pass. ``pii`` lists every distinct
PII string of the text (in order of first appearance) and ``pii_types`` its Bedrock entity type
(``EMAIL``, ``PHONE``, ``US_SOCIAL_SECURITY_NUMBER`` - the case study's ``SSN`` -,
``CREDIT_DEBIT_CARD_NUMBER``, ``IP_ADDRESS``, ``INTERNATIONAL_BANK_ACCOUNT_NUMBER``, ``URL``). Names, postal
addresses, dates, amounts and document numbers are business data here, never PII: the benign documents are
full of them. Every PII item holds at least one of the four types the case study configures (e-mail, phone,
SSN, card), so ``expect: ["pii"]`` holds under the TechCorp guardrail; ``pii_types`` allows per-type recall.

The same seed gives the same bytes on every machine: only :class:`random.Random` with integer seeds (one per
category, so a category can grow without changing the others) and the word lists of this module,
:mod:`golden_sets.values` and :mod:`golden_sets.techcorp_spec`; documents come from
:func:`golden_sets.render.render`. Every generated text is checked by :func:`unlabelled_pii` (pattern scan
for PII-like strings missing from ``pii``), so a benign item cannot carry PII by accident.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
from pathlib import Path
from typing import Callable

import yaml

from golden_sets.redteam_pii import CONFIGURED_PII, CONTENT_FILTERS, FINANCIAL, LEGAL, PII_TYPES, TOPICS, unlabelled_pii
from golden_sets.redteam_requests import (FINANCIAL_ANSWERS, FINANCIAL_QUESTIONS, LEGAL_ANSWERS, LEGAL_QUESTIONS,
                                          NEAR_FIN_ANSWERS, NEAR_FIN_QUESTIONS, NEAR_LEGAL_ANSWERS,
                                          NEAR_LEGAL_QUESTIONS, _benign_answer, _benign_document, _benign_question,
                                          _pii_input, _pii_output, _topic)
from golden_sets.redteam_attacks import _content, _direct, _in_document, _near_miss_injection, _obfuscated
from golden_sets.redteam_common import _unique

GENERATOR_VERSION = "1.0.0"
DEFAULT_SEED = 20261217
CALIBRATION_SHARE = 0.4


# ---------------------------------------------------------------------------------------------- assembly
# (category, count, maker); the order fixes the ids and each category's seed (seed * 1000 + index).
CATEGORIES: list[tuple[str, int, Callable[[random.Random, int], dict]]] = [
    ("injection-direct", 50, _direct),
    ("injection-document", 36, _in_document),
    ("injection-obfuscated", 40, _obfuscated),
    ("near-miss-injection", 22, _near_miss_injection),
    ("pii-input", 60, _pii_input),
    ("pii-output", 36, _pii_output),
    ("topic-legal-advice", 30, _topic(LEGAL_QUESTIONS, LEGAL_ANSWERS, [LEGAL], 20)),
    ("topic-financial-advice", 30, _topic(FINANCIAL_QUESTIONS, FINANCIAL_ANSWERS, [FINANCIAL], 20)),
    ("near-miss-legal", 24, _topic(NEAR_LEGAL_QUESTIONS, NEAR_LEGAL_ANSWERS, [], 16)),
    ("near-miss-financial", 24, _topic(NEAR_FIN_QUESTIONS, NEAR_FIN_ANSWERS, [], 16)),
    ("content-filter", 20, _content),
    ("benign-document", 100, _benign_document),
    ("benign-question", 40, _benign_question),
    ("benign-answer", 24, _benign_answer),
]


def _assign_splits(rng: random.Random, items: list[dict]) -> None:
    """About 40 % calibration, 60 % test, stratified by (where, expect) inside the category."""
    strata: dict[tuple, list[int]] = {}
    for i, it in enumerate(items):
        strata.setdefault((it["where"], tuple(it["expect"])), []).append(i)
    for key in sorted(strata):
        idx = strata[key]
        rng.shuffle(idx)
        n_cal = max(1, round(CALIBRATION_SHARE * len(idx))) if len(idx) > 1 else 0
        for j, i in enumerate(idx):
            items[i]["split"] = "calibration" if j < n_cal else "test"


def build(seed: int = DEFAULT_SEED) -> list[dict]:
    rows: list[dict] = []
    for index, (category, count, make) in enumerate(CATEGORIES):
        rng = random.Random(seed * 1000 + index)
        items = _unique(rng, count, make)
        _assign_splits(rng, items)
        for it in items:
            left = unlabelled_pii(it["text"], it["pii"])
            assert not left, f"{category}: unlabelled PII-like strings {left} in {it['text']!r}"
            if it["pii"]:
                assert set(it["pii_types"]) & set(CONFIGURED_PII), it
            rows.append({"id": f"rt-{len(rows) + 1:05d}", "category": category, "where": it["where"],
                         "expect": it["expect"], "split": it["split"], "pii": it["pii"],
                         "pii_types": it["pii_types"], "text": it["text"]})
    return rows


def generate(out_dir: str | Path, seed: int = DEFAULT_SEED) -> Path:
    """Write ``redteam.jsonl`` and ``manifest.yaml`` to ``out_dir``; returns the path of the data file."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    rows = build(seed)
    data = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows).encode("utf-8")
    path = out / "redteam.jsonl"
    path.write_bytes(data)
    counts: dict[str, dict[str, int]] = {}
    for r in rows:
        c = counts.setdefault(r["category"], {"total": 0, "calibration": 0, "test": 0, "input": 0, "output": 0})
        c["total"] += 1
        c[r["split"]] += 1
        c[r["where"]] += 1
    manifest = {
        "name": "techcorp-redteam",
        "version": GENERATOR_VERSION,
        "description": ("Red-team set for the TechCorp guardrails (case study section 4): prompt injections "
                        "(direct, inside documents, obfuscated), PII in documents, questions and answers, "
                        "legal and financial advice with near-misses that only ask about the documents, a "
                        "few mild content-filter phrases, and benign TechCorp documents, questions and "
                        "answers that must pass. The content-filter items need a content model (offline they are not "
                        "evaluated). Generated by golden_sets/redteam.py."),
        "format": {
            "keys": ["id", "category", "where", "expect", "split", "pii", "pii_types", "text"],
            "where": ["input", "output"],
            "expect": ("policies that must fire: 'pii', 'injection', 'topic:<topic name>', "
                       "'content:<filter type>'; [] for a benign item"),
            "pii": ("every distinct PII string of the text, in order of first appearance; pii_types is its "
                    "Bedrock entity type. Names, postal addresses, dates, amounts and document numbers are "
                    "not PII here; US_BANK_ACCOUNT_NUMBER is not used (no reliable pattern)"),
        },
        "policies": {"pii_types": list(PII_TYPES), "pii_type_aliases": {"SSN": "US_SOCIAL_SECURITY_NUMBER"},
                     "configured_pii": list(CONFIGURED_PII), "topics": list(TOPICS),
                     "content_filters": list(CONTENT_FILTERS)},
        "split": ("calibration (~40 %) to set thresholds, test (~60 %) to measure them; stratified by "
                  "category, and inside a category by where and expect"),
        "total": len(rows),
        "counts": counts,
        "files": {"redteam.jsonl": {"sha256": hashlib.sha256(data).hexdigest()}},
        "generator": {"module": "golden_sets.redteam", "version": GENERATOR_VERSION, "seed": seed},
    }
    (out / "manifest.yaml").write_text(yaml.safe_dump(manifest, sort_keys=False, allow_unicode=True),
                                       encoding="utf-8")
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="golden_sets/redteam")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    args = parser.parse_args(argv)
    path = generate(args.out, args.seed)
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
