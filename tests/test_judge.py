"""The LLM judge (ragas metrics) on the Bedrock path: the real ragas metrics and the real langchain-aws client
against the loopback stand-in, with a stand-in Claude that judges by simple rules, so the expected scores are
known. Also: judge failures and NaNs counted as unscored with reasons, judge tokens and cost apart from the
system's, resuming, and configuration errors."""

from __future__ import annotations

import json
import math

import pytest

pytest.importorskip("ragas")
pytest.importorskip("langchain_aws")

from bedrock_standin import BedrockStandIn  # noqa: E402
from conftest import TECHCORP  # noqa: E402
from harness.golden import load_golden_set  # noqa: E402
from judge_responder import JudgeResponder  # noqa: E402

HAIKU = "anthropic.claude-3-haiku-20240307-v1:0"


pytestmark = pytest.mark.usefixtures("aws_env")  # dummy SigV4 keys, no instance metadata


@pytest.fixture(scope="module")
def qa():
    return load_golden_set(TECHCORP).items("test", kinds=("qa",))


def _predictions(qa, path):
    """Six answered items: three right, one unsupported, one the judge cannot parse, one with no statements;
    one failed call; the rest of the split has no prediction."""
    rows = []
    for it in qa[:3]:
        rows.append({"id": it.id, "answer": it.reference_answer,
                     "contexts": [f"{it.reference_answer} {it.reference_contexts[0]}", "Unrelated: the canteen opens at 9."]})
    ctx = lambda it: [f"{it.reference_answer} {it.reference_contexts[0]}"]  # noqa: E731
    rows.append({"id": qa[3].id, "answer": "The total is 99999 zorkmids.", "contexts": ctx(qa[3])})
    rows.append({"id": qa[4].id, "answer": "JUDGE-GARBAGE something.", "contexts": ctx(qa[4])})
    rows.append({"id": qa[5].id, "answer": "JUDGE-EMPTY something.", "contexts": ctx(qa[5])})
    rows.append({"id": qa[6].id, "tasks": {"answer": {"error": "model call failed: ReadTimeout"}}})
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def _score(cli, tmp_path, server, preds, *extra):
    return cli("score", "--golden", TECHCORP, "--split", "test", "--predictions", preds, "--out", tmp_path / "s",
               "--judge", "bedrock", "--set", "judge.model_id=claude-3-haiku", "--set", f"judge.endpoint_url={server.url}",
               "--set", "judge.embeddings=bedrock", "--set", f"judge.cache.dir={tmp_path / 'jc'}",
               "--set", "judge.answer_relevancy_strictness=1", "--format", "json", *extra)


def test_bedrock_judge_scores_answers_counts_failures_and_reports_cost_apart(tmp_path, cli, qa):
    responder = JudgeResponder({it.reference_answer: it.question for it in qa})
    preds = _predictions(qa, tmp_path / "p.jsonl")
    with BedrockStandIn(responder=responder) as server:
        code, out, err = _score(cli, tmp_path, server, preds)
        assert code == 0, err
        first_requests = server.stats.requests
        assert server.stats.stream > 0 and server.stats.invoke > 0  # streamed Converse + Titan embeddings
    assert {"StatementGeneratorOutput", "NLIStatementOutput", "AnswerRelevanceOutput", "ContextPrecisionOutput",
            "ContextRecallOutput"} <= set(responder.calls)
    m = json.loads((tmp_path / "s" / "metrics.json").read_text())
    a = m["answers"]
    n_missing = len(qa) - 7
    # faithfulness: three right answers 1.0, the unsupported one 0.0; garbage, NaN and the failed call unscored
    assert a["faithfulness"] == pytest.approx(0.75)
    assert a["counts"]["faithfulness"]["scored"] == 4
    why = a["counts"]["faithfulness"]["unscored"]
    assert why.pop("no prediction") == n_missing
    assert why == {"invalid judge output: StatementGeneratorOutput: no JSON object in model output: "
                   "'I am not able to evaluate this answer.'": 1,
                   "judge found no statements in the answer (NaN)": 1, "no answer (failed or empty)": 1}
    assert a["judge"]["hallucination_rate"] == pytest.approx(0.25)  # 1 of 4 judged answers not fully faithful
    # a reference answer maps back to its question: cosine 1.0; the others do not
    assert a["counts"]["answer_relevance"]["scored"] == 6
    assert 0.5 - 1e-6 <= a["answer_relevance"] < 1.0
    # the reference is in the first context of every answered item
    assert a["context_precision"] == pytest.approx(1.0, abs=1e-6) and a["context_recall"] == pytest.approx(1.0)
    assert a["counts"]["context_recall"]["scored"] == 6
    assert all(s.startswith("ragas via bedrock/" + HAIKU) for k, s in a["source"].items()
               if k in ("faithfulness", "answer_relevance", "context_precision", "context_recall"))
    # the offline figures are kept beside the judge's; the gates' hallucination rate is the detector's
    assert set(a["offline"]) == {"faithfulness", "context_precision", "context_recall"}
    assert a["source"]["hallucination_rate"] == "offline detector" and a["hallucination_rate"] is not None
    # judge tokens and cost, apart from the system's own usage (none recorded for external predictions)
    usage = a["judge"]["usage"]
    assert usage["calls"] > 0 and usage["input_tokens"] > 0 and usage["output_tokens"] > 0
    assert a["judge"]["cost_usd"] == pytest.approx((usage["input_tokens"] * 0.00025
                                                    + usage["output_tokens"] * 0.00125) / 1000)
    assert "usage" not in m
    assert "answers.judge.hallucination_rate" in m["ci"]
    lines = [json.loads(x) for x in (tmp_path / "s" / "judgments.jsonl").read_text().splitlines()]
    assert len(lines) == 7 and all(set(j["scores"]) == {"faithfulness", "answer_relevancy", "context_precision",
                                                        "context_recall"} for j in lines)
    assert all(j["scores"][k] is not None or j["reasons"][k] for j in lines for k in j["scores"])

    # re-scoring reuses the verdicts: no request at all; another metric set re-judges from the call cache
    with BedrockStandIn(responder=responder) as server:
        code, _, err = _score(cli, tmp_path, server, preds)
        assert code == 0 and server.stats.requests == 0, err
        code, _, err = _score(cli, tmp_path, server, preds, "--set", "judge.metrics=[faithfulness]")
        assert code == 0 and server.stats.requests == 0, err
    m2 = json.loads((tmp_path / "s" / "metrics.json").read_text())
    assert m2["answers"]["faithfulness"] == pytest.approx(0.75)
    assert m2["answers"]["judge"]["usage"]["cached_calls"] == m2["answers"]["judge"]["usage"]["calls"] > 0
    assert m2["answers"]["source"]["answer_relevance"] is None  # not judged this time: offline (unscored)
    assert first_requests > 0


