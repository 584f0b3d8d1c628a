"""Turn a golden split and a list of predictions into the nested ``metrics.json``.

Counting rules (nothing is silently dropped):

* ``counts.items``: golden items in scope (the split, or the items a run attempted).
* per task, ``expected`` items of the right kind; ``scored`` those with an output or a recorded error
  (an error counts as a wrong answer); ``errors`` the failed calls; ``unscored`` the rest (no prediction
  at all for that task), listed in ``counts.unscored_ids`` (first 50).
* ``counts.unknown_ids``: prediction ids that are not in the golden split (reported, not scored).

Latency: a call served from the LLM call cache reports the latency measured when the call was made
(``latency.<task>.n_cached`` says how many); throughput is always this run's wall time.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from harness.golden import GoldenSet, Item
from harness.predictor import OUTPUT_KEY, Prediction, document_latency
from metrics import classification_scores, latency_summary, throughput
from metrics.answers import answer_scores
from metrics.extraction import document_outcomes, scores_from_outcomes
from metrics.hallucination import MIN_SUPPORT_SUMMARY, detect
from metrics.statistics import bootstrap_ci, bootstrap_statistic_ci, classification_bootstrap

SCHEMA_VERSION = 1
CI_RESAMPLES = 1000
CI_SEED = 0


OFFLINE_SOURCE = {"hallucination_rate": "offline detector", "faithfulness": "offline detector",
                  "answer_relevance": None, "context_precision": "reference passages",
                  "context_recall": "reference passages", "reference_token_f1": "reference answer"}


def _answers_section(res, n_no_prediction: int, judgments: Sequence[dict] | None,
                     judge: dict | None) -> tuple[dict, tuple[bool, ...]]:
    """``answers``: offline figures, replaced metric by metric by the judge's where a judge ran; and, per
    answer the judge scored for faithfulness, whether it was fully supported (for a confidence interval).

    ``hallucination_rate`` stays the offline detector's (deterministic, what the gates read); the judge's own
    view (share of answers with ragas faithfulness < 1) is ``answers.judge.hallucination_rate``.
    """
    from metrics.answers import judge_scores

    offline = res.to_dict()
    counts = offline.pop("counts")
    unscored = offline.pop("unscored")
    for c in counts.values():
        if n_no_prediction:
            c["unscored"]["no prediction"] = n_no_prediction
    section = {**offline, "counts": counts, "source": dict(OFFLINE_SOURCE), "unscored": unscored}
    section["unscored"]["no prediction"] = n_no_prediction
    if not judge or judge.get("provider") == "none" or judgments is None:
        section["judge"] = {"provider": "none"}
        return section, ()
    price = judge.get("price_per_1k")
    js = judge_scores(judgments, judge["metrics"], None if price is None else (price["input"], price["output"]))
    section["offline"] = {k: offline[k] for k in ("faithfulness", "context_precision", "context_recall")}
    for name, value in js.values.items():
        section[name] = value
        section["counts"][name] = {**js.counts[name], "unscored": {
            **js.counts[name]["unscored"], **({"no prediction": n_no_prediction} if n_no_prediction else {})}}
        section["source"][name] = f"ragas via {judge['model']}"
    section["judge"] = {**judge, "n_judged": len(judgments), "hallucination_rate": js.hallucination_rate,
                        "usage": js.usage, "cost_usd": js.cost_usd,
                        "cost_note": None if js.cost_usd is not None else "no price known for this judge model: "
                        "set judge.price_input_per_1k and judge.price_output_per_1k"}
    return section, js.faithful


def tasks_present(predictions: Sequence[Prediction]) -> list[str]:
    return [t for t in OUTPUT_KEY if any(p.has(t) for p in predictions)]


def score(golden: GoldenSet, split: str, predictions: Sequence[Prediction], *, items: Sequence[Item] | None = None,
          tasks: Sequence[str] | None = None, wall_s: float | None = None,
          judgments: Sequence[dict] | None = None, judge: dict | None = None) -> dict:
    """metrics.json for ``predictions`` against ``split`` of ``golden``.

    ``items`` narrows the scope (a ``--limit`` run); ``tasks`` says what was asked (default: the tasks the
    predictions speak to). ``judgments`` are per-answer verdicts of an LLM judge (:mod:`harness.judge`) and
    ``judge`` describes it; without them the answer metrics are the offline ones.
    """
    items = list(items) if items is not None else golden.items(split)
    tasks = list(tasks) if tasks is not None else tasks_present(predictions)
    by_id = {p.id: p for p in predictions}
    in_scope = {it.id for it in items}
    docs = [it for it in items if it.kind == "document"]
    qa = [it for it in items if it.kind == "qa"]
    counts: dict = {"items": len(items), "predicted": sum(1 for i in in_scope if i in by_id), "errors": 0,
                    "unscored": 0, "by_task": {}}
    unscored_ids: list[str] = []
    out: dict = {"schema_version": SCHEMA_VERSION, "golden": golden.describe(), "split": split, "counts": counts}

    def split_scored(task: str, pool: list[Item]) -> tuple[list[Item], list[Prediction]]:
        scored, preds, errors = [], [], 0
        for it in pool:
            p = by_id.get(it.id)
            if p is None or not p.has(task):
                unscored_ids.append(it.id)
                continue
            errors += p.error(task) is not None
            scored.append(it)
            preds.append(p)
        counts["by_task"][task] = {"expected": len(pool), "scored": len(scored), "errors": errors,
                                   "unscored": len(pool) - len(scored)}
        counts["errors"] += errors
        counts["unscored"] += len(pool) - len(scored)
        return scored, preds

    ci: dict = {}
    if "classify" in tasks:
        scored, preds = split_scored("classify", docs)
        y_true = [it.label for it in scored]
        y_pred = [None if p.error("classify") else p.label for p in preds]
        cls = classification_scores(y_true, y_pred, labels=golden.manifest.labels, zero_division=0.0)
        out["classification"] = cls.to_dict()
        for name, interval in classification_bootstrap(y_true, y_pred, golden.manifest.labels,
                                                       n_resamples=CI_RESAMPLES, seed=CI_SEED).items():
            ci[f"classification.{name}"] = interval.to_dict()
    if "extract" in tasks:
        scored, preds = split_scored("extract", docs)
        pred_fields = [None if p.error("extract") else p.fields for p in preds]
        per_doc = [document_outcomes(it.fields, pf, golden.manifest.fields) for it, pf in zip(scored, pred_fields)]
        out["extraction"] = scores_from_outcomes(per_doc, list(golden.manifest.fields)).to_dict()
        outcomes = [list(o.values()) for o in per_doc]
        ci["extraction.accuracy"] = bootstrap_ci(
            [o.count("correct") for o in outcomes], [o.count("correct") + o.count("wrong") for o in outcomes],
            n_resamples=CI_RESAMPLES, seed=CI_SEED).to_dict()
        for name in golden.manifest.fields:
            gold_has = [o[name] in ("correct", "wrong") for o in per_doc]
            if any(gold_has):
                ci[f"extraction.per_field.{name}.accuracy"] = bootstrap_ci(
                    [o[name] == "correct" for o in per_doc], gold_has, n_resamples=CI_RESAMPLES, seed=CI_SEED).to_dict()
        ci["extraction.spurious_rate"] = bootstrap_ci(
            [o.count("spurious") for o in outcomes], [o.count("spurious") + o.count("empty") for o in outcomes],
            n_resamples=CI_RESAMPLES, seed=CI_SEED).to_dict()
    if "answer" in tasks:
        scored, preds = split_scored("answer", qa)
        res = answer_scores([None if p.error("answer") else p.answer for p in preds],
                            [list(p.contexts) if p.contexts else None for p in preds],
                            [it.reference_answer for it in scored], [list(it.reference_contexts) for it in scored])
        out["answers"], faithful = _answers_section(res, counts["by_task"]["answer"]["unscored"], judgments, judge)
        if res.hallucinated:
            ci["answers.hallucination_rate"] = bootstrap_ci(res.hallucinated, n_resamples=CI_RESAMPLES,
                                                            seed=CI_SEED).to_dict()
        if faithful:
            ci["answers.judge.hallucination_rate"] = bootstrap_ci([not f for f in faithful], n_resamples=CI_RESAMPLES,
                                                                  seed=CI_SEED).to_dict()
    if "summarize" in tasks:
        pool = [d for d in docs if d.summary is not None]
        scored, preds = split_scored("summarize", pool)
        verdicts = [detect(p.summary, it.text, MIN_SUPPORT_SUMMARY) for it, p in zip(scored, preds)
                    if p.summary and not p.error("summarize")]
        out["summaries"] = {"n": len(pool), "n_scored": len(verdicts),
                            "hallucination_rate": (sum(v.hallucinated for v in verdicts) / len(verdicts))
                            if verdicts else None,
                            "faithfulness": (sum(v.faithfulness or 0 for v in verdicts) / len(verdicts))
                            if verdicts else None,
                            "unscored": len(pool) - len(verdicts)}
    counts["unscored_ids"] = unscored_ids[:50]
    counts["unknown_ids"] = sorted(set(by_id) - in_scope)[:50]
    counts["n_unknown_ids"] = len(set(by_id) - in_scope)

    latency: dict = {}
    samples: dict[str, list] = {}
    for task in tasks:
        results = [p.tasks[task] for p in predictions if p.id in in_scope and task in p.tasks]
        values = [r.model_latency_s for r in results]
        if any(v is not None for v in values):
            summary = latency_summary(values).to_dict()
            t = latency_summary([r.model_ttft_s for r in results])
            if t.n:
                summary["ttft"] = t.to_dict()
            summary["n_cached"] = sum(1 for r in results if r.meta.get("cache_hit"))
            latency[task] = summary
            samples[task] = values
    # per document: the sum of its task latencies (what a caller waits for classify + extract)
    doc_tasks = [t for t in ("classify", "extract") if t in tasks]
    if doc_tasks and docs:
        per_doc_latency = [v for v in (document_latency(by_id[it.id], doc_tasks) for it in docs if it.id in by_id)
                           if v is not None]
        if per_doc_latency:
            latency["document"] = {**latency_summary(per_doc_latency).to_dict(), "tasks": doc_tasks}
            samples["document"] = per_doc_latency
    for task, values in samples.items():
        for q in (50, 95):
            ci[f"latency.{task}.p{q}"] = bootstrap_statistic_ci(
                values, lambda a, q=q: float(np.percentile(a, q)), n_resamples=CI_RESAMPLES, seed=CI_SEED).to_dict()
    if latency:
        out["latency"] = latency
    usage_in = usage_out = 0
    for p in predictions:
        for r in p.tasks.values():
            if r.usage:
                usage_in += r.usage.input_tokens
                usage_out += r.usage.output_tokens
    if usage_in or usage_out:
        out["usage"] = {"input_tokens": usage_in, "output_tokens": usage_out}
    if wall_s is not None:
        out["throughput"] = {"wall_s": wall_s, "items_per_s": throughput(counts["predicted"], wall_s)}
    out["ci"] = {"method": f"percentile bootstrap over items, {CI_RESAMPLES} resamples, seed {CI_SEED}, 95%",
                 **ci}
    return out
