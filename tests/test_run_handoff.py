"""The runner's predictions handed to scoring in memory (``RunResult.held``), and the worker processes' batches
(``guided_batches``): the same predictions and metrics as reading the file back, and the file wins once it
changes."""

from __future__ import annotations

import json
import os

import pytest

from harness import load_golden_set
from harness.predictor import Output, TokenUsage
from harness.batches import guided_batches
from harness.runner import execute
from harness.scoring import score_run
from harness.store import RunStore
from harness.predictions_file import read_predictions
from keyword_predictor import KeywordPredictor


class _WithMeta(KeywordPredictor):
    """The keyword predictor, each output also carrying the meta, usage and stream stamps a model call records."""

    def predict(self, items, task, upstream=None):
        outs = super().predict(items, task, upstream)
        return [Output(value=o.value, contexts=o.contexts, error=o.error, first_token_at=o.first_token_at,
                       usage=o.usage or TokenUsage(3, 2, 1),
                       meta={"cache_hit": i % 2 == 0, "original_latency_s": 0.25, "model": "m", "n": [1, 2.5]})
                for i, o in enumerate(outs)]


def _execute(golden, out, predictor, **kw):
    return execute(predictor, golden, "test", out, config=predictor.config(), config_hash="h", progress=False, **kw)


def _canonical(metrics: dict) -> str:
    return json.dumps(metrics, sort_keys=True)


def test_held_predictions_are_the_file_and_score_the_same(tiny_golden, tmp_path):
    golden = load_golden_set(tiny_golden)
    predictor = _WithMeta(fail_ids={"d013"}, raise_ids={"d015"}, stream=True)
    result = _execute(golden, tmp_path / "r", predictor)
    from_file = read_predictions(tmp_path / "r" / "predictions.jsonl")
    assert len(from_file) == 7 and list(result.held.predictions) == from_file  # errors, meta, contexts, usage
    held = score_run(tmp_path / "r", golden, held=result.held)
    read = score_run(tmp_path / "r", golden)  # the same directory read back, as `harness score` would
    assert _canonical(held) == _canonical(read)
    assert held["counts"]["errors"] == 4 and held["latency"]["classify"]["n_cached"] > 0


def test_the_items_the_runner_ran_are_scored_unless_a_predictor_changed_their_fields(tiny_golden, tmp_path):
    """Scoring takes the runner's items (HeldPredictions.items) instead of rebuilding them, while they are the
    golden set's; a predictor that changes an item's fields is scored against the golden set all the same."""
    from harness.selection import scope_items

    golden = load_golden_set(tiny_golden)
    result = _execute(golden, tmp_path / "r", KeywordPredictor())
    record = RunStore(tmp_path / "r").read_run()
    ran = result.held.items
    assert len(ran) == 7 and all(a is b for a, b in zip(scope_items(golden, record, ran), ran))
    want = score_run(tmp_path / "r", golden)  # nothing handed over: everything rebuilt and read back

    class Tampering(KeywordPredictor):
        def predict(self, items, task, upstream=None):
            outs = super().predict(items, task, upstream)
            for it in items:
                if it.fields:
                    it.fields.clear()  # the gold values gone from the item the runner holds
                    it.fields["issuer_name"] = ["x"]
            return outs

    result = _execute(golden, tmp_path / "t", Tampering())
    assert any(it.fields == {"issuer_name": ["x"]} for it in result.held.items)
    record = RunStore(tmp_path / "t").read_run()
    rebuilt = scope_items(golden, record, result.held.items)
    assert [it.id for it in rebuilt] == [it.id for it in result.held.items]
    assert not any(a is b for a, b in zip(rebuilt, result.held.items))
    got = score_run(tmp_path / "t", golden, held=result.held)
    assert got["extraction"] == want["extraction"] and want["extraction"]["accuracy"] > 0
    assert {k: v for k, v in got["ci"].items() if k.startswith("extraction.")} == {
        k: v for k, v in want["ci"].items() if k.startswith("extraction.")}


