"""LLMOps pipeline on the Bedrock path: the real langchain-aws / botocore client against the loopback
stand-in (plain, streamed, throttled, failing, hanging), plus the call cache and prompt hashes."""

from __future__ import annotations

import json
import re

import pytest

pytest.importorskip("langchain_aws")
pytest.importorskip("faiss")

from bedrock_standin import BedrockStandIn, user_text  # noqa: E402
from conftest import TECHCORP  # noqa: E402
from harness.golden import load_golden_set  # noqa: E402

HAIKU = "anthropic.claude-3-haiku-20240307-v1:0"
pytest_plugins = ["pytester"]  # the CI recipe (docs/guides/ci.md) runs pytest with the harness plugin


pytestmark = pytest.mark.usefixtures("aws_env")  # dummy SigV4 keys, no instance metadata


class GoldResponder:
    """A stand-in 'model' that answers from the golden set: right for every document except those listed
    as broken, where it returns malformed output."""

    def __init__(self, broken=()):
        g = load_golden_set(TECHCORP)
        self.by_text = {d.text[:4000]: d for s in g.manifest.splits for d in g.items(s, kinds=("document",))}
        self.qa = {q.question: q for q in g.items("test", kinds=("qa",))}
        self.broken = set(broken)

    def __call__(self, model_id, body):
        text = user_text(body)
        if text.startswith("Passages:"):
            q = re.search(r"Question: (.*)\n", text).group(1)
            first = re.search(r"\[([^\]]+#\d+)\]", text)
            return json.dumps({"answer": self.qa[q].reference_answer, "citations": [first.group(1)] if first else []})
        doc_text = text.split("Document", 1)[1].split(":\n", 1)[1].rsplit("\n\nReply as JSON", 1)[0]
        doc = self.by_text[doc_text]
        if doc.id in self.broken:
            return "Sorry, I cannot help with that."
        if '"label"' in text:
            return json.dumps({"label": doc.label})
        if '"summary"' in text:
            return json.dumps({"summary": doc.summary or "a document"})
        return "Here you go: " + json.dumps(doc.fields)


@pytest.fixture(scope="module")
def shared_index(tmp_path_factory):
    """One Titan index for the module: it is keyed by corpus, model and chunking, so sharing is safe."""
    return tmp_path_factory.mktemp("index")


@pytest.fixture(autouse=True)
def _index_dir(shared_index, monkeypatch):
    monkeypatch.setenv("HARNESS_TEST_INDEX_DIR", str(shared_index))


def _run(cli, tmp_path, server, out="r", *extra):
    import os

    return cli("run", "--pipeline", "llmops", "--golden", TECHCORP, "--split", "test", "--per-class", 1,
               "--qa-limit", 4, "--out", tmp_path / out, "--no-progress",
               "--set", "llm.provider=bedrock", "--set", f"llm.model_id={HAIKU}",
               "--set", f"llm.endpoint_url={server.url}", "--set", "embeddings.provider=bedrock",
               "--set", "llm.concurrency=4", "--set", f"cache.dir={tmp_path / 'cache'}",
               "--set", f"index_dir={os.environ['HARNESS_TEST_INDEX_DIR']}", *extra)


def _preds(path):
    return {json.loads(x)["id"]: json.loads(x) for x in path.read_text().splitlines()}


