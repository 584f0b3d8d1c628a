"""``harness run --repeats N``: every repeat recorded (repeats.jsonl, resumable), the cache bypassed after the
first, and the ``consistency`` section (pass^k, agreement, spread) that a criteria file can gate on; on the
local model, temperature 0 repeats itself and temperature 0.8 does not."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import TECHCORP
from harness import load_golden_set, run
from harness.predictor import Output
from harness.store import RunStore
from keyword_predictor import KeywordPredictor


class Wavering(KeywordPredictor):
    """The keyword rules, except that on its even repeats it calls every receipt an invoice."""

    repeat = 1

    def for_repeat(self, repeat):
        view = Wavering()
        view.repeat = repeat
        return view

    def predict(self, items, task, upstream=None):
        outs = super().predict(items, task, upstream)
        if task == "classify" and self.repeat % 2 == 0:
            return [Output(value="invoice", usage=o.usage) if o.value == "receipt" else o for o in outs]
        return outs


def _run(golden_dir, out, predictor=None, **kw):
    g = load_golden_set(golden_dir)
    p = predictor or KeywordPredictor()
    return run(p, g, "test", out, config=p.config(), config_hash="h1", progress=False, **kw)


def _lines(path):
    return [json.loads(x) for x in Path(path).read_text().splitlines()]


def test_every_repeat_is_recorded_and_a_repeat_resumes(tiny_golden, tmp_path):
    out = tmp_path / "r"
    res = _run(tiny_golden, out, repeats=3)
    n = len(_lines(out / "predictions.jsonl"))
    reps = _lines(out / "repeats.jsonl")
    assert sorted((r["repeat"], r["id"]) for r in reps) == sorted((k, p["id"]) for k in (2, 3)
                                                                  for p in _lines(out / "predictions.jsonl"))
    assert json.loads((out / "run.json").read_text())["repeats"] == 3
    c = res.metrics["consistency"]
    assert c["repeats"] == 3 and c["agreement"] == {"classify": 1.0, "extract": 1.0, "answer": 1.0}
    # a deterministic predictor: right in every repeat exactly when right once
    assert c["pass_k"]["classify"] == c["pass_1"]["classify"] == res.metrics["classification"]["accuracy"]
    assert c["spread"]["classification"]["accuracy"]["std"] == 0
    # a repeat cut short by a kill: the cut line is redone, nothing else
    raw = (out / "repeats.jsonl").read_bytes()
    (out / "repeats.jsonl").write_bytes(raw[:-10])
    _run(tiny_golden, out, repeats=3)
    assert len(_lines(out / "repeats.jsonl")) == 2 * n
    assert RunStore(out).repeats().keys() == {2, 3}


def test_one_repeat_writes_what_it_always_wrote(tiny_golden, tmp_path):
    res = _run(tiny_golden, tmp_path / "r", repeats=1)
    assert not (tmp_path / "r" / "repeats.jsonl").exists()
    assert "repeats" not in json.loads((tmp_path / "r" / "run.json").read_text())
    assert "consistency" not in res.metrics


def test_wavering_outputs_lower_consistency_and_fail_a_consistency_gate(tiny_golden, tmp_path, cli):
    out = tmp_path / "w"
    res = _run(tiny_golden, out, predictor=Wavering(), repeats=2)
    c = res.metrics["consistency"]
    docs = c["items"]["classify"]
    receipts = sum(1 for p in _lines(out / "predictions.jsonl") if p.get("label") == "receipt")
    assert receipts and c["agreement"]["classify"] == pytest.approx(1 - receipts / docs)
    assert c["pass_k"]["classify"] < c["pass_1"]["classify"]
    assert c["spread"]["classification"]["accuracy"]["max"] > c["spread"]["classification"]["accuracy"]["min"]
    assert c["agreement"]["extract"] == 1.0
    criteria = tmp_path / "criteria.yaml"
    criteria.write_text("name: consistency\nversion: 1\ncriteria:\n"
                        "  - {id: stable, metric: consistency.pass_k.classify, higher_is_better: true, target: 1.0, "
                        "must_have: 0.99}\n")
    code, text, _ = cli("gates", str(out), "--criteria", str(criteria))
    assert code == 1 and "stable" in text
    same = tmp_path / "s"
    _run(tiny_golden, same, repeats=2)
    code, text, _ = cli("gates", str(same), "--criteria", str(criteria))
    assert code == 0, text


def test_repeats_out_of_bounds_is_one_line(tiny_golden, tmp_path, cli):
    code, _, err = cli("run", "--pipeline", "mlops", "--golden", str(tiny_golden), "--out", str(tmp_path / "x"),
                       "--repeats", "0")
    assert code == 2 and err.strip() == "error: --repeats: must be between 1 and 100"


@pytest.mark.slow
@pytest.mark.parametrize("temperature", ["0", "0.8"])
def test_local_model_repeats(temperature, tmp_path, cli):
    """The embedded model classifies 3 short documents twice: greedy decoding repeats itself; sampling at
    0.8 with a seed per repeat does not (reproducibly: the seeds are fixed)."""
    pytest.importorskip("llama_cpp")
    out = tmp_path / "r"
    code, text, err = cli("run", "--pipeline", "llmops", "--golden", str(TECHCORP), "--split", "test", "--per-class", "1",
                     "--limit", "3", "--out", str(out), "--no-progress", "--repeats", "2", "--format", "json",
                     "--set", f"cache.dir={tmp_path / 'cache'}", "--set", "tasks=[classify]",
                     "--set", "max_document_chars=400", "--set", f"llm.temperature={temperature}")
    assert code == 0, err
    c = json.loads((out / "metrics.json").read_text())["consistency"]
    assert c["repeats"] == 2 and c["items"]["classify"] == 3
    if temperature == "0":
        assert c["agreement"]["classify"] == 1.0 and c["pass_k"]["classify"] == c["pass_1"]["classify"]
    else:
        assert c["agreement"]["classify"] < 1.0
    # repeat 2 bypassed the cache: only repeat 1's calls were stored there
    assert len(list((tmp_path / "cache").rglob("*.json"))) == 3


def test_a_bad_repeats_line_is_one_line_naming_it(tiny_golden, tmp_path):
    from harness import HarnessInputError

    out = tmp_path / "r"
    _run(tiny_golden, out, repeats=2)
    lines = (out / "repeats.jsonl").read_text().splitlines()
    bad = json.loads(lines[1])
    for value, problem in ((1, "repeat: must be a whole number from 2 to 100"), ("2", "repeat: must be a whole"),
                           (None, "repeat: must be a whole")):
        bad["repeat"] = value
        (out / "repeats.jsonl").write_text("\n".join([lines[0], json.dumps(bad), *lines[2:]]) + "\n")
        with pytest.raises(HarnessInputError) as exc:
            RunStore(out).repeats()
        assert f"repeats.jsonl:2: {problem}" in str(exc.value)
    bad["repeat"], bad["tasks"] = 2, {"classify": {"latency_s": -1}}
    (out / "repeats.jsonl").write_text("\n".join([lines[0], json.dumps(bad), *lines[2:]]) + "\n")
    with pytest.raises(HarnessInputError, match=r"repeats.jsonl:2: tasks.classify.latency_s"):
        RunStore(out).repeats()
