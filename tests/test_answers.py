"""Answer quality without a judge: the offline hallucination detector, `harness detect` on public labelled
data, and answers.* metrics in metrics.json."""

from __future__ import annotations

import json

import pytest

from metrics.answers import answer_scores, context_precision, context_recall, token_f1
from metrics.hallucination import detect, split_claims


def test_detector_grounds_numbers_dates_and_names():
    src = "Acme Corp reported revenue of $4.1 billion on March 5, 2024, up 12% from last year."
    ok = detect("Acme Corp reported revenue of $4.1 billion, up 12%.", src, 0.5)
    assert not ok.hallucinated and ok.claims[0].evidence.startswith("Acme Corp")
    bad_num = detect("Acme Corp reported revenue of $4.5 billion.", src, 0.5)
    assert bad_num.hallucinated and "number $4.5 billion not in source" in bad_num.claims[0].reasons
    bad_date = detect("Revenue was reported on 2024-03-06.", src, 0.5)
    assert "date 2024-03-06 not in source" in bad_date.claims[0].reasons
    assert not detect("Revenue was reported on 05 March 2024.", src, 0.5).hallucinated  # normalised dates
    bad_name = detect("Globex reported revenue of $4.1 billion.", src, 0.5)
    assert bad_name.hallucinated is False or "name Globex" not in " ".join(bad_name.claims[0].reasons)
    bad_name = detect("Revenue at Globex rose 12%.", src, 0.5)
    assert "name Globex not in source" in bad_name.claims[0].reasons


def test_claims_and_determinism():
    text = "Sales rose 5%; margins fell. The CEO left, and the CFO stayed."
    assert split_claims(text) == ["Sales rose 5%;", "margins fell.", "The CEO left", "the CFO stayed."]
    a = detect(text, "Sales rose 5%. Margins fell.", 0.5)
    assert a == detect(text, "Sales rose 5%. Margins fell.", 0.5)
    assert a.faithfulness == 0.5 and a.n_unsupported == 2


def test_answer_metrics_count_unscored_items():
    r = answer_scores(["Delhi", None, "Paris"], [["The head office is in Delhi."], ["x"], None],
                      ["Delhi", "Rome", "Paris"], [["head office is in Delhi"], ["Rome"], ["Paris"]])
    assert r.n == 3 and r.n_scored == 1 and r.hallucination_rate == 0.0
    assert r.unscored == {"no answer (failed or empty)": 1, "no retrieved contexts to check against": 1}
    assert r.reference_token_f1 == 1.0  # two answers compared with their references
    assert context_recall(["a b c d e", "x y"], ["b c d e"]) == 1.0
    assert context_precision(["x y", "a b c d e"], ["b c d e"]) == 0.5
    assert token_f1("the total is 5", "5") == pytest.approx(0.4)


@pytest.mark.realdata
@pytest.mark.parametrize("fmt,path,min_bal", [
    ("halueval", "halueval/qa_one-turn_data.json", 0.80),
    ("summedits", "summedits_ectsum/summedits_ectsum.json", 0.58),
])
def test_detect_on_public_labelled_data(realdata, tmp_path, cli, fmt, path, min_bal):
    code, out, err = cli("detect", realdata / path, "--format", fmt, "--json", "--out", tmp_path / "d")
    assert code == 0, err
    report = json.loads(out)
    held = report["half_B_held_out"]
    assert held["balanced_accuracy"] > min_bal and held["precision"] > 0.75
    verdicts = [json.loads(x) for x in (tmp_path / "d" / "verdicts.jsonl").read_text().splitlines()]
    assert len(verdicts) == report["all"]["n"] and all("claims" in v for v in verdicts)
    flagged = [v for v in verdicts if v["predicted_hallucinated"]]
    assert all(any(c["reasons"] for c in v["claims"]) for v in flagged)  # every flag says why


def test_detect_jsonl_and_bad_input(tmp_path, cli):
    path = tmp_path / "mine.jsonl"
    path.write_text(json.dumps({"context": "The fee is $40.", "answer": "The fee is $40.", "label": 0}) + "\n" +
                    json.dumps({"context": "The fee is $40.", "answer": "The fee is $45.", "label": 1}) + "\n")
    code, out, _ = cli("detect", path, "--format", "jsonl", "--json")
    assert code == 0 and json.loads(out)["all"]["f1"] == 1.0
    path.write_text('{"context": "x", "answer": "y", "label": 3}\n')
    code, _, err = cli("detect", path, "--format", "jsonl")
    assert code == 2 and "mine.jsonl:1: label" in err


def test_answers_section_in_run_metrics(tiny_golden, tmp_path):
    from harness import load_golden_set, run
    from keyword_predictor import KeywordPredictor

    p = KeywordPredictor()
    m = run(p, load_golden_set(tiny_golden), "test", tmp_path / "r", config={}, config_hash="x", progress=False).metrics
    a = m["answers"]
    # the keyword predictor answers with the third line of the document and cites it: grounded
    assert a["n"] == 1 and a["n_scored"] == 1 and a["hallucination_rate"] == 0.0 and a["judge"] == {"provider": "none"}
    assert a["context_recall"] == 1.0
    # every answer metric says how many items it scored and why the others were not
    assert a["answer_relevance"] is None and a["counts"]["answer_relevance"] == {
        "scored": 0, "unscored": {"needs a judge (judge.provider: none)": 1}}
    assert all(c["scored"] + sum(c["unscored"].values()) == 1 for c in a["counts"].values())
