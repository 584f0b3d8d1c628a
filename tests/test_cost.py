"""The case study's cost tables as an answer key: computed amounts in exact decimals, flags where a stated
figure disagrees with its own calculation, and bad pricing files refused with file, line and key."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
import yaml

from harness.cost.answer_key import answer_key
from harness.cost.pricing import DEFAULT_PRICING, load_pricing


@pytest.fixture(scope="module")
def key():
    return answer_key(load_pricing())


def test_rows_and_totals_are_computed_exactly(key):
    ml, llm = key.tables["mlops"], key.tables["llmops"]
    assert ml.amounts["training_gpu"] == Decimal("4.208") and ml.amounts["model_monitor"] == Decimal("0.5")
    assert ml.total == Decimal("2067.848") and ml.sum_stated == Decimal("3363.14")
    base = Decimal("2182.75")  # the twelve LLMOps rows before the buffer
    assert llm.amounts["reserved_buffer"] == base * Decimal("0.2") and llm.total == base * Decimal("1.2")
    assert llm.sum_stated == Decimal("4182.75")
    assert ml.per_document == ml.total / 50000 and isinstance(ml.per_document, Decimal)
    assert llm.amounts["opensearch_storage"] == Decimal("20")  # 200 x 0.10 exactly, no binary-float residue


def test_flags_are_the_case_studys_inconsistencies(key):
    flagged = {c.id for c in key.flags}
    assert {"mlops.training_gpu", "mlops.model_monitor", "llmops.reserved_buffer", "mlops.total",
            "mlops.total_computed", "llmops.total", "llmops.total_computed"} <= flagged
    assert {"per_document_mlops", "per_document_llmops", "difference", "metric_training_llmops",
            "metric_storage_llmops", "break_even.covers_premium", "break_even.pays_for_itself"} <= flagged
    consistent = {"mlops.training_cpu", "mlops.endpoint", "mlops.endpoint_prod", "mlops.labeling", "mlops.s3",
                  "llmops.input_tokens", "llmops.output_tokens", "llmops.rag_context", "llmops.embeddings",
                  "llmops.textract", "llmops.guardrails", "metric_storage_mlops", "break_even.savings",
                  "break_even.monthly_now", "break_even.ticket_savings"}
    assert not consistent & flagged
    gpu = next(c for c in key.flags if c.id == "mlops.training_gpu")
    assert gpu.stated == Decimal("800") and gpu.computed == Decimal("4.208")
    assert gpu.relative_difference == (Decimal("800") - Decimal("4.208")) / Decimal("4.208")


def test_every_row_of_both_tables_is_encoded():
    """The shipped pricing file against the case study's text: one row per table row, same stated amount."""
    from conftest import ROOT

    text_path = ROOT.parent / "shared" / "case-study" / "expanded-sections.md"
    if not text_path.is_file():
        pytest.skip("case study text not present")
    text = text_path.read_text(encoding="utf-8")
    pricing = load_pricing()
    for tid, heading, end in (("mlops", "#### MLOps Monthly Costs", "#### LLMOps Monthly Costs"),
                              ("llmops", "#### LLMOps Monthly Costs", "### Cost Per Document Analysis")):
        block = text[text.index(heading):text.index(end)]
        amounts = []
        for line in block.splitlines():
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if len(cells) == 3 and cells[2].startswith("$") and "TOTAL" not in cells[0]:
                amounts.append(Decimal(cells[2].split()[0].strip("$*~").replace(",", "")))
        assert [r.stated for r in pricing.tables[tid].rows] == amounts


def test_cost_command_formats(cli):
    code, out, _ = cli("cost")
    assert code == 0 and "$2,067.85" in out and "FLAG" in out and "$0.0414" in out
    code, out, _ = cli("cost", "--format", "json")
    data = json.loads(out)
    assert Decimal(data["tables"]["llmops"]["total"]) == Decimal("2619.300") and data["n_flags"] >= 15
    code, out, _ = cli("cost", "--format", "csv")
    assert code == 0 and out.splitlines()[0].startswith("table,row,")


