"""Runner and run store: what is written, errors, resume after a kill, run identity."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import ROOT
from harness import HarnessInputError, load_golden_set, run
from harness.store import RunStore
from keyword_predictor import KeywordPredictor


def _run(golden_dir, out, predictor=None, **kw):
    g = load_golden_set(golden_dir)
    p = predictor or KeywordPredictor()
    return run(p, g, kw.pop("split", "test"), out, config=p.config(), config_hash="h1", progress=False, **kw)


def _lines(path):
    return [json.loads(x) for x in Path(path).read_text().splitlines()]


def test_run_directory_contents(tiny_golden, tmp_path):
    res = _run(tiny_golden, tmp_path / "r")
    run_json = json.loads((tmp_path / "r" / "run.json").read_text())
    for key in ("predictor", "golden", "split", "packages", "git_commit", "started_at", "ended_at", "tasks"):
        assert key in run_json, key
    assert run_json["predictor"]["config_hash"] == "h1" and run_json["golden"]["name"] == "tiny"
    assert run_json["golden"]["sha256"] == load_golden_set(tiny_golden).hash
    assert "python" in run_json["packages"] and "numpy" in run_json["packages"]
    preds = _lines(tmp_path / "r" / "predictions.jsonl")
    assert len(preds) == 7 and len({p["id"] for p in preds}) == 7  # 6 documents + 1 QA item
    m = json.loads((tmp_path / "r" / "metrics.json").read_text())
    assert m == res.metrics
    assert m["classification"]["accuracy"] == 1.0 and "per_class" in m["classification"]
    assert m["extraction"]["per_field"]["number"]["accuracy"] == 1.0
    assert m["extraction"]["per_field"]["total"]["accuracy"] == 0.0
    assert set(m["latency"]) == {"classify", "extract", "answer", "document"} and m["latency"]["classify"]["p95"] >= 0
    assert m["latency"]["document"]["n"] == 6 and m["ci"]["classification.accuracy"]["low"] <= 1.0
    assert m["counts"]["items"] == 7 and m["counts"]["errors"] == 0 and m["counts"]["unscored"] == 0
    assert m["usage"]["input_tokens"] > 0


def test_failures_are_recorded_per_item_and_counted(tiny_golden, tmp_path):
    p = KeywordPredictor(fail_ids={"d013"}, raise_ids={"d015"})
    m = _run(tiny_golden, tmp_path / "r", predictor=p).metrics
    preds = {x["id"]: x for x in _lines(tmp_path / "r" / "predictions.jsonl")}
    assert preds["d013"]["tasks"]["classify"]["error"] == "invalid model output" and "label" not in preds["d013"]
    assert "RuntimeError: backend exploded" in preds["d015"]["tasks"]["extract"]["error"]
    assert m["counts"]["errors"] == 4  # two items x two tasks
    assert m["counts"]["by_task"]["classify"] == {"expected": 6, "scored": 6, "errors": 2, "unscored": 0}
    assert m["classification"]["accuracy"] == pytest.approx(4 / 6)  # a failed call counts as wrong


def test_streaming_ttft_is_recorded(tiny_golden, tmp_path):
    m = _run(tiny_golden, tmp_path / "r", predictor=KeywordPredictor(stream=True)).metrics
    assert m["latency"]["classify"]["ttft"]["n"] == 6
    preds = _lines(tmp_path / "r" / "predictions.jsonl")
    assert all(x["tasks"]["classify"]["ttft_s"] >= 0.001 for x in preds if "classify" in x["tasks"])


def test_resume_repairs_a_cut_line_and_never_duplicates(tiny_golden, tmp_path):
    out = tmp_path / "r"
    _run(tiny_golden, out, split="train")
    path = out / "predictions.jsonl"
    lines = path.read_text().splitlines(keepends=True)
    path.write_text("".join(lines[:5]) + lines[5][:20])  # a kill in the middle of writing line 6
    res = _run(tiny_golden, out, split="train")
    assert (res.n_skipped, res.n_new) == (5, 7)
    after = path.read_text().splitlines(keepends=True)
    assert after[:5] == lines[:5] and len(after) == 12 and len({json.loads(x)["id"] for x in after}) == 12


def test_other_run_in_out_dir_is_refused(tiny_golden, tmp_path):
    _run(tiny_golden, tmp_path / "r")
    with pytest.raises(HarnessInputError, match="holds a different run"):
        _run(tiny_golden, tmp_path / "r", split="train")
    res = _run(tiny_golden, tmp_path / "r", split="train", overwrite=True)
    assert res.n_new == 12


def test_limit_and_batches(tiny_golden, tmp_path):
    res = _run(tiny_golden, tmp_path / "r", split="train", limit=5, batch_size=2)
    assert res.metrics["counts"]["items"] == 5
    preds = _lines(tmp_path / "r" / "predictions.jsonl")
    assert [p["id"] for p in preds] == ["d000", "d001", "d002", "d003", "d004"]
    assert {p["tasks"]["classify"]["batch_size"] for p in preds} == {2, 1}


KILL_SCRIPT = """
import sys
sys.path.insert(0, {tests!r})
from harness import load_golden_set, run
from keyword_predictor import KeywordPredictor
p = KeywordPredictor(sleep_s=0.15)
run(p, load_golden_set({golden!r}), "train", {out!r}, config=p.config(), config_hash="k", progress=False)
"""


def test_killed_run_loses_nothing_and_resumes(tiny_golden, tmp_path):
    out = tmp_path / "killed"
    script = tmp_path / "job.py"
    script.write_text(KILL_SCRIPT.format(tests=str(ROOT / "tests"), golden=str(tiny_golden), out=str(out)))
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, str(script)], env=env)
    path = out / "predictions.jsonl"
    deadline = time.time() + 60
    while time.time() < deadline and (not path.exists() or len(path.read_text().splitlines()) < 3):
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    before = path.read_text().splitlines()
    assert 3 <= len(before) < 12, "the run should have been killed part-way"
    subprocess.run([sys.executable, str(script)], env=env, check=True, timeout=120)
    after = path.read_text().splitlines()
    assert after[:len(before)] == before  # nothing written was lost or rewritten
    assert sorted(json.loads(x)["id"] for x in after) == [f"d{i:03d}" for i in range(12)]
    assert RunStore(out).read_metrics()["counts"]["items"] == 12
    assert len(RunStore(out).read_run()["sessions"]) == 2