def test_bedrock_run_end_to_end(tmp_path, cli):
    g = load_golden_set(TECHCORP)
    broken = [g.items("test", kinds=("document",))[0].id]
    with BedrockStandIn(responder=GoldResponder(broken=broken), latency_s=0.01) as server:
        code, out, err = _run(cli, tmp_path, server)
        assert code == 0, err
        assert server.stats.stream > 0 and server.stats.invoke > 0  # streamed Converse + Titan embeddings
    m = json.loads((tmp_path / "r" / "metrics.json").read_text())
    assert m["counts"]["items"] == 12 + 4
    # the broken document: invalid output recorded as an error on that item, counted, not a crash
    assert m["counts"]["by_task"]["classify"]["errors"] == 1 and m["counts"]["by_task"]["extract"]["errors"] == 1
    assert m["classification"]["accuracy"] == pytest.approx(11 / 12)
    assert m["extraction"]["accuracy"] > 0.85
    preds = _preds(tmp_path / "r" / "predictions.jsonl")
    assert "invalid model output" in preds[broken[0]]["tasks"]["classify"]["error"]
    run_json = json.loads((tmp_path / "r" / "run.json").read_text())
    assert set(run_json["predictor"]["prompts"]) == {"classify", "extract", "answer", "summarize"}
    assert run_json["predictor"]["llm"] == {"provider": "bedrock", "model_id": HAIKU}
    for p in preds.values():
        for task, r in p["tasks"].items():
            assert r["meta"]["prompt_sha256"] == run_json["predictor"]["prompts"][task]["sha256"]
            assert r["latency_s"] > 0 and r["usage"]["input_tokens"] > 0
            if not r.get("error"):
                assert r["ttft_s"] is not None and 0 < r["ttft_s"] <= r["latency_s"]
    # cost, recomputed by hand from the run's own recorded usage: tokens x Haiku's prices, embedding tokens
    # (the index's per document x 12 documents + the questions' queries) x Titan v2's price, + the fixed rows
    tin = sum(r["usage"]["input_tokens"] for p in preds.values() for r in p["tasks"].values())
    tout = sum(r["usage"]["output_tokens"] for p in preds.values() for r in p["tasks"].values())
    tq = sum(r["usage"].get("embedding_tokens", 0) for p in preds.values() for r in p["tasks"].values())
    index = run_json["predictor"]["index"]
    assert run_json["predictor"]["embeddings"] == "bedrock/amazon.titan-embed-text-v2:0"
    assert index["embedding_tokens"] > index["n_chunks"] and tq > 0  # as the stand-in reported them
    assert m["usage"]["embedding_tokens"] == tq
    embed = (index["embedding_tokens"] / index["n_documents"] * 12 + tq) / 1000 * 0.00002
    fixed_monthly = 500 + 20 + 1.25 + 50 + 75 + 11.5 + 200 + 37.5  # runs.yaml's llmops rows but the Titan one
    measured = tin / 1000 * 0.00025 + tout / 1000 * 0.00125 + embed
    assert "Titan Embeddings" not in {r["row"] for r in m["cost"]["breakdown"]}  # measured, not estimated
    assert m["cost"]["measured"] == pytest.approx(measured, abs=1e-8)
    assert m["cost"]["per_document"] == pytest.approx(measured / 12 + fixed_monthly / 50000, abs=1e-8)
    # both written rounded to 8 decimals: per_document's rounding, times 50,000, is up to 2.5e-4
    assert m["cost"]["monthly_projection"] == pytest.approx(m["cost"]["per_document"] * 50000, abs=2.5e-4)
    assert "bedrock-claude-3-haiku.yaml" in m["cost"]["price_files"]
    assert m["answers"]["judge"] == {"provider": "none"}  # the judge's cost is never in the system's
    qa = [p for p in preds.values() if p["id"].startswith("qa-")]
    assert all(len(p["contexts"]) == 4 and len(p["tasks"]["answer"]["meta"]["retrieved"]) == 4 for p in qa)
    assert all(p["tasks"]["answer"]["meta"]["citations"] for p in qa)


def test_unchanged_rerun_makes_no_calls_and_prompt_change_reruns_only_its_task(tmp_path, cli):
    with BedrockStandIn(responder=GoldResponder()) as server:
        assert _run(cli, tmp_path, server, "a")[0] == 0
        first = server.stats.stream
        assert _run(cli, tmp_path, server, "b")[0] == 0
        assert server.stats.stream == first  # everything served from the cache
        preds = _preds(tmp_path / "b" / "predictions.jsonl")
        assert all(r["meta"]["cache_hit"] for p in preds.values() for r in p["tasks"].values())
        # one word changed in the summarize prompt: only the summaries are asked again
        prompts = tmp_path / "prompts"
        prompts.mkdir()
        from pipelines.llmops.prompts import DEFAULT_DIR
        for f in DEFAULT_DIR.glob("*.yaml"):
            text = f.read_text()
            if f.name == "summarize-v2.yaml":  # the default summarize prompt
                text = text.replace("one-sentence factual summaries", "one-sentence precise summaries")
            (prompts / f.name).write_text(text)
        assert _run(cli, tmp_path, server, "c", "--set", f"prompts.dir={prompts}")[0] == 0
        n_summaries = sum(1 for p in preds.values() if "summarize" in p["tasks"])
        assert server.stats.stream == first + n_summaries
    hash_b = json.loads((tmp_path / "b" / "run.json").read_text())["predictor"]["prompts"]
    hash_c = json.loads((tmp_path / "c" / "run.json").read_text())["predictor"]["prompts"]
    assert hash_b["summarize"]["sha256"] != hash_c["summarize"]["sha256"]
    assert hash_b["classify"]["sha256"] == hash_c["classify"]["sha256"]