def _bad(tmp_path, edit):
    data = yaml.safe_load(DEFAULT_PRICING.read_text(encoding="utf-8"))
    edit(data)
    path = tmp_path / "pricing.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


@pytest.mark.parametrize("edit,expect", [
    (lambda d: d["tables"]["mlops"]["rows"][0].update(colour="red"), "tables.mlops.rows[0].colour: unknown key"),
    (lambda d: d["tables"]["mlops"]["rows"][0]["unit_price"].update(usd=-1), "unit_price.usd: negative"),
    (lambda d: d["tables"]["mlops"]["rows"][0]["unit_price"].update(usd="cheap"), "unit_price.usd: not a number"),
    (lambda d: d["tables"]["llmops"]["rows"][-1]["of"].append("reserved_buffer"), "is a percentage of itself"),
    (lambda d: d["tables"]["llmops"]["rows"][-1]["of"].append("nope"), "no row 'nope'"),
    (lambda d: d["tables"]["llmops"].update(rows=[{"id": "a", "percent": 10, "of": ["b"]},
                                                   {"id": "b", "percent": 10, "of": ["a"]}]), "form a cycle"),
    (lambda d: d.update(surprise=1), "surprise: unknown key"),
])
def test_bad_pricing_files_exit_2_naming_file_line_and_key(tmp_path, cli, edit, expect):
    path = _bad(tmp_path, edit)
    code, out, err = cli("cost", "--pricing", path)
    assert code == 2 and expect in err and str(path) in err, err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert f"{path}:" in err and err.split(f"{path}:")[1].split(":")[0].isdigit(), err  # a line number


@pytest.fixture(scope="module")
def mlops_run(tmp_path_factory):
    """One small MLOps run (24 documents) for the module: training it once is what takes the time."""
    import os

    from conftest import TECHCORP
    from harness.cli import main

    root = tmp_path_factory.mktemp("mlops")
    here = os.getcwd()
    os.chdir(root)
    try:
        assert main(["run", "--pipeline", "mlops", "--golden", str(TECHCORP), "--split", "test", "--per-class", "2",
                     "--out", str(root / "m"), "--no-progress"]) == 0
    finally:
        os.chdir(here)
    return root / "m"


def test_mlops_run_cost_recomputed_by_hand_and_gated(mlops_run, cli):
    """An MLOps run carries cost.*: measured compute seconds x the instance price + the fixed rows; the
    gates' three cost criteria evaluate on it."""
    out = mlops_run
    m = json.loads((out / "metrics.json").read_text())
    seconds = sum(m["latency"][t]["mean"] * m["latency"][t]["n"] for t in ("classify", "extract"))
    fixed = 1.84 + 2 * 4 * 0.526 + 400 + 0.5 + 1000 + 2.3 + 45 + 200  # runs.yaml's mlops rows, computed
    n = m["counts"]["by_task"]["classify"]["expected"]
    assert n == 24
    assert m["cost"]["per_document"] == pytest.approx(seconds / 3600 * 0.23 / n + fixed / 50000, rel=1e-6)
    assert m["cost"]["total"] == pytest.approx(m["cost"]["per_document"] * n, rel=1e-6)
    code, out_text, _ = cli("gates", out, "--baseline", out, "--format", "json")
    data = json.loads(out_text)
    status = {c["id"]: c["status"] for c in data["criteria"]}
    assert status["cost_per_document"] == "target met"  # about $0.04 < $0.30
    conds = {c["id"]: c["holds"] for c in data["go_no_go"]["go"] + data["go_no_go"]["no_go"]}
    assert conds["cost_below_3x_baseline"] is True and conds["cost_over_budget_by_50pct"] is False
    code, out_text, _ = cli("compare", out, out, "--format", "json")
    rows = {r["metric"]: r for r in json.loads(out_text)["rows"]}
    assert rows["cost.per_document"]["a"] == m["cost"]["per_document"] and rows["cost.per_document"]["difference"] == 0
    code, out_text, _ = cli("leaderboard", out.parent, "--format", "csv")
    assert "cost_per_document" in out_text.splitlines()[0] and str(m["cost"]["per_document"]) in out_text
    code, out_text, _ = cli("report", out)
    assert "cost per document (USD)" in out_text


