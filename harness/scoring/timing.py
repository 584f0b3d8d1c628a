"""The run-level sections: ``latency`` (per task and per document, with bootstrap intervals of P50/P95),
``usage`` (the system's model tokens) and ``throughput``.

Latency: a call served from the LLM call cache reports the latency measured when the call was made
(``latency.<task>.n_cached`` says how many); throughput is always this run's wall time.
"""

from __future__ import annotations

from typing import Sequence

from harness.predictor import Prediction, document_latency
from harness.scoring.beside import Pending
from harness.scoring.tasks import CI_RESAMPLES, CI_SEED, Scope
from metrics import latency_summary, throughput
from metrics.statistics import bootstrap_percentile_cis

DOCUMENT_TASKS = ("classify", "extract")  # what a caller waits for per document


def latency_sections(scope: Scope, predictions: Sequence[Prediction], tasks: Sequence[str]
                     ) -> tuple[dict, Pending]:
    """(``latency`` section, the intervals of its P50/P95 by dotted name, pending: ``scope.intervals``)."""
    in_scope = {it.id for it in scope.items}
    latency: dict = {}
    samples: dict[str, list] = {}
    for task in tasks:
        results = [p.tasks[task] for p in predictions if p.id in in_scope and task in p.tasks]
        values = [r.model_latency_s for r in results]
        if any(v is not None for v in values):
            summary = latency_summary(values).to_dict()
            ttft = latency_summary([r.model_ttft_s for r in results])
            if ttft.n:
                summary["ttft"] = ttft.to_dict()
            summary["n_cached"] = sum(1 for r in results if r.meta.get("cache_hit"))
            latency[task] = summary
            samples[task] = values
    doc_tasks = [t for t in DOCUMENT_TASKS if t in tasks]
    if doc_tasks and scope.documents:
        per_doc = [v for v in (document_latency(scope.by_id[it.id], doc_tasks) for it in scope.documents
                               if it.id in scope.by_id) if v is not None]
        if per_doc:
            latency["document"] = {**latency_summary(per_doc).to_dict(), "tasks": doc_tasks}
            samples["document"] = per_doc
    return latency, scope.intervals(percentile_cis, samples)


def percentile_cis(samples: dict[str, list]) -> dict:
    """The intervals of each sample's P50 and P95 by dotted name (``latency.<name>.p50``)."""
    cis = bootstrap_percentile_cis(samples, (50, 95), n_resamples=CI_RESAMPLES, seed=CI_SEED)
    return {f"latency.{task}.p{q}": interval.to_dict() for task, by_q in cis.items() for q, interval in by_q.items()}


def usage_section(predictions: Sequence[Prediction]) -> dict | None:
    """Input, output and embedding tokens of the system under test (None when nothing reported usage)."""
    from harness.predictor import TokenUsage

    total = sum((r.usage for p in predictions for r in p.tasks.values() if r.usage), TokenUsage())
    if total == TokenUsage():
        return None
    return {"input_tokens": total.input_tokens, "output_tokens": total.output_tokens,
            "embedding_tokens": total.embedding_tokens}


def throughput_section(n_predicted: int, wall_s: float) -> dict:
    return {"wall_s": wall_s, "items_per_s": throughput(n_predicted, wall_s)}
