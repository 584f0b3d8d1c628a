"""The metric registry: one declaration per metric of ``metrics.json``.

Every figure the harness reports is declared here once: its dotted name in ``metrics.json``, a title, a
unit, whether higher is better, and the task that produces it. Scoring, result tables, the leaderboard,
compare/diff, the gates and the criteria-file check all read these declarations, so a metric name is never
a string kept in several places.

A ``*`` in a name stands for one key chosen by the data (a class label, a field name, a task):
``classification.per_class.*.f1`` declares the F1 of every class. ``show`` lists the keys of a ``*`` that
the default result table shows (for names without ``*``: ``headline=True``).

A metric with ``compute`` is derived by scoring from its task's inputs (see ``COMPUTE_INPUTS``): adding such
a metric is this one declaration plus its function; scoring, reports, gates and the leaderboard pick it up.

>>> name = "classification.per_class.invoice.f1"
>>> lookup(name).title_for(name)
'F1 invoice'
>>> higher_is_better("extraction.spurious_rate"), higher_is_better("latency.classify.p95")
(False, False)
>>> format_value(0.9512, "fraction"), format_value(0.25, "seconds"), format_value(None, "usd")
('95.1%', '250.0 ms', '-')
"""

from __future__ import annotations

from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any, Callable, Literal, Mapping, Sequence

from metrics.classification import balanced_accuracy

Unit = Literal["fraction", "seconds", "count", "usd", "per_second", "number"]
Task = Literal["classify", "extract", "answer", "summarize"]

# what a ``compute`` function receives, per task (keyword arguments)
COMPUTE_INPUTS: Mapping[str, str] = {
    "classify": "y_true: list[str], y_pred: list[str | None] (None: failed), labels: list[str]",
}


@dataclass(frozen=True)
class Metric:
    """One metric of ``metrics.json``."""
    name: str  # dotted path; '*' matches one key (a class, a field, a task)
    title: str  # for tables; '{}' is replaced by the key a '*' matched
    unit: Unit
    higher_is_better: bool | None  # None: a descriptive count with no better direction (never gated)
    task: Task | None  # the task whose predictions produce it; None: the whole run (latency, cost, counts)
    headline: bool = False  # a row of the default result table
    show: tuple[str, ...] = ()  # for a '*' name: the keys shown in the default table, in order
    description: str = ""
    compute: Callable[..., float | None] | None = None  # derived by scoring from the task's inputs

    def title_for(self, name: str) -> str:
        if "{}" not in self.title:
            return self.title
        keys = [n for p, n in zip(self.name.split("."), name.split(".")) if p == "*"]
        out = self.title
        for key in keys or ["*"]:  # each '{}' in turn by the key of each '*'
            out = out.replace("{}", key, 1)
        return out


def _m(name: str, title: str, unit: Unit, higher: bool | None, task: Task | None = None, **kw) -> Metric:
    return Metric(name, title, unit, higher, task, **kw)


