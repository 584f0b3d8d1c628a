"""Each week of the parallel run judged the way canary analysis judges a canary (Netflix Kayenta's judge): a
statistical test per metric, a verdict per metric (``pass``, ``better``, ``worse``, ``no-data``; ``info`` for a
figure that is reported and not judged), critical metrics that fail the week on their own, and no data that
never reads as a pass.

Per metric, on the week's rows only (fetched with ``WHERE week = ?``; counts are summed in SQL, only the
latencies and costs of the week reach Python):

* **Classification match** (critical) and **Extraction match**: paired, on the documents both pipelines
  processed that have gold (extraction: their (document, field) pairs with a gold value); exact McNemar test
  (:func:`metrics.statistics.mcnemar_exact`) on per-item correctness. ``worse``/``better`` when ``p < alpha``.
* **Processing time** (P95) and **Cost per doc** (mean): two-sided Mann-Whitney U on the two distributions
  plus an effect threshold, the go/no-go's allowance read from the criteria file (``ratio_to_baseline``
  conditions on ``latency.document.p95`` and ``cost.per_document``: LLMOps P95 < 2x MLOps, cost < 3x).
  ``worse`` only when LLMOps is significantly higher *and* the ratio breaks the allowance; ``better`` when
  significantly lower. Without an allowance in the file, any significant increase is ``worse``.
* **Error rate** (critical): errors or pipeline down, Fisher's exact test on the 2x2 table; ``worse`` when
  LLMOps's rate is significantly higher.
* **Hallucination rate** (LLMOps): one-sided binomial test against the go/no-go's weekly threshold (< 3 %):
  ``worse`` when the rate is significantly above it.
* **PII exposures** (critical; the go/no-go's "critical data exposure incident" and the rollback trigger
  "any PII exposure"): ``worse`` on any LLMOps exposure; not a test.
* **Label agreement**: ``info`` (it needs no gold, so production can show it; it says nothing about who is right).

The week: ``fail`` when a critical metric is ``worse``; else ``no-data`` when a critical metric has no data
(a week without gold cannot pass); else the score (judged metrics not ``worse`` / judged metrics) must reach
:data:`PASS_SCORE` (Kayenta's default pass threshold, 95): below it the week fails.
"""

from __future__ import annotations

import sqlite3
from dataclasses import asdict, dataclass
from typing import Any, Mapping

import numpy as np

from harness.shadow.dashboard import PAIRS, PERIODS

PASS, BETTER, WORSE, NO_DATA, INFO = "pass", "better", "worse", "no-data", "info"
PASS_SCORE = 0.95
CRITICAL = ("Classification match", "Error rate", "PII exposures")


@dataclass(frozen=True)
class MetricVerdict:
    """One metric in one period: both pipelines' values, the test and its verdict."""
    metric: str
    mlops: float | None
    llmops: float | None
    delta: float | None  # llmops - mlops
    test: str
    p_value: float | None
    verdict: str  # pass | better | worse | no-data | info
    critical: bool
    n: int = 0  # items the test ran on
    value: float | None = None  # a figure between the pipelines: LLMOps / MLOps ratio, label agreement
    limit: str | None = None  # the effect threshold on ``value`` (distribution metrics: "< 2x")


@dataclass(frozen=True)
class WeekVerdict:
    """A period's verdict (``pass``, ``fail``, ``no-data``), why, and every metric's verdict."""
    period: str
    verdict: str
    reasons: tuple[str, ...]
    metrics: tuple[MetricVerdict, ...]
    score: float | None

    def metric(self, name: str) -> MetricVerdict:
        return next(m for m in self.metrics if m.metric == name)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Allowances:
    """The go/no-go's limits the judge uses, from the criteria file (None: not in the file)."""
    latency: tuple[str, float] | None  # (op, factor) on LLMOps P95 / MLOps P95
    cost: tuple[str, float] | None  # (op, factor) on LLMOps mean cost / MLOps mean cost
    hallucination: tuple[str, float] | None  # (op, value) on LLMOps's weekly hallucination rate


