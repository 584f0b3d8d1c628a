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


def test_batches_in_worker_processes_give_the_same_records_in_the_same_order(tiny_golden, tmp_path):
    from harness.golden import load_golden_set
    from harness.pipelines import build_predictor
    from harness.runner import execute
    from harness.store import RunStore

    golden = load_golden_set(tiny_golden)
    built = build_predictor("mlops", golden, progress=lambda _: None)  # trained on the tiny set here
    predictor = built.predictor
    assert predictor.in_processes() is not None  # n_jobs is 2 by default

    class OnlyInWorkers(type(predictor)):
        """The same predictor, refusing to predict: a run through it is the work of what ``in_processes`` builds
        (a worker process's predictor, and this process's own one-thread copy)."""
        def predict(self, items, task, upstream=None):
            raise RuntimeError("predicted in the main process")

    here = OnlyInWorkers(predictor.artifact, predictor._config, predictor._schema)
    kw = dict(config=built.config, config_hash=built.config_hash, batch_size=2, progress=False)
    execute(predictor, golden, "test", tmp_path / "one", **kw)  # no spread_from: one process, as before
    execute(here, golden, "test", tmp_path / "pool", spread_from=1, **kw)
    import gc

    assert gc.isenabled()  # paused while the workers' batches came back, on again
    one, pool = RunStore(tmp_path / "one").predictions(), RunStore(tmp_path / "pool").predictions()
    assert [p.id for p in pool] == [p.id for p in one] and len(one) == 6
    assert all(p.error("classify") is None and p.error("extract") is None for p in pool)
    assert [(p.label, p.fields) for p in pool] == [(p.label, p.fields) for p in one]


def test_workers_started_early_and_not_needed_are_shut_down(tiny_golden, tmp_path):
    """A fresh run of a whole split starts its workers before it builds the items (golden.size); when fewer
    items than spread_from are left for the predictor (the split's QA item is not the MLOps pipeline's), the run
    is predicted in this process and the workers exit."""
    import multiprocessing
    import time

    from harness.golden import load_golden_set
    from harness.pipelines import build_predictor
    from harness.runner import execute
    from harness.store import RunStore

    golden = load_golden_set(tiny_golden)
    assert golden.size("test") == len(golden.items("test")) == 7
    built = build_predictor("mlops", golden, progress=lambda _: None)
    kw = dict(config=built.config, config_hash=built.config_hash, batch_size=2, progress=False)
    execute(built.predictor, golden, "test", tmp_path / "one", **kw)
    execute(built.predictor, golden, "test", tmp_path / "early", spread_from=7, **kw)  # 6 documents to do
    end = time.monotonic() + 60
    while multiprocessing.active_children() and time.monotonic() < end:
        time.sleep(0.05)
    assert not multiprocessing.active_children()
    one, early = RunStore(tmp_path / "one").predictions(), RunStore(tmp_path / "early").predictions()
    assert [(p.id, p.label, p.fields) for p in early] == [(p.id, p.label, p.fields) for p in one] and len(one) == 6


def test_count_blocks_drawn_a_block_at_a_time_equal_the_whole_draw():
    import numpy as np

    from metrics.resamples import _BLOCK, _count_blocks, _indices

    for n, resamples in ((7, 150), (300, 2 * _BLOCK + 5)):
        idx = _indices(n, resamples, 3)
        for lo, counts in _count_blocks(n, resamples, 3):
            block = idx[lo:lo + counts.shape[1]]
            want = np.stack([np.bincount(row, minlength=n) for row in block], axis=1)
            assert counts.shape == want.shape and (counts == want).all()


def test_resampled_sums_of_whole_numbers_equal_the_item_by_item_sums_in_either_precision():
    """_resample_sums multiplies the draw counts in single precision while n times the largest value is below
    2**24 and in double precision above: both the exact item-by-item sums, at the edge too."""
    import numpy as np

    from metrics.resamples import _indices, _resample_sums

    n, rng = 999, np.random.default_rng(4)
    # n * largest: below 2**24 (single precision), just above it and odd (double: single would round it), far above
    for largest in (1, 16_793, 16_795, 10 ** 9):
        values = rng.integers(-largest, largest + 1, size=(n, 3)).astype(float)
        values[:, 0] = largest  # every resample's sum of this column is n * largest
        idx = _indices(n, 2 * 64 + 3, 5)
        want = np.column_stack([values[:, j][idx].sum(axis=1) for j in range(3)])
        got = _resample_sums(values, 2 * 64 + 3, 5)
        assert got.dtype == np.float64 and np.array_equal(got, want), largest


def test_resampled_percentiles_equal_numpy_over_each_resample_to_the_bit():
    import numpy as np

    from metrics.resamples import _indices, resampled_percentiles

    rng = np.random.default_rng(5)
    for n in (1, 2, 19, 400):
        a, b = rng.lognormal(size=n), np.round(rng.normal(size=n), 1) + 5  # b with ties (no signed zeros)
        got = resampled_percentiles({"a": a, "b": b}, [50, 95, 99], n_resamples=130, seed=1)
        idx = _indices(n, 130, 1)
        for name, values in (("a", a), ("b", b)):
            want = np.column_stack([np.percentile(values[idx], q, axis=1) for q in (50, 95, 99)])
            assert got[name].tobytes() == want.tobytes(), (n, name)


