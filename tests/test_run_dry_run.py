"""``harness run --dry-run``: the items, the model calls per task, the tokens and the cost, with nothing called;
checked against a real run of the same items on the local model (input tokens within 10 %, the real figures
inside the stated ranges, and exact once the cache holds the answers)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import TECHCORP


def _cache_files(path: Path) -> int:
    return len(list(path.rglob("*.json"))) if path.exists() else 0


def _real_usage(run_dir: Path) -> dict:
    """Per task: (calls, input tokens, output tokens) the run recorded."""
    out: dict[str, list[int]] = {}
    for line in (run_dir / "predictions.jsonl").read_text().splitlines():
        for task, r in json.loads(line)["tasks"].items():
            u = r.get("usage") or {}
            t = out.setdefault(task, [0, 0, 0])
            t[0] += 1
            t[1] += u.get("input_tokens", 0)
            t[2] += u.get("output_tokens", 0)
    return out


def test_mlops_dry_run_calls_no_model_and_says_so(tiny_golden, tmp_path, cli):
    code, out, _ = cli("run", "--pipeline", "mlops", "--golden", str(tiny_golden), "--out", str(tmp_path / "r"),
                       "--dry-run")
    assert code == 0
    assert "dry run: mlops on test: 6 items (6 documents, 0 questions)" in out
    assert "tasks: classify 6, extract 6" in out
    assert "calls no language model" in out and "nothing was called" in out
    assert not (tmp_path / "r").exists() and not (tmp_path / "artifacts").exists()  # nothing written or trained
    code, out, _ = cli("run", "--pipeline", "mlops", "--golden", str(tiny_golden), "--out", str(tmp_path / "r"),
                       "--dry-run", "--format", "json")
    plan = json.loads(out)
    assert plan["calls"] == 0 and plan["model"] is None and len(plan["items"]) == 6


def test_bedrock_dry_run_contacts_nothing_and_prices_the_estimate(tiny_golden, tmp_path, cli):
    """Bedrock: the tokens are estimated from the prompt text (said so, as a range) and priced with the
    project's price file; the endpoint is never contacted."""
    from bedrock_standin import BedrockStandIn

    with BedrockStandIn() as server:
        code, out, err = cli("run", "--pipeline", "llmops", "--golden", str(tiny_golden), "--out",
                             str(tmp_path / "r"), "--dry-run", "--format", "json", "--repeats", "2",
                             "--set", "llm.provider=bedrock", "--set", "llm.model_id=claude-3-haiku",
                             "--set", f"llm.endpoint_url={server.url}", "--set", "tasks=[classify, extract]",
                             "--set", f"cache.dir={tmp_path / 'cache'}")
        assert code == 0, err
        assert server.stats.requests == 0
    plan = json.loads(out)
    assert plan["model"] == "bedrock/anthropic.claude-3-haiku-20240307-v1:0"
    assert "estimated from the prompt text" in plan["method"]["input"]
    t = plan["total"]
    assert plan["calls"] == t["calls"] == 2 * 2 * 6  # two tasks, six documents, two repeats
    assert t["input_tokens_low"] < t["input_tokens"] < t["input_tokens_high"]
    assert t["output_tokens_high"] == 2 * 6 * (16 + 420)  # max_tokens of classify and extract, twice
    cost = plan["cost"]
    assert "bedrock-claude-3-haiku.yaml" in cost["basis"]
    assert cost["usd"] == pytest.approx((t["input_tokens"] * 0.00025 + t["output_tokens"] * 0.00125) / 1000, abs=1e-8)
    assert cost["usd_low"] < cost["usd"] <= cost["usd_high"]


def test_the_local_dry_run_loads_the_tokenizer_alone(tmp_path):
    """The plan's client counts with llama.cpp's tokenizer loaded ``vocab_only`` (no weights), exactly as the
    real client counts a prompt after the chat template, and reads the cache without writing it."""
    pytest.importorskip("llama_cpp")
    from harness.golden import load_golden_set
    from harness.models.dry_run import DryRunLLM
    from harness.pipelines import build_predictor

    built = build_predictor("llmops", load_golden_set(TECHCORP), overrides=[f"cache.dir={tmp_path / 'c'}"],
                            progress=lambda _: None, dry_run=True)
    with built.predictor as predictor:
        llm = predictor.llm
        assert isinstance(llm, DryRunLLM) and llm.client.llm.model_params.vocab_only
        res = llm.complete("You classify.", "Invoice N-1", None, 16)
        n = llm.client.count_tokens(llm.client.format_prompt("You classify.", "Invoice N-1"), special=True)
        assert res.input_tokens == n > 10 and res.text == "" and not res.cached
        assert llm.planned[-1].max_tokens == 16 and llm.planned[-1].output_tokens is None
    assert not (tmp_path / "c").exists()


@pytest.mark.slow
def test_dry_run_against_a_real_local_run(tmp_path, cli):
    """Documents (classify, extract) and a question (answer over the vector index) on the embedded model: the
    dry run's input tokens are within 10 % of the run's and the run's figures inside the stated ranges; after the
    run, a dry run reads the answers from the cache and is exact. The dry runs never write the cache."""
    pytest.importorskip("llama_cpp")
    pytest.importorskip("sentence_transformers")
    cache = tmp_path / "cache"
    common = ["--golden", str(TECHCORP), "--split", "test", "--no-progress", "--set", f"cache.dir={cache}",
              "--set", f"index_dir={tmp_path / 'index'}", "--set", "max_document_chars=600",
              "--set", "llm.max_tokens={classify: 16, extract: 48, answer: 48}"]
    for name, sel in (("docs", ["--per-class", "1", "--limit", "2", "--set", "tasks=[classify, extract]"]),
                      ("qa", ["--per-class", "0", "--qa-limit", "1", "--set", "tasks=[answer]"])):
        args = ["run", "--pipeline", "llmops", "--out", str(tmp_path / name), *common, *sel]
        before = _cache_files(cache)
        code, out, err = cli(*args, "--dry-run", "--format", "json")
        assert code == 0, err
        plan = json.loads(out)
        assert _cache_files(cache) == before and not (tmp_path / name).exists()
        assert plan["model"].startswith("local/") and "own tokenizer" in plan["method"]["input"]
        code, _, err = cli(*args)
        assert code == 0, err
        real = _real_usage(tmp_path / name)
        assert set(real) == set(plan["by_task"])
        for task, (calls, tin, tout) in real.items():
            est = plan["by_task"][task]
            assert est["calls"] == calls and est["cached"] == 0
            assert abs(est["input_tokens"] - tin) <= 0.10 * tin, (task, est, tin)
            assert est["input_tokens_low"] <= tin <= est["input_tokens_high"], (task, est, tin)
            assert est["output_tokens_low"] <= tout <= est["output_tokens_high"], (task, est, tout)
        after = _cache_files(cache)
        code, out, err = cli(*args, "--dry-run", "--format", "json")
        assert code == 0, err
        again = json.loads(out)
        assert _cache_files(cache) == after
        for task, (calls, tin, tout) in real.items():
            est = again["by_task"][task]
            assert est["cached"] == calls
            assert est["input_tokens"] == est["input_tokens_low"] == est["input_tokens_high"] == tin
            assert est["output_tokens"] == est["output_tokens_low"] == est["output_tokens_high"] == tout