def test_throttling_is_retried_until_everything_completes(tmp_path, cli):
    with BedrockStandIn(responder=GoldResponder(), throttle_rate=0.3, seed=3) as server:
        code, _, err = _run(cli, tmp_path, server, "r", "--set", "cache.enabled=false",
                            "--set", "tasks=[classify, extract]")
        assert code == 0, err
        assert server.stats.throttled > 0
    m = json.loads((tmp_path / "r" / "metrics.json").read_text())
    assert m["counts"]["errors"] == 0 and m["classification"]["accuracy"] == 1.0


def test_persistent_failures_are_recorded_and_counted(tmp_path, cli):
    with BedrockStandIn(responder=GoldResponder(), error_rate=1.0) as server:
        code, _, err = _run(cli, tmp_path, server, "r", "--set", "llm.max_retries=1", "--set", "cache.enabled=false",
                            "--set", "embeddings.provider=local", "--set", "tasks=[classify]")
        assert code == 0, err
    m = json.loads((tmp_path / "r" / "metrics.json").read_text())
    assert m["counts"]["by_task"]["classify"] == {"expected": 12, "scored": 12, "errors": 12, "unscored": 0}
    assert m["classification"]["accuracy"] == 0.0
    preds = _preds(tmp_path / "r" / "predictions.jsonl")
    assert all("ServiceUnavailableException" in p["tasks"]["classify"]["error"] for p in preds.values())


def test_timeouts_are_recorded(tmp_path, cli):
    with BedrockStandIn(responder=GoldResponder(), hang_rate=1.0, hang_s=3) as server:
        code, _, err = _run(cli, tmp_path, server, "r", "--set", "llm.max_retries=0", "--set", "llm.timeout_s=0.5",
                            "--set", "cache.enabled=false", "--set", "tasks=[classify]", "--limit", 3)
        assert code == 0, err
    preds = _preds(tmp_path / "r" / "predictions.jsonl")
    assert len(preds) == 3 and all("timeout" in p["tasks"]["classify"]["error"].lower() for p in preds.values())


def test_bedrock_needs_a_model_id(tmp_path, cli):
    code, _, err = cli("run", "--pipeline", "llmops", "--golden", TECHCORP, "--out", tmp_path / "r",
                       "--set", "llm.provider=bedrock")
    assert code == 2 and "llm.model_id: Bedrock needs a model id" in err


def test_bedrock_run_judged_by_a_bedrock_judge(tmp_path, cli):
    """A TechCorp run with --judge bedrock: every answers.* metric comes from ragas through the stand-in
    Claude, with its counts, and the judge's tokens and cost are reported apart from the pipeline's."""
    pytest.importorskip("ragas")
    from judge_responder import JudgeResponder

    qa = load_golden_set(TECHCORP).items("test", kinds=("qa",))
    responder = JudgeResponder({q.reference_answer: q.question for q in qa}, fallback=GoldResponder())
    with BedrockStandIn(responder=responder, latency_s=0.005) as server:
        code, out, err = _run(cli, tmp_path, server, "r", "--judge", "bedrock", "--set", f"judge.model_id={HAIKU}",
                              "--set", f"judge.endpoint_url={server.url}", "--set", "judge.embeddings=bedrock",
                              "--set", f"judge.cache.dir={tmp_path / 'jcache'}",
                              "--set", "judge.answer_relevancy_strictness=1")
        assert code == 0, err
    assert "judge: unfaithful answers" in out and "judge cost (USD)" in out
    m = json.loads((tmp_path / "r" / "metrics.json").read_text())
    a = m["answers"]
    for name in ("faithfulness", "answer_relevance", "context_precision", "context_recall"):
        assert a["source"][name] == f"ragas via bedrock/{HAIKU}"
        c = a["counts"][name]
        assert c["scored"] + sum(c["unscored"].values()) == 4
    assert a["counts"]["answer_relevance"]["scored"] == 4
    assert a["answer_relevance"] == pytest.approx(1.0, abs=1e-6)  # every answer is its reference answer
    assert a["judge"]["usage"]["input_tokens"] > 0 and a["judge"]["cost_usd"] > 0
    assert m["usage"]["input_tokens"] > 0  # the pipeline's own tokens, counted apart
    judged = [json.loads(x) for x in (tmp_path / "r" / "judgments.jsonl").read_text().splitlines()]
    assert sorted(j["id"] for j in judged) == [q.id for q in qa[:4]]
    # `harness judge` again: verdicts reused, no request; --judge none goes back to the offline figures
    with BedrockStandIn(responder=responder) as server:
        code, _, err = cli("judge", tmp_path / "r", "--judge", "bedrock", "--set", f"judge.model_id={HAIKU}",
                           "--set", f"judge.endpoint_url={server.url}", "--set", "judge.embeddings=bedrock",
                           "--set", f"judge.cache.dir={tmp_path / 'jcache'}",
                           "--set", "judge.answer_relevancy_strictness=1", "--no-progress")
        assert code == 0 and server.stats.requests == 0, err
    code, _, err = cli("judge", tmp_path / "r", "--judge", "none")
    assert code == 0, err
    a = json.loads((tmp_path / "r" / "metrics.json").read_text())["answers"]
    assert a["judge"] == {"provider": "none"} and a["source"]["faithfulness"] == "offline detector"