def test_a_run_without_usage_has_no_cost_but_says_why(tmp_path):
    from harness.cost.run_cost import cost_section

    c = cost_section({"predictor": {"name": "external"}}, {"counts": {"by_task": {"classify": {"expected": 3}}}})
    assert c["per_document"] is None and "no model usage" in c["note"]


def test_what_if_levers_by_hand():
    from harness.cost.what_if import Calls, break_even, parse_what_if, token_cost, what_if

    calls = Calls(((1000, 300), (3000, 100)))  # 4,000 input, 400 output tokens
    sonnet = (Decimal("0.003"), Decimal("0.015"))
    haiku = (Decimal("0.00025"), Decimal("0.00125"))
    base = Decimal("4") * Decimal("0.003") + Decimal("0.4") * Decimal("0.015")  # $0.018
    assert token_cost(calls, sonnet, {}, None) == base
    lv = parse_what_if(["output_cap=200", "context_cut=0.25", "route_share=0.5", "prompt_cache_hit_rate=0.1",
                        "batch_discount=0.5"])
    capped = Decimal("3") * Decimal("0.003") + Decimal("0.3") * Decimal("0.015")
    assert token_cost(calls, sonnet, {"output_cap": lv["output_cap"], "context_cut": lv["context_cut"]}, None) == capped
    routed = Decimal("4") * (Decimal("0.003") + Decimal("0.00025")) / 2 + Decimal("0.4") * (Decimal("0.015") + Decimal("0.00125")) / 2
    assert token_cost(calls, sonnet, {"route_share": Decimal("0.5")}, haiku) == routed
    rows = what_if(Decimal(100), lambda levers: token_cost(calls, sonnet, levers, haiku) * 1000, lv)
    assert [r.name for r in rows][-1] == "all together" and all(r.saving > 0 for r in rows)
    cache = next(r for r in rows if r.name == "prompt_cache_hit_rate")
    assert cache.saving == base * 1000 * Decimal("0.1") and cache.saving_share == cache.saving / (100 + base * 1000)
    conf = {"human_review": {"review_rate_now": 0.2, "review_rate_llmops": 0.05, "reviewer_usd_per_hour": 50,
                             "minutes_per_document": 5}, "support_tickets": {"tickets_avoided": 500, "usd_per_ticket": 25}}
    (_, review, verdict), (_, tickets, _) = break_even(Decimal(12500), Decimal(4200), Decimal(50000), conf, {})
    assert review == Decimal(50000) * Decimal("0.15") * Decimal(50) * 5 / 60 and "covers the premium" in verdict
    assert tickets == Decimal(12500)


@pytest.mark.parametrize("lever,expect", [("nope=1", "unknown lever 'nope'"), ("route_share=1.5", "out of range"),
                                          ("output_cap=lots", "not a number"), ("context_cut", "expected KEY=VALUE")])
def test_what_if_bad_levers_exit_2(mlops_run, cli, lever, expect):
    out = mlops_run
    code, _, err = cli("cost", "--run", out, "--what-if", lever)
    assert code == 2 and expect in err, err
    code, text, err = cli("cost", "--run", out, "--what-if", "batch_discount=0.5")
    assert code == 0 and "token levers do not apply" in text and "break-even against" in text, err
    assert cli("cost", "--what-if", "batch_discount=0.5")[0] == 2  # levers need a run