_LATENCY_TASKS = ("document", "classify", "extract", "answer", "summarize")
METRICS: tuple[Metric, ...] = (
    # classification (task classify)
    _m("classification.accuracy", "classification accuracy", "fraction", True, "classify", headline=True),
    _m("classification.macro_f1", "classification macro F1", "fraction", True, "classify", headline=True),
    _m("classification.weighted_f1", "classification weighted F1", "fraction", True, "classify", headline=True),
    _m("classification.balanced_accuracy", "classification balanced accuracy", "fraction", True, "classify",
       description="mean recall over the golden set's labels", compute=balanced_accuracy),
    _m("classification.n", "documents classified", "count", None, "classify"),
    _m("classification.per_class.*.precision", "precision {}", "fraction", True, "classify"),
    _m("classification.per_class.*.recall", "recall {}", "fraction", True, "classify"),
    _m("classification.per_class.*.f1", "F1 {}", "fraction", True, "classify"),
    _m("classification.per_class.*.support", "support {}", "count", None, "classify"),
    # field extraction (task extract)
    _m("extraction.accuracy", "field extraction accuracy", "fraction", True, "extract", headline=True),
    _m("extraction.spurious_rate", "spurious field rate", "fraction", False, "extract", headline=True),
    _m("extraction.n_documents", "documents extracted", "count", None, "extract"),
    _m("extraction.per_field.*.accuracy", "field {}", "fraction", True, "extract"),
    _m("extraction.per_field.*.spurious_rate", "spurious {}", "fraction", False, "extract"),
    # answers (task answer): offline detector and reference passages, or an LLM judge
    _m("answers.hallucination_rate", "answer hallucination rate", "fraction", False, "answer", headline=True),
    _m("answers.faithfulness", "answer faithfulness", "fraction", True, "answer", headline=True),
    _m("answers.answer_relevance", "answer relevance", "fraction", True, "answer", headline=True),
    _m("answers.context_precision", "context precision", "fraction", True, "answer", headline=True),
    _m("answers.context_recall", "context recall", "fraction", True, "answer", headline=True),
    _m("answers.reference_token_f1", "answer token F1", "fraction", True, "answer", headline=True),
    _m("answers.n", "questions", "count", None, "answer"),
    _m("answers.n_scored", "answers scored", "count", None, "answer"),
    _m("answers.offline.*", "offline {}", "fraction", True, "answer",
       description="the offline figure a judge's figure replaced"),
    _m("answers.judge.hallucination_rate", "judge: unfaithful answers", "fraction", False, "answer",
       headline=True),
    _m("answers.judge.usage.input_tokens", "judge input tokens", "count", False, "answer", headline=True),
    _m("answers.judge.usage.output_tokens", "judge output tokens", "count", False, "answer", headline=True),
    _m("answers.judge.cost_usd", "judge cost (USD)", "usd", False, "answer", headline=True),
    # summaries (task summarize)
    _m("summaries.hallucination_rate", "summary hallucination rate", "fraction", False, "summarize",
       headline=True),
    _m("summaries.faithfulness", "summary faithfulness", "fraction", True, "summarize"),
    _m("summaries.n", "documents with a gold summary", "count", None, "summarize"),
    _m("summaries.n_scored", "summaries scored", "count", None, "summarize"),
    # latency (seconds; 'document' = classify + extract of one document)
    _m("latency.*.p50", "{} latency P50", "seconds", False, show=("classify", "extract")),
    _m("latency.*.p95", "{} latency P95", "seconds", False, show=("document", "classify", "extract", "answer")),
    _m("latency.*.p99", "{} latency P99", "seconds", False),
    _m("latency.*.mean", "{} latency mean", "seconds", False),
    _m("latency.*.max", "{} latency max", "seconds", False),
    _m("latency.*.n", "{} calls timed", "count", None),
    _m("latency.*.n_cached", "{} calls from the cache", "count", None),
    _m("latency.*.ttft.p50", "{} time to first token P50", "seconds", False),
    _m("latency.*.ttft.p95", "{} time to first token P95", "seconds", False),
    _m("throughput.items_per_s", "throughput (items/s)", "per_second", True, headline=True),
    _m("throughput.wall_s", "wall time (s)", "number", False),
    # model usage of the system under test (the judge's is apart)
    _m("usage.input_tokens", "input tokens", "count", False),
    _m("usage.output_tokens", "output tokens", "count", False),
    _m("usage.embedding_tokens", "embedding tokens (retrieval queries)", "count", False),
    # cost (the cost section) and guardrails (the guardrails section)
    _m("cost.per_document", "cost per document (USD)", "usd", False, headline=True),
    _m("cost.total", "cost of the run (USD)", "usd", False),
    _m("cost.monthly_projection", "monthly cost at the configured volume (USD)", "usd", False),
    _m("guardrails.critical_failures", "critical guardrail failures", "count", False),
    _m("guardrails.calls", "model calls guarded", "count", None),
    _m("guardrails.interventions", "guardrail interventions (masked or blocked)", "count", None),
    _m("guardrails.blocked_calls", "model calls blocked by a guardrail", "count", None),
    _m("guardrails.warnings", "guardrail warnings (answers flagged for review)", "count", None),
    _m("guardrails.latency_s.p50", "guardrail time added per call P50", "seconds", False),
    _m("guardrails.latency_s.p95", "guardrail time added per call P95", "seconds", False),
    # consistency between repeats (harness run --repeats N; harness/scoring/consistency.py)
    _m("consistency.repeats", "repeats", "count", None),
    _m("consistency.items.*", "{} items in every repeat", "count", None),
    _m("consistency.pass_k.*", "{} right in every repeat (pass^k)", "fraction", True,
       description="share of the items right in all k repeats (classify: the gold label; extract: every field)"),
    _m("consistency.pass_1.*", "{} right per repeat (mean)", "fraction", True),
    _m("consistency.agreement.*", "{} same output in every repeat", "fraction", True,
       description="share of the items whose output is identical in all k repeats"),
    _m("consistency.spread.*.*.std", "{}.{} std over repeats", "fraction", False),
    _m("consistency.spread.*.*.mean", "{}.{} mean over repeats", "fraction", None),
    _m("consistency.spread.*.*.min", "{}.{} lowest repeat", "fraction", None),
    _m("consistency.spread.*.*.max", "{}.{} highest repeat", "fraction", None),
    # counts
    _m("counts.items", "items", "count", None, headline=True),
    _m("counts.predicted", "items predicted", "count", None),
    _m("counts.errors", "errors", "count", False, headline=True),
    _m("counts.unscored", "no prediction", "count", False, headline=True,
       description="items of a scored task with no prediction: counted wrong in classification and extraction "
       "(scored as failed calls), left unscored in answers and summaries"),
)


