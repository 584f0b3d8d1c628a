"""Issue 32, rows 1, 2 and 5: the MLOps month on both cores, the report page of two month-sized runs, a re-run
with nothing left to do. Each speed-up keeps every prediction and figure: these tests check the fast form
against the form it replaces, and that the fast path is taken only when nothing is left to do."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from conftest import ROOT

# prints the modules a command imported (after the command's own output)
_IMPORTS = ("import runpy, sys\nsys.argv = ['harness'] + sys.argv[1:]\ntry:\n    runpy.run_module('harness.cli', "
            "run_name='__main__')\nexcept SystemExit as e:\n    code = e.code\nprint('MODULES', ' '.join(sorted(sys.modules)))"
            "\nsys.exit(code)\n")


def _harness(*args, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    return subprocess.run([sys.executable, "-c", _IMPORTS, *map(str, args)], cwd=cwd, capture_output=True,
                          text=True, env=env, timeout=300)


def _table_and_modules(res: subprocess.CompletedProcess) -> tuple[str, set[str]]:
    out, _, mods = res.stdout.rpartition("MODULES ")
    return out, set(mods.split())


def test_a_finished_run_reruns_without_loading_the_model_and_changes_nothing(tiny_golden, tmp_path):
    run = ["run", "--pipeline", "mlops", "--golden", tiny_golden, "--out", tmp_path / "r", "--no-progress",
           "--eval-date", "2026-12-01"]
    first = _harness(*run, cwd=tmp_path)  # trains on the tiny set, runs, scores
    assert first.returncode == 0, first.stderr
    before = {n: (tmp_path / "r" / n).read_bytes() for n in ("run.json", "predictions.jsonl", "metrics.json")}
    again = _harness(*run, cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    table, modules = _table_and_modules(again)
    assert table == _table_and_modules(first)[0]  # the same table, read from metrics.json
    assert "resumed: 6 items were already done, 0 new" in again.stderr
    assert not {"xgboost", "sklearn", "numpy", "scipy"} & modules  # no model, no scoring
    assert {n: (tmp_path / "r" / n).read_bytes() for n in before} == before  # nothing rewritten

    # a prediction line lost: the usual path resumes and predicts that item again
    preds = tmp_path / "r" / "predictions.jsonl"
    preds.write_text("".join(preds.read_text().splitlines(keepends=True)[:-1]))
    res = _harness(*run, cwd=tmp_path)
    assert res.returncode == 0 and "resumed: 5 items were already done, 1 new" in res.stderr
    assert "xgboost" in _table_and_modules(res)[1] and len(preds.read_text().splitlines()) == 6

    # metrics.json older than the predictions: scored again (the model is not needed to learn that)
    metrics = tmp_path / "r" / "metrics.json"
    os.utime(metrics, ns=(0, 0))
    res = _harness(*run, cwd=tmp_path)
    assert res.returncode == 0 and metrics.stat().st_mtime_ns > 0

    # another evaluation date is another run record: the usual path
    res = _harness(*run[:-1], "2026-12-02", cwd=tmp_path)
    assert res.returncode == 0 and json.loads((tmp_path / "r" / "run.json").read_text())["evaluated_on"] == "2026-12-02"

