"""Scoring: golden items + predictions -> the core sections of ``metrics.json``.

:func:`score` is a short composer: it runs the per-task scorer of every task asked
(:data:`harness.scoring.tasks.SCORERS`), adds the run-level sections (:mod:`harness.scoring.timing`) and
returns the sections as a plain dict. :func:`score_run` scores a run directory and writes the sections
through the run store, which merges them with any section another step (judge, cost, guardrails) wrote.

Counting rules (nothing is silently dropped):

* ``counts.items``: golden items in scope (the split, or the items a run attempted).
* ``counts.by_task.<task>``: expected / scored / errors / unscored (see :mod:`harness.scoring.tasks`);
  ``counts.unscored_ids`` lists the first 50 items with no prediction for a task.
* ``counts.unknown_ids``: prediction ids that are not in the golden split (reported, not scored).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Callable, Mapping, Sequence

from harness.bulk import gc_paused
from harness.golden import GoldenSet, Item
from harness.predictor import OUTPUT_KEY, Prediction
from harness.scoring.beside import HERE, Submit, intervals, resolved
from harness.scoring.tasks import CI_RESAMPLES, CI_SEED, SCORERS, Scope, TaskScore, warm_resamples
from harness.scoring.guardrails import guardrails_section
from harness.scoring.timing import latency_sections, throughput_section, usage_section

if TYPE_CHECKING:
    from harness.predictions_file import HeldPredictions
    from harness.store import RunStore

SCHEMA_VERSION = 1


def tasks_present(predictions: Sequence[Prediction]) -> list[str]:
    return [t for t in OUTPUT_KEY if any(p.has(t) for p in predictions)]


def _counts(items: Sequence[Item], by_id: Mapping[str, Prediction], results: Sequence[TaskScore],
            tasks: Sequence[str]) -> dict:
    from harness.selection import ITEM_TASKS

    in_scope = {it.id for it in items}
    unknown = sorted(set(by_id) - in_scope)
    by_task = {task: r.counts for task, r in zip(SCORERS, results) if r is not None}
    not_scored: dict[str, int] = {}  # items no scored task covers (QA items when no prediction answers), by kind
    for it in items:
        if not ITEM_TASKS[it.kind] & set(tasks):
            not_scored[it.kind] = not_scored.get(it.kind, 0) + 1
    return {"items": len(items), "predicted": sum(1 for i in in_scope if i in by_id), "not_scored": not_scored,
            "errors": sum(c["errors"] for c in by_task.values()),
            # items (not task slots) that lack a prediction for some scored task; by_task has the per-task counts
            "unscored": len({i for r in results if r is not None for i in r.unscored_ids}), "by_task": by_task,
            "unscored_ids": list(dict.fromkeys(i for r in results if r is not None for i in r.unscored_ids))[:50],
            "unknown_ids": unknown[:50], "n_unknown_ids": len(unknown)}


def score(golden: GoldenSet, split: str, predictions: Sequence[Prediction], *, items: Sequence[Item] | None = None,
          tasks: Sequence[str] | None = None, wall_s: float | None = None,
          judgments: Sequence[dict] | None = None, judge: dict | None = None, beside: bool = False) -> dict:
    """The core sections of ``metrics.json`` for ``predictions`` against ``split`` of ``golden``.

    ``items`` narrows the scope (a ``--limit`` run); ``tasks`` says what was asked (default: the tasks the
    predictions speak to). ``judgments`` are per-answer verdicts of an LLM judge (:mod:`harness.judge`) and
    ``judge`` describes it; without them the answer metrics are the offline ones. ``beside``: a big run's
    bootstrap intervals computed in a second process meanwhile (:mod:`harness.scoring.beside`; the same figures).
    """
    items = list(items) if items is not None else golden.items(split, copy=False)
    with intervals(len(items), beside) as submit:
        return _score(golden, split, predictions, items=items, tasks=tasks, wall_s=wall_s, judgments=judgments,
                      judge=judge, submit=submit)


def _score(golden: GoldenSet, split: str, predictions: Sequence[Prediction], *, items: Sequence[Item],
           tasks: Sequence[str] | None, wall_s: float | None, judgments: Sequence[dict] | None,
           judge: dict | None, submit: Submit = HERE) -> dict:
    with gc_paused():  # per-item outcomes and samples, no cycles (see harness.bulk)
        return _sections(golden, split, predictions, items, tasks, wall_s, judgments, judge, submit)


def _sections(golden: GoldenSet, split: str, predictions: Sequence[Prediction], items: Sequence[Item],
              tasks: Sequence[str] | None, wall_s: float | None, judgments: Sequence[dict] | None,
              judge: dict | None, submit: Submit) -> dict:
    tasks = list(tasks) if tasks is not None else tasks_present(predictions)
    submit.ahead(warm_resamples, sum(1 for it in items if it.kind == "document"))  # the resamples' draws
    scope = Scope(golden, items, {p.id: p for p in predictions}, judgments, judge, submit)
    # the latency samples first: their intervals, the longest to compute, are handed over soonest
    latency, latency_ci = latency_sections(scope, predictions, tasks)
    results = [SCORERS[t](scope) if t in tasks else None for t in SCORERS]
    out: dict = {"schema_version": SCHEMA_VERSION, "golden": golden.describe(), "split": split,
                 "counts": _counts(items, scope.by_id, results, tasks)}
    ci: dict = {}
    for r in results:
        if r is not None:
            out[r.section] = r.values
            ci.update(resolved(r.ci))
    if latency:
        out["latency"] = latency
    ci.update(resolved(latency_ci))
    usage = usage_section(predictions)
    if usage:
        out["usage"] = usage
    guard = guardrails_section(predictions)
    if guard:
        out["guardrails"] = guard
    if wall_s is not None:
        out["throughput"] = throughput_section(out["counts"]["predicted"], wall_s)
    out["ci"] = {"method": f"percentile bootstrap over items, {CI_RESAMPLES} resamples, seed {CI_SEED}, 95%", **ci}
    return out


def score_run(run_dir: str | Path, golden: GoldenSet, *, judge_config=None, progress: bool | None = None,
              info: Callable[[str], None] = print, held: HeldPredictions | None = None, beside: bool = False) -> dict:
    """Score the run directory ``run_dir`` (and judge its answers when ``judge_config`` names a judge), write
    the sections through the run store and return the whole ``metrics.json``. ``held``: the predictions the
    runner just wrote there (:attr:`harness.runner.RunResult.held`), scored without reading the file back
    while it is unchanged. ``beside``: a big run's intervals computed in a second process (see :func:`score`;
    ``harness run`` passes it when two cores are free)."""
    from harness.store import RunStore

    store = RunStore(run_dir)
    with store.writing("harness score/judge"):
        record = store.read_run()
        with intervals(record.get("n_items") or 0, beside) as submit:  # its process starts while the run is read
            sections = _score_run(store, record, golden, judge_config, progress, info, held, submit)
        store.write_metrics(sections)
        from harness.cost.run_cost import cost_run

        return cost_run(store.root)  # the cost section, from the usage just scored


def _score_run(store: RunStore, record: dict, golden: GoldenSet, judge_config, progress: bool | None,
               info: Callable[[str], None], held: HeldPredictions | None, submit: Submit) -> dict:
    """The sections of :func:`score_run` (the run's and, for ``--repeats``, how its repeats differ)."""
    from harness.selection import scope_items

    preds = store.predictions(held)
    items = scope_items(golden, record, held.items if held is not None else ())
    tasks = record.get("tasks") or tasks_present(preds)
    judgments = judge = None
    if judge_config is not None and judge_config.provider != "none" and "answer" in tasks:
        from harness.judge import describe, judge_items

        judgments = judge_items(judge_config, items, preds, store, progress=progress, info=info)
        judge = describe(judge_config)
    sections = _score(golden, record["split"], preds, items=items, tasks=tasks,
                      wall_s=record.get("wall_s") if record.get("ended_at") else None,
                      judgments=judgments, judge=judge, submit=submit)
    repeats = store.repeats()
    if repeats:  # harness run --repeats: each repeat scored alone, then how they differ
        from harness.scoring.consistency import consistency_section

        runs = [preds, *repeats.values()]
        sections.update(consistency_section(golden, items, tasks, runs, [sections] + [
            _score(golden, record["split"], r, items=items, tasks=tasks, wall_s=None, judgments=None, judge=None,
                   submit=submit) for r in repeats.values()]))
    return sections


def score_external(golden: GoldenSet, split: str, predictions: Sequence[Prediction], out_dir: str | Path, *,
                   source: str, judge_config=None, progress: bool | None = None,
                   info: Callable[[str], None] = print) -> dict:
    """Make a run directory of predictions produced elsewhere (``harness score``): ``run.json`` with the
    split's item fingerprint, the predictions in the run store's format (so compare and diff work on it) and
    ``metrics.json``. Returns the whole ``metrics.json``."""
    from harness.selection import ids_hash
    from harness.store import JUDGMENTS, RunStore, now

    store = RunStore(out_dir)
    with store.writing("harness score"):
        store.discard_results(keep=(JUDGMENTS,))  # verdicts are keyed by their inputs: reusable
        items = golden.items(split)
        store.write_run({"predictor": {"name": "external", "predictions": source}, "golden": golden.describe(),
                         "split": split, "scope": "split", "scored_at": now(), "tasks": tasks_present(predictions),
                         "item_ids_sha256": ids_hash(items), "n_items": len(items)})
        store.write_predictions(predictions)
        return score_run(store.root, golden, judge_config=judge_config, progress=progress, info=info)


__all__ = ["SCHEMA_VERSION", "score", "score_external", "score_run", "tasks_present"]