class ValueResponder(GoldResponder):
    """Gold, but an answer is the value alone as the passage writes it ("INV-2025-17967"): grounded word for word
    (the reference answers' own sentences, "The referenced order or invoice number is ...", carry words the
    passages lack, which the offline detector counts as unsupported)."""

    def __call__(self, model_id, body):
        reply = super().__call__(model_id, body)
        if user_text(body).startswith("Passages:"):
            obj = json.loads(reply)
            obj["answer"] = re.split(r" (?:is|are) ", obj["answer"].rstrip("."), maxsplit=1)[-1]
            reply = json.dumps(obj)
        return reply


def test_the_readme_ci_recipe_passes_on_a_run_that_meets_the_criteria(tmp_path, cli, pytester):
    """Issue 26, item 3: the CI recipe of docs/guides/ci.md (an LLMOps run on Bedrock gated by the pytest plugin against
    the TechCorp criteria, its user ratings given, the previous run of the same pipeline as the baseline) passes
    on a run that meets the criteria, and names the criterion when one is not met."""
    pytest.importorskip("sentence_transformers")  # the run retrieves with the local extra's embedder
    with BedrockStandIn(responder=ValueResponder(), latency_s=0.01) as server:
        for out in ("llmops-main", "llmops"):
            # MiniLM for the index: retrieval that finds the answer's passage, so the gold answers are grounded
            # (the stand-in's hashed Titan vectors are too crude to find it for every question)
            code, _, err = _run(cli, tmp_path, server, out, "--set", "embeddings.provider=local")
            assert code == 0, err
    code, html, _ = cli("report", tmp_path / "llmops", "--format", "html")  # item 7: the page names the LLM
    assert code == 0 and f"bedrock/{HAIKU}" in html
    ratings = tmp_path / "ratings.csv"
    ratings.write_text("rating\n5\n4\n5\n")
    gate = ["--harness-run", tmp_path / "llmops", "--harness-baseline", tmp_path / "llmops-main", "--harness-only",
            "--junitxml", tmp_path / "gates.xml"]
    res = pytester.runpytest_subprocess(*gate, "--harness-ratings", ratings)
    res.assert_outcomes(passed=6 + 6)  # six pilot criteria, six regression checks
    assert 'failures="0"' in (tmp_path / "gates.xml").read_text()
    res = pytester.runpytest_subprocess(*gate)  # no ratings: user satisfaction cannot be measured, so it fails
    res.assert_outcomes(passed=11, failed=1)
    assert "User satisfaction (mean rating, 1-5): not measurable" in res.stdout.str()
    res = pytester.runpytest_subprocess(*gate, "--harness-ratings", ratings, "--harness-go-no-go")
    res.assert_outcomes(passed=12, failed=1)  # a single week of runs: the go/no-go cannot say GO yet
    assert "go/no-go: HOLD" in res.stdout.str() and "1 of 4 weeks measured" in res.stdout.str()
    res = pytester.runpytest_subprocess(*gate, "--harness-audit", tmp_path / "audit.yaml")
    assert res.ret == 4 and "add --harness-go-no-go" in res.stderr.str()