def test_failing_judge_calls_are_unscored_with_reasons(tmp_path, cli, qa):
    preds = _predictions(qa, tmp_path / "p.jsonl")
    with BedrockStandIn(responder=JudgeResponder(), error_rate=1.0) as server:
        code, _, err = _score(cli, tmp_path, server, preds, "--set", "judge.max_retries=0",
                              "--set", "judge.metrics=[faithfulness,context_recall]")
    assert code == 0, err
    a = json.loads((tmp_path / "s" / "metrics.json").read_text())["answers"]
    assert a["faithfulness"] is None and a["counts"]["faithfulness"]["scored"] == 0
    failed = {k: v for k, v in a["counts"]["faithfulness"]["unscored"].items() if k.startswith("judge call failed")}
    assert sum(failed.values()) == 6 and all("ServiceUnavailable" in k for k in failed)
    assert a["judge"]["usage"]["input_tokens"] == 0 and a["judge"]["cost_usd"] == 0.0


def test_judge_scores_never_average_a_nan():
    from metrics.answers import judge_scores

    r = judge_scores([{"scores": {"faithfulness": float("nan")}, "reasons": {}},
                      {"scores": {"faithfulness": 0.5}, "usage": {"input_tokens": 10, "output_tokens": 2}}],
                     ["faithfulness"])
    assert r.values["faithfulness"] == 0.5 and not math.isnan(r.values["faithfulness"])
    assert r.counts["faithfulness"] == {"scored": 1, "unscored": {"judge gave no score (NaN)": 1}}
    assert r.cost_usd is None and r.usage["input_tokens"] == 10


def test_judge_settings_are_checked_before_any_work(tmp_path, cli, qa):
    preds = _predictions(qa, tmp_path / "p.jsonl")
    base = ["score", "--golden", TECHCORP, "--split", "test", "--predictions", preds, "--out", tmp_path / "s"]
    code, _, err = cli(*base, "--set", "judge.provider=gpt")
    assert code == 2 and "judge.provider" in err
    code, _, err = cli(*base, "--judge", "bedrock")
    assert code == 2 and "judge.model_id" in err
    code, _, err = cli(*base, "--set", "llm.provider=bedrock")
    assert code == 2 and "only judge.* settings" in err
    code, _, err = cli(*base, "--set", "judge.colour=blue")
    assert code == 2 and "judge.colour: unknown setting" in err


def test_judge_command_on_a_run_without_answers(tmp_path, cli, qa):
    doc = load_golden_set(TECHCORP).items("test", kinds=("document",))[0]
    (tmp_path / "p.jsonl").write_text(json.dumps({"id": doc.id, "label": doc.label}) + "\n")
    code, _, err = cli("score", "--golden", TECHCORP, "--split", "test", "--predictions", tmp_path / "p.jsonl",
                       "--out", tmp_path / "s")
    assert code == 0, err
    code, _, err = cli("judge", tmp_path / "s", "--judge", "local")
    assert code == 2 and "no answers to judge (its tasks: classify)" in err


def test_judge_limit_then_the_rest(tmp_path, cli, qa):
    """judge.limit judges a sample first; a later run without it judges only the answers not yet judged."""
    responder = JudgeResponder({it.reference_answer: it.question for it in qa})
    preds = _predictions(qa, tmp_path / "p.jsonl")
    with BedrockStandIn(responder=responder) as server:
        code, _, err = _score(cli, tmp_path, server, preds, "--set", "judge.limit=2",
                              "--set", "judge.metrics=[faithfulness]")
        assert code == 0, err
        a = json.loads((tmp_path / "s" / "metrics.json").read_text())["answers"]
        assert a["counts"]["faithfulness"]["scored"] == 2
        assert a["counts"]["faithfulness"]["unscored"]["not judged (judge.limit=2)"] == 4
        calls_before = dict(responder.calls)
        code, _, err = _score(cli, tmp_path, server, preds, "--set", "judge.metrics=[faithfulness]")
        assert code == 0, err
    a = json.loads((tmp_path / "s" / "metrics.json").read_text())["answers"]
    assert a["counts"]["faithfulness"]["scored"] == 4 and a["faithfulness"] == pytest.approx(0.75)
    # statements were generated once per answer: 2 in the first run, 4 more in the second
    assert calls_before["StatementGeneratorOutput"] == 2 and responder.calls["StatementGeneratorOutput"] == 6
    lines = (tmp_path / "s" / "judgments.jsonl").read_text().splitlines()
    assert len(lines) == 7  # two judged, then the other four answered items and the failed one