def allowances(criteria: Any = None) -> Allowances:
    """Read the allowances from ``criteria`` (:func:`harness.gates.load_criteria`; default the TechCorp file)."""
    from harness.gates import load_criteria

    criteria = criteria if criteria is not None else load_criteria()
    found: dict[str, tuple[str, float]] = {}
    for cond in criteria.go_no_go.get("go", []):
        key = {("ratio_to_baseline", "latency.document.p95"): "latency",
               ("ratio_to_baseline", "cost.per_document"): "cost",
               ("weekly_threshold", "answers.hallucination_rate"): "hallucination"}.get(
            (cond.get("kind"), cond.get("metric")))
        if key:
            found[key] = (cond["op"], float(cond["factor"] if key != "hallucination" else cond["value"]))
    return Allowances(found.get("latency"), found.get("cost"), found.get("hallucination"))


def _mcnemar(metric: str, counts: tuple, unit: str, alpha: float) -> MetricVerdict:
    from metrics.statistics import mcnemar_exact

    n, both, ml_only, llm_only = (int(c or 0) for c in counts)
    critical = metric in CRITICAL
    if n == 0:
        return MetricVerdict(metric, None, None, None, f"McNemar exact: no {unit} both processed with gold",
                             None, NO_DATA, critical)
    neither = n - both - ml_only - llm_only
    ml = np.repeat([1, 1, 0, 0], [both, ml_only, llm_only, neither])
    llm = np.repeat([1, 0, 1, 0], [both, ml_only, llm_only, neither])
    res = mcnemar_exact(ml, llm)
    a, b = (both + ml_only) / n, (both + llm_only) / n
    verdict = (WORSE if b < a else BETTER) if res.p_value < alpha else PASS
    return MetricVerdict(metric, a, b, b - a, f"McNemar exact on {n:,} {unit} (only MLOps right {ml_only:,}, only "
                         f"LLMOps right {llm_only:,})", res.p_value, verdict, critical, n)


def _nearest_rank(values: np.ndarray, q: float = 0.95) -> float:
    return float(np.sort(values)[int(np.ceil(q * values.size)) - 1])


def _distribution_inputs(ml: np.ndarray, llm: np.ndarray, stat) -> dict[str, Any]:
    """What the verdict of a distribution metric needs of the two samples (plain numbers: a week's summary)."""
    out: dict[str, Any] = {"n_ml": int(ml.size), "n_llm": int(llm.size), "a": None, "b": None, "statistic": None,
                           "p": None}
    if ml.size and llm.size:
        from scipy.stats import mannwhitneyu

        res = mannwhitneyu(llm, ml, alternative="two-sided")
        out.update(a=float(stat(ml)), b=float(stat(llm)), statistic=float(res.statistic),
                   p=float(res.pvalue) if np.isfinite(res.pvalue) else 1.0)
    return out


def _distribution(metric: str, d: Mapping[str, Any], label: str, allowance: tuple[str, float] | None,
                  alpha: float) -> MetricVerdict:
    from harness.gates import OPS

    n_ml, n_llm = d["n_ml"], d["n_llm"]
    if n_ml == 0 or n_llm == 0:
        return MetricVerdict(metric, None, None, None, "Mann-Whitney U: no values for "
                             + ("MLOps" if n_ml == 0 else "LLMOps"), None, NO_DATA, False)
    a, b, p = d["a"], d["b"], d["p"]
    higher = d["statistic"] > n_llm * n_ml / 2
    op, factor = allowance or ("<=", 1.0)
    ratio = b / a if a > 0 else None
    within = OPS[op](ratio, factor) if ratio is not None else b <= 0
    verdict = (WORSE if higher and not within else PASS if higher else BETTER) if p < alpha else PASS
    shown = "-" if ratio is None else f"{ratio:.2f}"
    return MetricVerdict(metric, a, b, b - a, f"Mann-Whitney U; {label} ratio {shown} (allowed {op} {factor:g}x)",
                         p, verdict, False, int(n_ml + n_llm), ratio, f"{op} {factor:g}x")


