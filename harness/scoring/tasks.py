"""Per-task scorers: each turns the golden items of one task and their predictions into its section of
``metrics.json`` and its bootstrap intervals, and returns them (nothing is mutated in place).

Counting rule, the same for every task: ``expected`` items of the right kind; ``scored`` those with an output
or a recorded error; ``errors`` the failed calls; ``unscored`` those with no prediction at all for the task.
One rule for what is missing: an item with no prediction is scored as a failed call (:data:`NO_PREDICTION`), so
a figure is always over everything the run was to do (classification and extraction count it wrong; answers and
summaries leave it unscored, "no prediction", as they leave a failed call unscored, and say how many), never
over what happened to be predicted.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Callable, Mapping, Sequence

from harness.golden import GoldenSet, Item
from harness.predictor import Prediction, TaskResult
from harness.scoring.beside import HERE, Pending, Submit
from metrics import classification_scores, registry
from metrics.extraction import OUTCOMES, outcome_columns, outcome_table, scores_from_columns
from metrics.hallucination import MIN_SUPPORT_SUMMARY, detect
from metrics.resamples import draw_resamples
from metrics.statistics import bootstrap_ci, bootstrap_cis, classification_bootstrap

CI_RESAMPLES = 1000
CI_SEED = 0


@dataclass(frozen=True)
class Scope:
    """What every task scorer reads: the golden set, the items in scope and the predictions by id; ``intervals``
    is where a scorer hands its bootstrap computation (:func:`harness.scoring.beside.intervals`: a second
    process for a big run, else made here)."""
    golden: GoldenSet
    items: Sequence[Item]
    by_id: Mapping[str, Prediction]
    judgments: Sequence[dict] | None = None
    judge: Mapping[str, Any] | None = None
    intervals: Submit = HERE

    @cached_property
    def documents(self) -> list[Item]:
        """The documents in scope, in order (built once: every document scorer and the latency section read it)."""
        return [it for it in self.items if it.kind == "document"]


@dataclass(frozen=True)
class TaskScore:
    """One task's result: its ``metrics.json`` section, intervals by dotted name (or their :class:`Pending`
    computation), and its counts."""
    section: str
    values: dict
    ci: dict | Pending
    counts: dict  # expected, scored, errors, unscored
    unscored_ids: tuple[str, ...] = field(default_factory=tuple)


def _ci(successes, totals=None) -> dict:
    return bootstrap_ci(successes, totals, n_resamples=CI_RESAMPLES, seed=CI_SEED).to_dict()


def warm_resamples(n: int) -> None:
    """Draw the resamples every interval over ``n`` items uses (in the process that computes them)."""
    draw_resamples(n, CI_RESAMPLES, CI_SEED)


def classification_cis(y_true: Sequence[str], y_pred: Sequence[str | None], labels: Sequence[str]) -> dict:
    """The classification intervals by dotted name (:func:`~metrics.statistics.classification_bootstrap`)."""
    return {f"classification.{name}": interval.to_dict() for name, interval in classification_bootstrap(
        y_true, y_pred, labels, n_resamples=CI_RESAMPLES, seed=CI_SEED).items()}


def ratio_cis(ratios: Mapping[str, tuple]) -> dict:
    """Intervals of ratios over the same items by dotted name, from one set of resamples
    (:func:`~metrics.statistics.bootstrap_cis`)."""
    return {name: interval.to_dict() for name, interval in
            bootstrap_cis(ratios, n_resamples=CI_RESAMPLES, seed=CI_SEED).items()}


NO_PREDICTION = "no prediction"  # the failed call an item without a prediction is scored as


def split_scored(scope: Scope, task: str, pool: Sequence[Item], *, fill: bool = True
                 ) -> tuple[list[Item], list[Prediction], dict, tuple]:
    """(items, a prediction for each, counts, ids of the items without one) for ``task`` over ``pool``: with
    ``fill`` every item, one without a prediction given a failed call (:data:`NO_PREDICTION`); without, only the
    items that have one (a failed call and a missing prediction both end unscored there)."""
    items, preds, missing, errors = [], [], [], 0
    for it in pool:
        p = scope.by_id.get(it.id)
        if p is None or not p.has(task):
            missing.append(it.id)
            if not fill:
                continue
            p = Prediction(id=it.id, tasks={task: TaskResult(error=NO_PREDICTION)})
        else:
            errors += p.error(task) is not None
        items.append(it)
        preds.append(p)
    counts = {"expected": len(pool), "scored": len(pool) - len(missing), "errors": errors, "unscored": len(missing)}
    return items, preds, counts, tuple(missing)


def with_derived(task: str, section: str, values: dict, **inputs) -> dict:
    """``values`` plus every registry metric of ``task`` that declares a ``compute`` function."""
    out = dict(values)
    for m in registry.computed(task):
        out[m.name.removeprefix(section + ".")] = m.compute(**inputs)
    return out


def score_classification(scope: Scope) -> TaskScore:
    scored, preds, counts, missing = split_scored(scope, "classify", scope.documents)
    labels = list(scope.golden.manifest.labels)
    y_true = [it.label for it in scored]
    y_pred = [None if p.error("classify") else p.label for p in preds]
    ci = scope.intervals(classification_cis, y_true, y_pred, labels)  # computed beside the estimates below
    values = with_derived("classify", "classification",
                          classification_scores(y_true, y_pred, labels=labels, zero_division=0.0).to_dict(),
                          y_true=y_true, y_pred=y_pred, labels=labels)
    return TaskScore("classification", values, ci, counts, missing)


def score_extraction(scope: Scope) -> TaskScore:
    scored, preds, counts, missing = split_scored(scope, "extract", scope.documents)
    schema = scope.golden.manifest.fields
    columns = outcome_columns([it.fields for it in scored],
                              [None if p.error("extract") else p.fields for p in preds], schema)
    values = scores_from_columns(columns, len(scored)).to_dict()
    table = outcome_table(columns, len(scored))  # documents x fields: outcome
    correct, wrong, spurious, empty = (table == OUTCOMES.index(k) for k in ("correct", "wrong", "spurious", "empty"))
    ratios = {"extraction.accuracy": (correct.sum(axis=1), correct.sum(axis=1) + wrong.sum(axis=1))}
    for j, name in enumerate(schema):
        gold_has = correct[:, j] | wrong[:, j]
        if gold_has.any():
            ratios[f"extraction.per_field.{name}.accuracy"] = (correct[:, j], gold_has)
    ratios["extraction.spurious_rate"] = (spurious.sum(axis=1), spurious.sum(axis=1) + empty.sum(axis=1))
    return TaskScore("extraction", values, scope.intervals(ratio_cis, ratios), counts, missing)


def score_answers(scope: Scope) -> TaskScore:
    from harness.scoring.answers import answers_section
    from metrics.answers import answer_scores

    qa = [it for it in scope.items if it.kind == "qa"]
    scored, preds, counts, missing = split_scored(scope, "answer", qa, fill=False)
    res = answer_scores([None if p.error("answer") else p.answer for p in preds],
                        [list(p.contexts) if p.contexts else None for p in preds],
                        [it.reference_answer for it in scored], [list(it.reference_contexts) for it in scored])
    values, faithful = answers_section(res, counts["unscored"], scope.judgments, scope.judge)
    ci = {}
    if res.hallucinated:
        ci["answers.hallucination_rate"] = _ci(res.hallucinated)
    if faithful:
        ci["answers.judge.hallucination_rate"] = _ci([not f for f in faithful])
    return TaskScore("answers", values, ci, counts, missing)


def score_summaries(scope: Scope) -> TaskScore:
    pool = [d for d in scope.documents if d.summary is not None]
    scored, preds, counts, missing = split_scored(scope, "summarize", pool, fill=False)
    verdicts = [detect(p.summary, it.text, MIN_SUPPORT_SUMMARY) for it, p in zip(scored, preds)
                if p.summary and not p.error("summarize")]
    n = len(verdicts)
    values = {"n": len(pool), "n_scored": n,
              "hallucination_rate": sum(v.hallucinated for v in verdicts) / n if n else None,
              "faithfulness": sum(v.faithfulness or 0 for v in verdicts) / n if n else None,
              "unscored": len(pool) - n}
    return TaskScore("summaries", values, {}, counts, missing)


# task -> its scorer; a new task's scorer is one function here
SCORERS: Mapping[str, Callable[[Scope], TaskScore]] = {
    "classify": score_classification, "extract": score_extraction, "answer": score_answers,
    "summarize": score_summaries,
}