class UnknownMetric(KeyError):
    def __str__(self) -> str:
        return str(self.args[0])


def _matches(pattern: str, name: str) -> bool:
    p, n = pattern.split("."), name.split(".")
    return len(p) == len(n) and all(a == "*" or a == b for a, b in zip(p, n))


def lookup(name: str) -> Metric:
    """The declaration of a dotted metric name (exact names win over '*' patterns); UnknownMetric otherwise."""
    for m in METRICS:
        if m.name == name:
            return m
    for m in METRICS:
        if "*" in m.name and _matches(m.name, name):
            return m
    raise UnknownMetric(f"unknown metric {name!r} (see metrics/registry.py for the declared names)")


def higher_is_better(name: str) -> bool:
    """Direction of a metric; UnknownMetric for an undeclared name or one with no direction (a count)."""
    m = lookup(name)
    if m.higher_is_better is None:
        raise UnknownMetric(f"metric {name!r} is a count with no better direction")
    return m.higher_is_better


def check_direction(name: str, higher: bool) -> None:
    """Refuse a use of ``name`` (a criterion, a tolerance) that contradicts its declared direction."""
    declared = higher_is_better(name)
    if declared != higher:
        raise ValueError(f"contradicts the metric's declared direction ({name}: higher is better: {declared})")


def value(metrics: Mapping[str, Any], name: str) -> Any:
    """The value at a dotted name in a ``metrics.json`` mapping (None when absent)."""
    node: Any = metrics
    for part in name.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return None
        node = node[part]
    return node


def computed(task: str) -> list[Metric]:
    """Derived metrics of ``task``: the ones scoring computes from a ``compute`` function."""
    return [m for m in METRICS if m.task == task and m.compute is not None]


def headline_names() -> list[str]:
    """The default table's rows, in declaration order ('*' names expanded by their ``show`` keys)."""
    out = []
    for m in METRICS:
        if m.headline and "*" not in m.name:
            out.append(m.name)
        for key in m.show:
            out.append(m.name.replace("*", key, 1))
    return out


def detail_names(metrics_list: Sequence[Mapping[str, Any]]) -> list[str]:
    """Per-class F1 and per-field accuracy rows for the labels and fields present in any of the runs."""
    out: list[str] = []
    for section, pattern in (("classification.per_class", "classification.per_class.*.f1"),
                             ("extraction.per_field", "extraction.per_field.*.accuracy")):
        keys: list[str] = []
        for m in metrics_list:
            keys += [k for k in (value(m, section) or {}) if k not in keys]
        out += [pattern.replace("*", k) for k in keys]
    return out


def format_value(v: Any, unit: Unit) -> str:
    """A value as tables show it: fractions in percent, seconds in milliseconds (seconds from 1 s on), money
    in dollars.

    >>> format_value(0.0123, "seconds"), format_value(6, "seconds")
    ('12.3 ms', '6.00 s')
    """
    if v is None or isinstance(v, bool) or not isinstance(v, (int, float)):
        return "-" if v is None else str(v)
    if unit == "fraction":
        return f"{100 * v:.1f}%"
    if unit == "seconds":
        return f"{1000 * v:.1f} ms" if abs(v) < 1 else f"{v:,.2f} s"
    if unit == "count":
        return str(int(v))
    if unit == "usd":
        return f"${v:,.4f}"
    return f"{v:,.1f}"


def format_delta(v: Any, unit: Unit) -> str:
    """A difference between two values: percentage points, milliseconds, dollars."""
    if v is None:
        return "-"
    if unit == "fraction":
        return f"{100 * v:+.2f} pp"
    if unit == "seconds":
        return f"{1000 * v:+.1f} ms" if abs(v) < 1 else f"{v:+,.2f} s"
    if unit == "usd":
        return f"{v:+,.4f} USD"
    return f"{v:+,.4g}"


def matching(pattern: str) -> list[Metric]:
    """Declarations whose name matches a shell-style pattern (``harness metrics --match``); a plain word (no
    ``*``, ``?`` or ``[``) matches every name that contains it.

    >>> {m.name for m in matching("accuracy")} >= {"classification.accuracy"}
    True
    >>> [m.name for m in matching("classification.accuracy")]
    ['classification.accuracy']
    """
    if not any(c in pattern for c in "*?["):
        pattern = f"*{pattern}*"
    return [m for m in METRICS if fnmatchcase(m.name, pattern)]