def _period_rows(conn: sqlite3.Connection, col: str, value: str) -> dict[str, dict[str, Any]]:
    sql = f"""SELECT pipeline, COUNT(*), SUM(error IS NOT NULL OR available = 0), COUNT(hallucinated),
                     COALESCE(SUM(hallucinated), 0), SUM(pii_exposed), SUM(available)
              FROM results WHERE {col} = ? GROUP BY pipeline"""
    keys = ("n", "failed", "checked", "hallucinated", "pii", "processed")
    return {r[0]: dict(zip(keys, r[1:])) for r in conn.execute(sql, (value,))}


def _error_rate(counts: Mapping[str, dict], alpha: float) -> MetricVerdict:
    from scipy.stats import fisher_exact

    ml, llm = counts.get("mlops"), counts.get("llmops")
    if not ml or not llm:
        return MetricVerdict("Error rate", None, None, None, "Fisher exact: no documents for "
                             + ("MLOps" if not ml else "LLMOps"), None, NO_DATA, True)
    a, b = ml["failed"] / ml["n"], llm["failed"] / llm["n"]
    p = float(fisher_exact([[llm["failed"], llm["n"] - llm["failed"]], [ml["failed"], ml["n"] - ml["failed"]]])[1])
    verdict = (WORSE if b > a else BETTER) if p < alpha else PASS
    return MetricVerdict("Error rate", a, b, b - a, f"Fisher exact: MLOps {ml['failed']:,}/{ml['n']:,}, LLMOps "
                         f"{llm['failed']:,}/{llm['n']:,}", p, verdict, True, ml["n"] + llm["n"])


def _hallucination(counts: Mapping[str, dict], limit: tuple[str, float] | None, alpha: float) -> MetricVerdict:
    from scipy.stats import binomtest

    ml, llm = counts.get("mlops") or {}, counts.get("llmops") or {}
    a = ml["hallucinated"] / ml["checked"] if ml.get("checked") else None
    if limit is None:
        return MetricVerdict("Hallucination rate", a, None, None, "no weekly threshold in the criteria file", None,
                             INFO, False)
    op, value = limit
    if not llm.get("checked"):
        return MetricVerdict("Hallucination rate", a, None, None, f"binomial vs {op} {value:.0%}: no LLMOps answers "
                             "checked", None, NO_DATA, False)
    k, n = int(llm["hallucinated"]), int(llm["checked"])
    p = float(binomtest(k, n, value, alternative="greater").pvalue)
    return MetricVerdict("Hallucination rate", a, k / n, None if a is None else k / n - a,
                         f"binomial, H1: rate above {value:.0%} (go/no-go {op} {value:.0%}), {k:,}/{n:,}", p,
                         WORSE if p < alpha else PASS, False, n)


def _pii(counts: Mapping[str, dict]) -> MetricVerdict:
    ml, llm = counts.get("mlops") or {}, counts.get("llmops") or {}
    if not llm.get("processed"):
        return MetricVerdict("PII exposures", ml.get("pii"), None, None, "no document processed by LLMOps", None,
                             NO_DATA, True)
    a, b = ml.get("pii"), int(llm["pii"])
    return MetricVerdict("PII exposures", a, b, None if a is None else b - a, "any LLMOps exposure fails "
                         "(go/no-go: critical data exposure)", None, WORSE if b > 0 else PASS, True,
                         int(llm["processed"]))