def test_outcome_columns_of_two_runs_equal_one_call_per_run():
    from harness.golden import load_golden_set
    from metrics.extraction import document_outcomes, outcome_columns, outcome_columns_of_runs

    golden = load_golden_set(ROOT / "golden_sets" / "techcorp")
    docs = golden.items("test", kinds=("document",))[:200]
    schema = golden.manifest.fields
    gold = [d.fields for d in docs]
    # a run that gets every field right and one that moves each value to the next document (and drops some)
    right = [dict(d.fields) for d in docs]
    moved = [None if i % 7 == 0 else dict(docs[(i + 1) % len(docs)].fields) for i in range(len(docs))]
    both = outcome_columns_of_runs(gold, [right, moved], schema)
    assert both == [outcome_columns(gold, right, schema), outcome_columns(gold, moved, schema)]
    assert [dict(zip(both[1], row)) for row in zip(*both[1].values())] == [
        document_outcomes(g, p, schema) for g, p in zip(gold, moved)]


def _compare_as_before(a, b, golden):
    """The extraction rows of harness.compare.compare as they were computed before (document by document)."""
    from harness.compare import common_predictions
    from metrics.extraction import document_outcomes
    from metrics.statistics import mcnemar_exact, paired_bootstrap_ci

    pa, pb = common_predictions(a, b)
    docs = [d for d in golden.items(a.split, kinds=("document",)) if d.id in pa and d.id in pb
            and pa[d.id].has("extract") and pb[d.id].has("extract")]
    schema = golden.manifest.fields
    oa = [document_outcomes(d.fields, None if pa[d.id].error("extract") else pa[d.id].fields, schema) for d in docs]
    ob = [document_outcomes(d.fields, None if pb[d.id].error("extract") else pb[d.id].fields, schema) for d in docs]
    count = lambda outs, k: [list(o.values()).count(k) for o in outs]  # noqa: E731
    gold_n = [x + y for x, y in zip(count(oa, "correct"), count(oa, "wrong"))]
    null_n = [x + y for x, y in zip(count(oa, "spurious"), count(oa, "empty"))]
    acc = paired_bootstrap_ci(count(oa, "correct"), count(ob, "correct"), gold_n, gold_n, n_resamples=2000, seed=0)
    mc = mcnemar_exact([o[f] == "correct" for o in oa for f in o if o[f] in ("correct", "wrong")],
                       [o[f] == "correct" for o, o_ in zip(ob, oa) for f in o_ if o_[f] in ("correct", "wrong")])
    spur = paired_bootstrap_ci(count(oa, "spurious"), count(ob, "spurious"), null_n, null_n, n_resamples=2000, seed=0)
    return acc, mc, spur


def test_compare_and_diff_give_what_they_gave_document_by_document(tmp_path):
    import numpy as np

    from harness.compare import _canonical, changed_fields, compare, diff
    from harness.golden import load_golden_set
    from harness.predictor import Prediction, TaskResult, document_latency
    from harness.scoring import score_external
    from harness.store import load_run

    golden = load_golden_set(ROOT / "golden_sets" / "techcorp")
    docs = golden.items("test", kinds=("document",))[:300]
    runs = []
    for k in range(2):
        preds = []
        for i, d in enumerate(docs):
            fields = dict(d.fields)
            if (i + k) % 5 == 0:  # some fields wrong or missing, differently in each run
                name = list(fields)[(i + 2 * k) % len(fields)]
                fields[name] = None if i % 2 else "not it"
            labels = golden.manifest.labels
            label = d.label if (i + k) % 9 else labels[(labels.index(d.label) + 1) % len(labels)]
            t = TaskResult(latency_s=0.01 + ((i * 7 + k * 3) % 50) / 1000)
            preds.append(Prediction(id=d.id, tasks={"classify": t, "extract": t}, label=label, fields=fields))
        score_external(golden, "test", preds, tmp_path / f"r{k}", source="test", progress=False, info=lambda m: None)
        runs.append(load_run(tmp_path / f"r{k}"))
    a, b = runs
    rows = {r.metric: r for r in compare(a, b, golden)}
    acc, mc, spur = _compare_as_before(a, b, golden)
    got = rows["extraction.accuracy"]
    assert (got.a, got.b, got.difference, got.ci_low, got.ci_high, got.n) == (acc.a, acc.b, acc.difference, acc.low,
                                                                              acc.high, acc.n)
    assert (got.mcnemar_p, got.a_only_right, got.b_only_right) == (mc.p_value, mc.a_only, mc.b_only)
    got = rows["extraction.spurious_rate"]
    assert (got.difference, got.ci_low, got.ci_high) == (spur.difference, spur.low, spur.high)
    # the classification interval, summed with the others in one pass: what it is alone
    from metrics.statistics import paired_bootstrap_ci

    pa_, pb_ = ({p.id: p for p in r.predictions()} for r in (a, b))
    alone = paired_bootstrap_ci([pa_[d.id].label == d.label for d in docs], [pb_[d.id].label == d.label for d in docs])
    got = rows["classification.accuracy"]
    assert (got.difference, got.ci_low, got.ci_high, got.n) == (alone.difference, alone.low, alone.high, alone.n)
    # the latency interval: np.percentile over each resample, drawn as before
    pa, pb = ({p.id: p for p in r.predictions()} for r in (a, b))
    la = np.asarray([document_latency(pa[d.id]) for d in docs])
    lb = np.asarray([document_latency(pb[d.id]) for d in docs])
    idx = np.random.default_rng(0).integers(0, len(docs), size=(2000, len(docs)))
    low, high = np.quantile(np.percentile(lb[idx], 95, axis=1) - np.percentile(la[idx], 95, axis=1), [0.025, 0.975])
    got = rows["latency.document.p95"]
    assert (got.ci_low, got.ci_high) == (float(low), float(high))
    # the diff: every document's changed fields as changed_fields finds them
    d = diff(a, b, golden)
    want = [x.id for x in docs if changed_fields(pa[x.id].fields or {}, pb[x.id].fields or {})]
    assert [c["id"] for c in d["field_changes"]] == sorted(want) and want
    assert _canonical(["b", "a"]) == _canonical(["a", "b"])
