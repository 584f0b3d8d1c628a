"""The ``consistency`` section of ``metrics.json``, for a run made with ``harness run --repeats N`` (N >= 2):
how much the outputs move between repeats of the same items.

* ``repeats``: k, the repeats scored; ``items``: per task, the items with a prediction in every repeat;
* ``pass_k.<task>``: the share of those items right in all k repeats (pass^k), for the tasks with a right answer
  per item (classify: the gold label; extract: every field right, none spurious); ``pass_1.<task>``: the mean
  over repeats of the share right, to read pass^k against;
* ``agreement.<task>``: the share of items whose output is the same in all k repeats (every task);
* ``spread.<section>.<metric>``: min, max, mean and standard deviation (population) over the repeats of each
  headline fraction metric of the run's tasks, each repeat scored as a run of its own.
"""

from __future__ import annotations

from statistics import fmean, pstdev
from typing import Any, Mapping, Sequence

from harness.golden import GoldenSet, Item
from harness.predictor import OUTPUT_KEY, Prediction
from metrics import registry
from metrics.extraction import outcome_columns

_KIND = {"classify": "document", "extract": "document", "summarize": "document", "answer": "qa"}


def _output(p: Prediction, task: str) -> Any:
    """What agreement compares: the output, or that the task failed."""
    return ("error",) if p.error(task) else ("value", repr(getattr(p, OUTPUT_KEY[task])))


def _right(golden: GoldenSet, task: str, items: Sequence[Item], preds: Sequence[Prediction]) -> list[bool] | None:
    """Per item: right or not (None: the task has no right answer per item)."""
    if task == "classify":
        return [not p.error(task) and p.label == it.label for it, p in zip(items, preds)]
    if task == "extract":
        cols = outcome_columns([it.fields for it in items], [None if p.error(task) else p.fields for p in preds],
                               golden.manifest.fields)
        return [all(cols[f][i] in ("correct", "empty") for f in cols) and not preds[i].error(task)
                for i in range(len(items))]
    return None


def _spread(scores: Sequence[Mapping[str, Any]], tasks: Sequence[str]) -> dict:
    out: dict[str, dict] = {}
    for name in registry.headline_names():
        m = registry.lookup(name)
        if m.task not in tasks or m.unit != "fraction" or len(name.split(".")) != 2:
            continue
        vals = [registry.value(s, name) for s in scores]
        if any(not isinstance(v, (int, float)) or isinstance(v, bool) for v in vals):
            continue
        section, metric = name.split(".")
        out.setdefault(section, {})[metric] = {"min": min(vals), "max": max(vals), "mean": fmean(vals),
                                               "std": pstdev(vals)}
    return out


def consistency_section(golden: GoldenSet, items: Sequence[Item], tasks: Sequence[str],
                        runs: Sequence[Sequence[Prediction]], scores: Sequence[Mapping[str, Any]]) -> dict:
    """``{"consistency": ...}`` for the predictions of each repeat (``runs[0]`` is repeat 1) and each repeat's
    core sections as :func:`harness.scoring.score` returns them (``scores``)."""
    by_id = [{p.id: p for p in preds} for preds in runs]
    out: dict[str, Any] = {"repeats": len(runs), "items": {}, "pass_k": {}, "pass_1": {}, "agreement": {}}
    for task in tasks:
        pool = [it for it in items if it.kind == _KIND[task] and (task != "summarize" or it.summary is not None)
                and all(it.id in b and b[it.id].has(task) for b in by_id)]
        out["items"][task] = len(pool)
        if not pool:
            continue
        per_repeat = [[b[it.id] for it in pool] for b in by_id]
        out["agreement"][task] = sum(len({_output(preds[i], task) for preds in per_repeat}) == 1
                                     for i in range(len(pool))) / len(pool)
        rights = [_right(golden, task, pool, preds) for preds in per_repeat]
        if rights[0] is not None:
            out["pass_k"][task] = sum(all(r[i] for r in rights) for i in range(len(pool))) / len(pool)
            out["pass_1"][task] = fmean(sum(r) / len(pool) for r in rights)
    out["spread"] = _spread(scores, tasks)
    return {"consistency": out}