def _overall(period: str, metrics: tuple[MetricVerdict, ...]) -> WeekVerdict:
    def why(m: MetricVerdict) -> str:
        p = "" if m.p_value is None else f", p={m.p_value:.2g}"
        return f"{m.metric}: {m.verdict}{' (critical)' if m.critical else ''}: {m.test}{p}"

    judged = [m for m in metrics if m.verdict in (PASS, BETTER, WORSE)]
    worse = [m for m in judged if m.verdict == WORSE]
    score = (len(judged) - len(worse)) / len(judged) if judged else None
    if any(m.critical for m in worse):
        return WeekVerdict(period, "fail", tuple(why(m) for m in worse), metrics, score)
    missing = [m for m in metrics if m.critical and m.verdict == NO_DATA]
    if missing or score is None:
        return WeekVerdict(period, NO_DATA, tuple(why(m) for m in missing) or ("no data",), metrics, score)
    if score < PASS_SCORE:
        return WeekVerdict(period, "fail", (f"score {score:.2f} below {PASS_SCORE}",
                                            *(why(m) for m in worse)), metrics, score)
    better = [m.metric for m in judged if m.verdict == BETTER]
    return WeekVerdict(period, PASS, (f"{len(judged)} metrics judged, none worse, every critical metric has data"
                                      + (f"; better: {', '.join(better)}" if better else ""),), metrics, score)


def period_inputs(conn: sqlite3.Connection, value: str, period: str = "week") -> dict[str, Any]:
    """Everything a period's verdict is computed from, as plain numbers (counts summed in SQL, the latency and
    cost samples reduced to their statistic and Mann-Whitney U): kept in the week's summary."""
    col = period
    labels = conn.execute(f"""SELECT COUNT(*), SUM(m.label_correct AND l.label_correct),
        SUM(m.label_correct AND NOT l.label_correct), SUM(NOT m.label_correct AND l.label_correct) {PAIRS}
        AND m.{col} = ? AND m.label_correct IS NOT NULL AND l.label_correct IS NOT NULL""", (value,)).fetchone()
    fields = conn.execute(f"""SELECT COUNT(*), SUM(fm.correct AND fl.correct), SUM(fm.correct AND NOT fl.correct),
        SUM(NOT fm.correct AND fl.correct) FROM results m
        JOIN fields fm ON fm.doc_id = m.doc_id AND fm.pipeline = 'mlops'
        JOIN fields fl ON fl.doc_id = m.doc_id AND fl.pipeline = 'llmops' AND fl.field = fm.field
        WHERE m.pipeline = 'mlops' AND m.{col} = ? AND fm.correct IS NOT NULL AND fl.correct IS NOT NULL""",
                          (value,)).fetchone()
    agree_n, agree_same = conn.execute(f"""SELECT COUNT(*), SUM(m.label = l.label) {PAIRS} AND m.{col} = ?
        AND m.label IS NOT NULL AND l.label IS NOT NULL""", (value,)).fetchone()
    values: dict[tuple[str, str], list[float]] = {(p, k): [] for p in ("mlops", "llmops") for k in ("t", "c")}
    for pipeline, available, latency, cost in conn.execute(
            f"SELECT pipeline, available, latency_s, cost_usd FROM results WHERE {col} = ?", (value,)):
        if available:
            values[(pipeline, "t")].append(latency)
        if cost is not None:
            values[(pipeline, "c")].append(cost)
    arr = {k: np.asarray(v, dtype=float) for k, v in values.items()}
    return {"labels": list(labels), "fields": list(fields), "agree": [agree_n, agree_same],
            "time": _distribution_inputs(arr[("mlops", "t")], arr[("llmops", "t")], _nearest_rank),
            "cost": _distribution_inputs(arr[("mlops", "c")], arr[("llmops", "c")], np.mean),
            "counts": _period_rows(conn, col, value)}


