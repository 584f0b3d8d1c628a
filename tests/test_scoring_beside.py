"""A big run's bootstrap intervals computed in a second process (``score_run(beside=True)``,
:mod:`harness.scoring.beside`): the same ``metrics.json`` to the last bit as computed here, and computed here
when the second process is gone."""

from __future__ import annotations

import json
import operator

import pytest

from harness import load_golden_set
from harness.predictor import Output, TokenUsage
from harness.runner import execute
from harness.scoring import beside, score_run
from keyword_predictor import KeywordPredictor


class _WithMeta(KeywordPredictor):
    """Outputs with the usage, stream stamps and cache meta a model call records: every section has figures."""

    def predict(self, items, task, upstream=None):
        outs = super().predict(items, task, upstream)
        return [Output(value=o.value, contexts=o.contexts, error=o.error, first_token_at=o.first_token_at,
                       usage=o.usage or TokenUsage(3, 2, 1), meta={"cache_hit": i % 2 == 0, "original_latency_s": 0.25})
                for i, o in enumerate(outs)]


def test_intervals_made_beside_are_the_intervals_made_here(tiny_golden, tmp_path, monkeypatch):
    golden = load_golden_set(tiny_golden)
    predictor = _WithMeta(fail_ids={"d013"}, stream=True)
    result = execute(predictor, golden, "test", tmp_path / "r", config=predictor.config(), config_hash="h",
                     progress=False)
    here = score_run(tmp_path / "r", golden, held=result.held)
    made_there = []
    original = beside.Pending.__init__

    def noting(self, fn, args, kwargs, future=None):
        made_there.append(future is not None)
        original(self, fn, args, kwargs, future)

    monkeypatch.setattr(beside, "BESIDE_FROM", 1)  # the tiny run counts as big
    monkeypatch.setattr(beside.Pending, "__init__", noting)
    there = score_run(tmp_path / "r", golden, held=result.held, beside=True)
    assert made_there and all(made_there)  # classification, extraction and latency intervals, in the second process
    assert json.dumps(there, sort_keys=True) == json.dumps(here, sort_keys=True)
    assert there["ci"]["classification.accuracy"]["low"] is not None and "latency.classify.p95" in there["ci"]


def test_below_the_size_or_without_beside_nothing_starts(monkeypatch):
    started = []
    monkeypatch.setattr("concurrent.futures.ProcessPoolExecutor", lambda *a, **k: started.append(1))
    for n, on in ((beside.BESIDE_FROM - 1, True), (beside.BESIDE_FROM, False)):
        with beside.intervals(n, on) as submit:
            assert submit is beside.HERE and submit(operator.add, 1, 2).result() == 3
    assert not started


def test_a_second_process_that_dies_leaves_its_calls_to_this_one(monkeypatch):
    monkeypatch.setattr(beside, "BESIDE_FROM", 1)
    with beside.intervals(5, True) as submit:
        assert submit is not beside.HERE
        assert submit(operator.add, 1, 2).result() == 3  # made there
        with pytest.raises(ZeroDivisionError):  # a call's own error is the caller's, there as here
            submit(operator.truediv, 1, 0).result()
        for proc in list(submit._pool._processes.values()):
            proc.kill()
            proc.join()
        assert submit(operator.add, 2, 3).result() == 5  # made here


def test_keeping_what_a_pause_built_leaves_the_programs_own_frozen_objects_frozen():
    """gc_paused(kept=True) moves what it built to the oldest generation (freeze, unfreeze) only when nothing is
    frozen already: a program that froze its objects (before a fork) keeps them frozen."""
    import gc

    from harness.bulk import gc_paused

    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        assert frozen > 0
        with gc_paused(kept=True):
            built = [{"n": [i]} for i in range(1000)]
        # still frozen (unfreezing would leave none; a few frozen temporaries may have been freed meanwhile)
        assert gc.get_freeze_count() > frozen // 2 and gc.isenabled() and len(built) == 1000
    finally:
        gc.unfreeze()
    with gc_paused(kept=True):
        built = [{"n": [i]} for i in range(1000)]
    assert gc.get_freeze_count() == 0 and gc.isenabled()
