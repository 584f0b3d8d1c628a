"""The guardrail engine inside the LLMOps pipeline on the embedded models (SmolLM2 through llama.cpp, MiniLM +
FAISS): masked PII never reaches the model, the call cache, the index or the run directory; a BLOCK entity stops
its item with the policy named; the run's ``guardrails`` section counts what happened."""

from __future__ import annotations

import json

import pytest

pytest.importorskip("llama_cpp")
pytest.importorskip("sentence_transformers")

from conftest import tiny_docs, write_golden  # noqa: E402

pytestmark = pytest.mark.slow

EMAIL, PHONE, SSN = "ap@riverstone-optics.com", "+1 415-555-0132", "219-09-9999"


@pytest.fixture(scope="module")
def guarded_run(tmp_path_factory):
    from harness.cli import main

    root = tmp_path_factory.mktemp("guarded")
    docs = tiny_docs()
    by_id = {d["id"]: d for d in docs}
    by_id["d012"]["text"] += f"Questions: {EMAIL} or {PHONE}\n"  # ANONYMIZE types: masked, the item goes on
    by_id["d013"]["text"] += f"Employee SSN: {SSN}\n"  # a BLOCK type: the item stops
    qa = [{"id": "q1", "split": "test", "doc_ids": ["d012"], "question": "Whom do I contact about N-012?",
           "reference_answer": f"{EMAIL}", "reference_contexts": [f"Questions: {EMAIL}"]}]
    golden = write_golden(root / "golden", docs=[d for d in docs if d["split"] == "test"][:3], qa=qa)
    args = ["run", "--pipeline", "llmops", "--golden", str(golden), "--split", "test", "--out", str(root / "run"),
            "--no-progress", "--set", f"cache.dir={root / 'cache'}", "--set", f"index_dir={root / 'index'}",
            "--set", "guardrails.config=techcorp", "--set", "tasks=[classify, answer]"]
    assert main(args) == 0
    return root


def _preds(root):
    return {json.loads(x)["id"]: json.loads(x) for x in (root / "run" / "predictions.jsonl").read_text().splitlines()}


def test_no_masked_pii_anywhere_the_run_wrote(guarded_run):
    written = [p for d in ("run", "cache", "index") for p in (guarded_run / d).rglob("*") if p.is_file()]
    assert len(written) >= 5
    for path in written:
        data = path.read_bytes()
        for secret in (EMAIL, PHONE, SSN):
            assert secret.encode() not in data, f"{secret} found in {path}"


def test_block_entity_stops_its_item_and_anonymize_passes_masked(guarded_run):
    preds = _preds(guarded_run)
    blocked = preds["d013"]["tasks"]["classify"]
    assert "blocked by input guardrail" in blocked["error"] and "pii" in blocked["error"]
    fine = preds["d012"]["tasks"]["classify"]
    assert not (fine["error"] or "").startswith("blocked")
    events = fine["meta"]["guardrails"]["input"]
    assert {(e["type"], e["action"]) for ev in events for e in ev["pii"]} == {("EMAIL", "ANONYMIZED"),
                                                                              ("PHONE", "ANONYMIZED")}
    answer = preds["q1"]
    assert answer.get("contexts") and any("{EMAIL}" in c for c in answer["contexts"])


def test_guardrails_section_counts_it(guarded_run):
    m = json.loads((guarded_run / "run" / "metrics.json").read_text())
    g = m["guardrails"]
    assert g["calls"] >= 3 and g["blocked"]["input"] == 1 and g["blocked_calls"] >= 1
    assert g["pii"].get("EMAIL anonymized", 0) >= 1 and g["pii"].get("US_SOCIAL_SECURITY_NUMBER blocked") == 1
    assert g["text_units"]["sensitiveInformationPolicyUnits"] >= 3 and g["latency_s"]["p95"] >= 0
    run = json.loads((guarded_run / "run" / "run.json").read_text())
    assert run["predictor"]["guardrails"]["name"] == "TechCorp-DocIntelligence-Guardrails"
    assert "content:HATE" in run["predictor"]["guardrails"]["not_evaluated_offline"]