def verdict_of(value: str, inputs: Mapping[str, Any], limits: Allowances, alpha: float = 0.05) -> WeekVerdict:
    """The verdict of a period from its :func:`period_inputs`."""
    counts = inputs["counts"]
    agree_n, agree_same = inputs["agree"]
    agreement = agree_same / agree_n if agree_n else None
    metrics = (
        _mcnemar("Classification match", tuple(inputs["labels"]), "documents", alpha),
        _mcnemar("Extraction match", tuple(inputs["fields"]), "(document, field) pairs", alpha),
        _distribution("Processing time", inputs["time"], "P95", limits.latency, alpha),
        _distribution("Cost per doc", inputs["cost"], "mean", limits.cost, alpha),
        _error_rate(counts, alpha),
        _hallucination(counts, limits.hallucination, alpha),
        _pii(counts),
        MetricVerdict("Label agreement", None, None, None, f"reported, not judged ({agree_n:,} documents both "
                      "labelled)", None, INFO if agree_n else NO_DATA, False, agree_n, agreement),
    )
    return _overall(value, metrics)


def week_summary(conn: sqlite3.Connection, week: str) -> dict[str, Any] | None:
    """A week's summary as the database keeps it (None: no results that week): its dashboard row and the
    inputs of its verdict, computed as on demand."""
    from dataclasses import asdict

    from harness.shadow.dashboard import period_row

    row = period_row(conn, week, "week")
    return None if row is None else {"row": asdict(row), "judge": period_inputs(conn, week, "week")}


def stored_weeks(conn: sqlite3.Connection) -> dict[str, tuple[Any, dict[str, Any]]] | None:
    """Every week as (dashboard row, verdict inputs): from the summaries, a stale week computed now. None for a
    file without summaries (written before them: every figure is computed on demand)."""
    from harness.shadow.dashboard import row_from_json, stored_body
    from harness.shadow.db import has_summaries

    if not has_summaries(conn):
        return None
    stale = {w for (w,) in conn.execute("SELECT week FROM stale")}
    out: dict[str, tuple[Any, dict[str, Any]]] = {}
    for week, body in conn.execute("SELECT week, body FROM summaries"):
        if week not in stale:
            out[week] = stored_body(week, body)
    for week in sorted(stale):
        body = week_summary(conn, week)
        if body is not None:
            out[week] = (row_from_json(body["row"]), body["judge"])
    return out


def judge_period(conn: sqlite3.Connection, value: str, period: str = "week", alpha: float = 0.05,
                 limits: Allowances | None = None) -> WeekVerdict:
    """The verdict of one period (``period`` ``week``: ``value`` like ``2026-W03``; ``day``: ``2026-01-14``)."""
    if period not in PERIODS:
        raise ValueError(f"period must be one of {PERIODS}, got {period!r}")
    limits = limits or allowances()
    inputs = None
    if period == "week":
        from harness.shadow.dashboard import stored_body
        from harness.shadow.db import has_summaries

        if has_summaries(conn) and conn.execute("SELECT 1 FROM stale WHERE week = ?", (value,)).fetchone() is None:
            stored = conn.execute("SELECT body FROM summaries WHERE week = ?", (value,)).fetchone()
            if stored is not None:
                inputs = stored_body(value, stored[0])[1]
    return verdict_of(value, inputs if inputs is not None else period_inputs(conn, value, period), limits, alpha)


def judge_week(conn: sqlite3.Connection, week: str, alpha: float = 0.05, criteria: Any = None) -> WeekVerdict:
    """The verdict of ISO week ``week`` (``2026-W03``); allowances from ``criteria`` (default: TechCorp's)."""
    return judge_period(conn, week, "week", alpha, allowances(criteria))


def judge_all(conn: sqlite3.Connection, period: str = "week", alpha: float = 0.05,
              criteria: Any = None) -> dict[str, WeekVerdict]:
    """Every period's verdict, oldest first."""
    if period not in PERIODS:
        raise ValueError(f"period must be one of {PERIODS}, got {period!r}")
    limits = allowances(criteria)
    stored = stored_weeks(conn) if period == "week" else None
    if stored is not None:
        return {week: verdict_of(week, inputs, limits, alpha) for week, (_, inputs) in sorted(stored.items())}
    values = [r[0] for r in conn.execute(f"SELECT DISTINCT {period} FROM results ORDER BY {period}")]
    return {v: verdict_of(v, period_inputs(conn, v, period), limits, alpha) for v in values}
