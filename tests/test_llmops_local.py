"""LLMOps on the embedded defaults: the real SmolLM2 (llama.cpp) and all-MiniLM-L6-v2 + FAISS, on a few
items (kept small: the model is slow on 2 cores)."""

from __future__ import annotations

import json

import pytest

pytest.importorskip("llama_cpp")
pytest.importorskip("sentence_transformers")

from conftest import TECHCORP  # noqa: E402
from harness.golden import load_golden_set  # noqa: E402

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def local_run(tmp_path_factory):
    from harness.cli import main

    out = tmp_path_factory.mktemp("local")
    args = ["run", "--pipeline", "llmops", "--golden", str(TECHCORP), "--split", "test", "--per-class", "1",
            "--limit", "3", "--out", str(out / "r"), "--no-progress", "--set", f"cache.dir={out / 'cache'}",
            "--set", f"index_dir={out / 'index'}", "--set", "tasks=[classify, extract]"]
    assert main(args) == 0
    qa = ["run", "--pipeline", "llmops", "--golden", str(TECHCORP), "--split", "test", "--qa-limit", "2",
          "--per-class", "0", "--out", str(out / "qa"), "--no-progress", "--set", f"cache.dir={out / 'cache'}",
          "--set", f"index_dir={out / 'index'}", "--set", "tasks=[answer]"]
    assert main(qa) == 0
    return out


def _preds(path):
    return [json.loads(x) for x in path.read_text().splitlines()]


def test_local_classify_and_extract(local_run):
    labels = set(load_golden_set(TECHCORP).manifest.labels)
    preds = _preds(local_run / "r" / "predictions.jsonl")
    assert len(preds) == 3
    for p in preds:
        c = p["tasks"]["classify"]
        # the grammar constrains the label to the manifest's labels
        assert c.get("error") or p["label"] in labels
        for r in p["tasks"].values():
            assert r["usage"]["input_tokens"] > 50 and r["usage"]["output_tokens"] > 0  # counted by the tokenizer
            assert r["meta"]["prompt_sha256"] and r["meta"]["model"].startswith("local/")
            assert r["ttft_s"] is not None and r["ttft_s"] <= r["latency_s"]
    m = json.loads((local_run / "r" / "metrics.json").read_text())
    assert m["counts"]["items"] == 3 and m["counts"]["unscored"] == 0
    assert m["usage"]["input_tokens"] > 0
    # cost by hand: the local model's tokens cost 0 (stated so), the fixed rows spread over 50,000 documents
    tokens = [b for b in m["cost"]["breakdown"] if b["kind"] == "measured"]
    assert all(b["usd"] == 0 and "local model" in b["basis"] for b in tokens) and m["cost"]["measured"] == 0
    fixed_monthly = 12.5 + 500 + 20 + 1.25 + 50 + 75 + 11.5 + 200 + 37.5
    assert m["cost"]["per_document"] == pytest.approx(fixed_monthly / 50000, abs=1e-8)


def test_local_answers_cite_retrieved_chunks(local_run):
    preds = _preds(local_run / "qa" / "predictions.jsonl")
    assert [p["id"] for p in preds] == ["qa-0001", "qa-0002"]
    for p in preds:
        meta = p["tasks"]["answer"]["meta"]
        assert len(meta["retrieved"]) == 4 and len(p["contexts"]) == 4
        if not p["tasks"]["answer"].get("error"):
            assert set(meta["citations"]) <= {r["id"] for r in meta["retrieved"]}
    index_dirs = list((local_run / "index").iterdir())
    assert len(index_dirs) == 1
    # embedding tokens, counted with MiniLM's own tokenizer: the index's chunks and each question's query
    from transformers import AutoTokenizer

    from harness.models.embeddings import local_minilm_path

    tok = AutoTokenizer.from_pretrained(str(local_minilm_path()))
    golden = {it.id: it for it in load_golden_set(TECHCORP).items("test")}
    for p in preds:
        assert p["tasks"]["answer"]["usage"]["embedding_tokens"] == len(tok(golden[p["id"]].question)["input_ids"])
    meta = json.loads((index_dirs[0] / "meta.json").read_text())
    chunks = json.loads((index_dirs[0] / "chunks.json").read_text())
    assert meta["embedding_tokens"] == sum(len(tok(c["text"], truncation=True, max_length=256)["input_ids"])
                                           for c in chunks)
    run_json = json.loads((local_run / "qa" / "run.json").read_text())
    assert run_json["predictor"]["index"]["embedding_tokens"] == meta["embedding_tokens"]
    assert sorted(f.name for f in index_dirs[0].iterdir()) == ["chunks.json", "index.faiss", "meta.json"]


def test_local_judge_scores_a_run_with_ragas(local_run, cli):
    """The real SmolLM2 as ragas' judge (grammar-constrained JSON), on one answer: a plumbing check."""
    pytest.importorskip("ragas")
    code, out, err = cli("judge", local_run / "qa", "--judge", "local", "--set", "judge.metrics=[faithfulness]",
                         "--set", "judge.limit=1", "--set", f"judge.cache.dir={local_run / 'jcache'}",
                         "--no-progress", "--format", "json")
    assert code == 0, err
    lines = [json.loads(x) for x in (local_run / "qa" / "judgments.jsonl").read_text().splitlines()]
    judged = [j for j in lines if j["usage"]["calls"]]
    assert len(judged) == 1 and judged[0]["model"] == "local/SmolLM2-135M-Instruct"
    assert judged[0]["usage"]["input_tokens"] > 100 and judged[0]["usage"]["output_tokens"] > 0  # tokenizer counts
    v = judged[0]["scores"]["faithfulness"]
    assert (v is not None and 0.0 <= v <= 1.0) or judged[0]["reasons"]["faithfulness"]
    a = json.loads((local_run / "qa" / "metrics.json").read_text())["answers"]
    assert a["judge"]["provider"] == "local" and a["judge"]["cost_usd"] == 0.0
    c = a["counts"]["faithfulness"]
    assert c["scored"] + sum(c["unscored"].values()) == 2
    preds = _preds(local_run / "qa" / "predictions.jsonl")
    if all(p.get("answer") for p in preds):  # the second answer is beyond judge.limit: counted, not judged
        assert c["unscored"].get("not judged (judge.limit=1)") == 1
