"""The shipped criteria file against the case study's own text (section 6), figure by figure."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from conftest import ROOT

CASE_STUDY = ROOT.parent / "shared" / "case-study" / "expanded-sections.md"
CRITERIA = ROOT / "harness" / "criteria" / "techcorp.yaml"
# pilot table row title -> criterion id in the YAML, and the unit the YAML uses
ROWS = {"Classification accuracy": ("classification_accuracy", 0.01), "Field extraction accuracy":
        ("field_extraction_accuracy", 0.01), "Hallucination rate": ("hallucination_rate", 0.01),
        "Latency (P95)": ("p95_latency", 1.0), "Cost per document": ("cost_per_document", 1.0),
        "User satisfaction": ("user_satisfaction", 1.0)}


def _pilot_table() -> dict[str, tuple[str, str]]:
    if not CASE_STUDY.is_file():
        pytest.skip(f"case study text not present at {CASE_STUDY}")
    text = CASE_STUDY.read_text(encoding="utf-8")
    block = text[text.index("#### Pilot Success Criteria"):text.index("### Phase 2")]
    out = {}
    for line in block.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 3 and cells[0] in ROWS:
            out[cells[0]] = (cells[1], cells[2])
    return out


def _bound(cell: str) -> tuple[str, float]:
    """'≥95%' -> ('>=', 95.0); '<$0.30' -> ('<', 0.30); '>3.5/5' -> ('>', 3.5)."""
    m = re.match(r"([≥≤<>])\s*\$?([\d.]+)", cell)
    assert m, cell
    return {"≥": ">=", "≤": "<=", "<": "<", ">": ">"}[m.group(1)], float(m.group(2))


def test_every_pilot_criterion_matches_the_case_study():
    table = _pilot_table()
    assert set(table) == set(ROWS), "the pilot table changed: review harness/criteria/techcorp.yaml"
    criteria = {c["id"]: c for c in yaml.safe_load(CRITERIA.read_text(encoding="utf-8"))["criteria"]}
    for title, (target_cell, must_cell) in table.items():
        cid, scale = ROWS[title]
        c = criteria[cid]
        for cell, key in ((target_cell, "target"), (must_cell, "must_have")):
            op, number = _bound(cell)
            assert c[key] == pytest.approx(number * scale), f"{cid}.{key}: YAML {c[key]} vs case study {cell!r}"
            assert c["higher_is_better"] == op.startswith(">"), cid
            assert c.get("strict", False) == (op in ("<", ">")), f"{cid}: strictness of {cell!r}"


def test_go_no_go_and_rollback_cite_their_section():
    text = CRITERIA.read_text(encoding="utf-8")
    for heading in ("Pilot Success Criteria", "Go/No-Go Decision Criteria", "Rollback Plan"):
        assert heading in text
    data = yaml.safe_load(text)
    go = {c["id"]: c for c in data["go_no_go"]["go"]}
    assert go["user_feedback_above_4"]["value"] == 4.0  # "User feedback score > 4/5", apart from the pilot's 3.5
    assert go["hallucination_below_3pct_4_weeks"]["value"] == 0.03
    assert {c["factor"] for c in go.values() if c.get("kind") == "ratio_to_baseline"} == {2, 3}