def test_a_resumed_run_holds_the_earlier_lines_and_the_new_ones_in_file_order(tiny_golden, tmp_path):
    golden = load_golden_set(tiny_golden)
    _execute(golden, tmp_path / "r", KeywordPredictor(), limit=3)
    store = RunStore(tmp_path / "r")
    lines = store.predictions_path.read_text().splitlines()
    store.predictions_path.write_text("\n".join(lines[:2]) + "\n")  # a run killed after two items
    result = _execute(golden, tmp_path / "r", KeywordPredictor(), limit=3)
    assert result.n_skipped == 2 and result.n_new == 1
    assert list(result.held.predictions) == read_predictions(store.predictions_path)
    assert store.predictions(result.held) == read_predictions(store.predictions_path)


def test_the_file_wins_once_anyone_writes_it(tiny_golden, tmp_path):
    golden = load_golden_set(tiny_golden)
    result = _execute(golden, tmp_path / "r", KeywordPredictor())
    store = RunStore(tmp_path / "r")
    path = store.predictions_path
    stat = path.stat()
    # the same length, the modification time set back: the change time still tells
    edited = path.read_text().replace('"label": "receipt"', '"label": "invoice"', 1)
    assert len(edited) == stat.st_size and edited != path.read_text()
    path.write_text(edited)
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    if path.stat().st_ctime_ns == stat.st_ctime_ns:  # a file system whose times are coarser than this test
        pytest.skip("the change time did not move: times on this file system are too coarse")
    got = store.predictions(result.held)
    assert got == read_predictions(path) and got != list(result.held.predictions)
    m = score_run(tmp_path / "r", golden, held=result.held)
    assert m["classification"]["accuracy"] < 1.0  # the edited label, read from the file
    # another run's predictions are never taken for this directory's
    other = _execute(golden, tmp_path / "other", KeywordPredictor(fail_ids={"d011"}))
    assert store.predictions(other.held) == read_predictions(path)


def test_guided_batches_cover_the_items_in_order_within_the_batch_size():
    for n in range(0, 45):
        for size in (1, 2, 5, 16):
            for workers in (1, 2, 3):
                batches = guided_batches(list(range(n)), size, workers)
                assert [i for b in batches for i in b] == list(range(n))
                assert all(0 < len(b) <= size for b in batches)
                assert [len(b) for b in batches] == sorted((len(b) for b in batches), reverse=True)
    month = [len(b) for b in guided_batches(list(range(50_000)), 2000, 2)]
    assert month[0] == 2000 and month[-2] == 250 and len(month) == 33  # the last ones small: the workers end together


class _WrongType(KeywordPredictor):
    """A predictor whose label is a number: written as it is, refused by the reader."""

    def predict(self, items, task, upstream=None):
        outs = super().predict(items, task, upstream)
        return [Output(value=1) if task == "classify" else o for o in outs]


def test_a_record_the_reader_refuses_is_not_handed_over(tiny_golden, tmp_path):
    from harness import HarnessInputError

    golden = load_golden_set(tiny_golden)
    result = _execute(golden, tmp_path / "r", _WrongType())
    assert result.held is None  # scoring reads the file and names the line, as it did before the hand-over
    with pytest.raises(HarnessInputError, match="predictions.jsonl.*label"):
        score_run(tmp_path / "r", golden, held=result.held)


def test_batches_over_processes_are_written_in_order_when_the_worker_falls_behind(tiny_golden):
    from functools import partial

    from harness.batches import _run_processes, run_batch
    from keyword_predictor import slow_in_workers

    class Bar:
        def update(self, n):
            pass

    golden = load_golden_set(tiny_golden)
    items = golden.items("test") * 5  # 35 items, batches of 1..2
    written = []
    _run_processes(partial(slow_in_workers, 0.05), 2, items, 2, written.append, Bar())
    got = [p for batch in written for p in batch]
    assert [p.id for p in got] == [it.id for it in items]
    want = run_batch(KeywordPredictor(), items)
    assert [(p.label, p.fields, p.answer) for p in got] == [(p.label, p.fields, p.answer) for p in want]
