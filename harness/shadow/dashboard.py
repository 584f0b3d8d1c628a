"""The case study's comparison dashboard (section 6, Phase 2), computed in SQL from the comparison database.

:func:`weekly` groups the ``results`` table by ISO week (or UTC day) and pipeline, so the database does the
work and only one row per period and pipeline reaches Python. Per period and pipeline:

* **classification match**: share of documents with a gold label whose predicted label equals it (an error
  counts as wrong; documents the pipeline never saw because it was down are left out);
* **extraction match**: fields right / fields with a gold value, over the same documents;
* **processing time**: mean and P95 (nearest rank: the ``ceil(0.95 n)``-th smallest, by ``ROW_NUMBER`` over the
  period's latencies) of the documents the pipeline processed;
* **cost per doc**: mean ``cost_usd`` over documents with a cost;
* **error rate**: share of documents with an error or not processed (pipeline down);
* **hallucination rate** (mean over checked documents), **PII exposures** (guardrail events with
  ``exposed: true``);

and between the pipelines, what production traffic without gold can measure: **label agreement** (documents
both labelled, share with the same label) and **field agreement** (on documents both processed without an
error, (document, field) pairs either pipeline filled: the share both filled with the same normalised value).
A document belongs to the period of its MLOps row.

:func:`table` renders them with :func:`harness.render.table`: the week-by-week form (one row per period,
MLOps / LLMOps pairs, the judge's status) and the case study's ``Metric | MLOps | LLMOps | Delta | Status``
table of one period; statuses come from :mod:`harness.shadow.judge`.
"""

from __future__ import annotations

import sqlite3
from dataclasses import asdict, dataclass
from typing import Any, Mapping, Sequence

from harness.files import dumps_json
from harness.render import table as render_table

PERIODS = ("week", "day")


@dataclass(frozen=True)
class Figures:
    """One pipeline's figures in one period (None: nothing to compute them on)."""
    n: int  # documents routed to the pipeline
    n_processed: int  # of which processed (the pipeline was up)
    classification_match: float | None
    n_classification: int  # processed documents with a gold label
    extraction_match: float | None
    fields_correct: int
    fields_total: int
    latency_mean: float | None
    latency_p95: float | None
    cost_per_doc: float | None
    n_cost: int
    error_rate: float | None
    n_errors: int
    hallucination_rate: float | None
    n_hallucination_checked: int
    pii_exposures: int
    guardrail_events: int


@dataclass(frozen=True)
class Row:
    """One period of the dashboard: both pipelines' figures and their agreement."""
    period: str
    mlops: Figures | None
    llmops: Figures | None
    n_label_pairs: int
    label_agreement: float | None
    n_field_pairs: int
    field_agreement: float | None


def _column(period: str) -> str:
    if period not in PERIODS:
        raise ValueError(f"period must be one of {PERIODS}, got {period!r}")
    return period  # the column of that name in results: never text from a user


def _aggregates(conn: sqlite3.Connection, col: str, where: str = "", args: tuple = ()) -> dict[tuple[str, str], list]:
    sql = f"""
        SELECT {col}, pipeline, COUNT(*), SUM(available),
               AVG(label_correct), COUNT(label_correct),
               SUM(fields_correct) * 1.0 / NULLIF(SUM(fields_total), 0),
               COALESCE(SUM(fields_correct), 0), COALESCE(SUM(fields_total), 0),
               AVG(CASE WHEN available = 1 THEN latency_s END),
               AVG(cost_usd), COUNT(cost_usd),
               AVG(error IS NOT NULL OR available = 0), SUM(error IS NOT NULL OR available = 0),
               AVG(hallucinated), COUNT(hallucinated), SUM(pii_exposed), SUM(guardrail_events)
        FROM results {'WHERE ' + where if where else ''} GROUP BY {col}, pipeline"""
    return {(r[0], r[1]): list(r[2:]) for r in conn.execute(sql, args)}


def _p95(conn: sqlite3.Connection, col: str, where: str = "", args: tuple = ()) -> dict[tuple[str, str], float]:
    sql = f"""
        SELECT period, pipeline, latency_s FROM (
            SELECT {col} AS period, pipeline, latency_s, ROW_NUMBER() OVER w AS rn,
                   COUNT(*) OVER (w ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING) AS n
            FROM results WHERE available = 1 {'AND ' + where if where else ''}
            WINDOW w AS (PARTITION BY {col}, pipeline ORDER BY latency_s))
        WHERE rn = (95 * n + 99) / 100"""
    return {(period, pipeline): value for period, pipeline, value in conn.execute(sql, args)}


def _p95_of(conn: sqlite3.Connection, col: str, value: str, counts: dict[str, int]) -> dict[tuple[str, str], float]:
    """:func:`_p95` of one period, read off the period's index: the ``ceil(0.95 n)``-th smallest latency of each
    pipeline's processed documents (``counts``: pipeline -> n), the same value as the window's."""
    out = {}
    for pipeline, n in counts.items():
        if n:
            row = conn.execute(f"SELECT latency_s FROM results WHERE {col} = ? AND pipeline = ? AND available = 1 "
                               "ORDER BY latency_s LIMIT 1 OFFSET ?", (value, pipeline, (95 * n + 99) // 100 - 1)
                               ).fetchone()
            out[(value, pipeline)] = row[0]
    return out


PAIRS = """
    FROM results m JOIN results l ON l.doc_id = m.doc_id AND l.pipeline = 'llmops'
    WHERE m.pipeline = 'mlops'"""


def _label_agreement(conn: sqlite3.Connection, col: str, where: str = "", args: tuple = ()
                     ) -> dict[str, tuple[int, int]]:
    sql = f"""SELECT m.{col}, COUNT(*), SUM(m.label = l.label) {PAIRS}
              AND m.label IS NOT NULL AND l.label IS NOT NULL {where} GROUP BY m.{col}"""
    return {period: (n, same) for period, n, same in conn.execute(sql, args)}


def field_agreement_sql(col: str, where: str = "") -> str:
    """Per period: (document, field) pairs either pipeline filled, and those both filled alike; documents both
    processed without an error. ``where`` narrows the MLOps rows (e.g. ``AND m.week = ?``)."""
    return f"""
        WITH docs AS (SELECT m.doc_id, m.{col} AS period {PAIRS}
                      AND m.available = 1 AND l.available = 1 AND m.error IS NULL AND l.error IS NULL {where}),
             keys AS (SELECT docs.period AS period, COUNT(f.value) AS k, MIN(f.value) = MAX(f.value) AS same
                      FROM docs JOIN fields f ON f.doc_id = docs.doc_id
                      GROUP BY docs.doc_id, f.field)
        SELECT period, SUM(k > 0), COALESCE(SUM(k = 2 AND same), 0) FROM keys GROUP BY period"""


def _rows(agg: dict, p95: dict, labels: dict, fields: dict) -> list[Row]:
    rows = []
    for value in sorted({p for p, _ in agg}):
        figures = {pipeline: Figures(*agg[(value, pipeline)][:8], p95.get((value, pipeline)),
                                     *agg[(value, pipeline)][8:])
                   if (value, pipeline) in agg else None for pipeline in ("mlops", "llmops")}
        n_lab, same_lab = labels.get(value, (0, 0))
        n_fld, same_fld = fields.get(value, (0, 0))
        rows.append(Row(value, figures["mlops"], figures["llmops"], n_lab, same_lab / n_lab if n_lab else None,
                        n_fld, same_fld / n_fld if n_fld else None))
    return rows


def period_row(conn: sqlite3.Connection, value: str, period: str = "week") -> Row | None:
    """The dashboard's row of one period (None: no results in it), by the same SQL as :func:`weekly`'s,
    narrowed to the period."""
    col = _column(period)
    agg = _aggregates(conn, col, f"{col} = ?", (value,))
    p95 = _p95_of(conn, col, value, {pipeline: figures[1] or 0 for (_, pipeline), figures in agg.items()})
    labels = _label_agreement(conn, col, f"AND m.{col} = ?", (value,))
    fields = {p: (n, same) for p, n, same in conn.execute(field_agreement_sql(col, f"AND m.{col} = ?"), (value,))}
    rows = _rows(agg, p95, labels, fields)
    return rows[0] if rows else None


def row_from_json(d: Mapping[str, Any]) -> Row:
    """A :class:`Row` from its ``asdict`` form (a week's summary)."""
    return Row(d["period"], *(Figures(**d[k]) if d[k] is not None else None for k in ("mlops", "llmops")),
               d["n_label_pairs"], d["label_agreement"], d["n_field_pairs"], d["field_agreement"])


def _numbers(value: Any) -> bool:
    """Whether every leaf of a summary body is a number or null (what the writer writes)."""
    if isinstance(value, dict):
        return all(isinstance(k, str) and _numbers(v) for k, v in value.items())
    if isinstance(value, list):
        return all(_numbers(v) for v in value)
    return value is None or (isinstance(value, (int, float)) and not isinstance(value, bool))


def stored_body(week: str, body: str) -> tuple[Row, dict[str, Any]]:
    """(dashboard row, verdict inputs) of a week's stored summary (:func:`harness.shadow.judge.week_summary`
    wrote it); a body the writer never writes (another program's) is exit 2 naming the table and the week."""
    from harness.errors import HarnessInputError
    from harness.files import loads_json

    try:
        d = loads_json(body)
        row = {k: v for k, v in d["row"].items() if k != "period"}
        if not (isinstance(week, str) and _numbers(row) and _numbers(d["judge"])):
            raise TypeError
        return row_from_json({**d["row"], "period": week}), d["judge"]
    except (HarnessInputError, KeyError, TypeError, AttributeError):
        raise HarnessInputError(f"table summaries, row {str(week)[:80]!r}: body holds a value this harness never "
                                "writes", field="summaries") from None


def stored_rows(conn: sqlite3.Connection) -> dict[str, Row] | None:
    """Every week's dashboard row: from the summaries, a stale week computed now (:func:`period_row`). None for
    a file without summaries (written before them: every figure is computed on demand)."""
    from harness.shadow.db import has_summaries

    if not has_summaries(conn):
        return None
    stale = {w for (w,) in conn.execute("SELECT week FROM stale")}
    out: dict[str, Row] = {}
    for week, body in conn.execute("SELECT week, body FROM summaries"):
        if week not in stale:
            out[week] = stored_body(week, body)[0]
    for week in sorted(stale):
        row = period_row(conn, week, "week")
        if row is not None:
            out[week] = row
    return out


def weekly(conn: sqlite3.Connection, period: str = "week") -> list[Row]:
    """The dashboard's rows, one per period (``week``: ISO year-week; ``day``: UTC date), oldest first. Weeks
    come from the database's summaries (:mod:`harness.shadow.db`), a stale one computed as it is now."""
    col = _column(period)
    if period == "week":
        stored = stored_rows(conn)
        if stored is not None:
            return [row for _, row in sorted(stored.items())]
    agg, p95 = _aggregates(conn, col), _p95(conn, col)
    labels = _label_agreement(conn, col)
    fields = {p: (n, same) for p, n, same in conn.execute(field_agreement_sql(col))}
    return _rows(agg, p95, labels, fields)


# ---------------------------------------------------------------------------------------------- rendering
def _pct(v: float | None) -> str:
    return "-" if v is None else f"{100 * v:.1f}%"


def _secs(v: float | None) -> str:
    return "-" if v is None else f"{v:.2f} s"


def _usd(v: float | None) -> str:
    return "-" if v is None else f"${v:.4f}"


def _count(v: int | None) -> str:
    return "-" if v is None else f"{v:,}"


# (dashboard metric, Figures attribute, cell format, delta format, judge metric giving the status)
METRICS = (
    ("Classification match", "classification_match", _pct, "pp", "Classification match"),
    ("Extraction match", "extraction_match", _pct, "pp", "Extraction match"),
    ("Processing time (P95)", "latency_p95", _secs, "s", "Processing time"),
    ("Processing time (mean)", "latency_mean", _secs, "s", None),
    ("Cost per doc", "cost_per_doc", _usd, "usd", "Cost per doc"),
    ("Error rate", "error_rate", _pct, "pp", "Error rate"),
    ("Hallucination rate", "hallucination_rate", _pct, "pp", "Hallucination rate"),
    ("PII exposures", "pii_exposures", _count, "n", "PII exposures"),
    ("Documents", "n", _count, "n", None),
)


def _delta(a: Any, b: Any, kind: str) -> str:
    if a is None or b is None:
        return "-"
    d = b - a
    if kind == "pp":
        return f"{100 * d:+.1f} pp"
    ratio = f" ({b / a:.2f}x)" if a else ""
    if kind == "s":
        return f"{d:+.2f} s{ratio}"
    if kind == "usd":
        return f"{'+' if d >= 0 else '-'}${abs(d):.4f}{ratio}"
    return f"{d:+,}"


def status_text(verdict: Any) -> str:
    """A metric's status cell: the verdict word, ``critical`` where it decides the period, the test's p."""
    if verdict is None:
        return "-"
    parts = [verdict.verdict]
    if verdict.critical and verdict.verdict in ("worse", "no-data"):
        parts.append("critical")
    if verdict.limit and verdict.value is not None:
        parts.append(f"allowed {verdict.limit}")
    if verdict.p_value is not None:
        parts.append(f"p={verdict.p_value:.2g}")
    return ", ".join(parts)


def period_rows(row: Row, verdict: Any = None) -> tuple[list[str], list[list[str]]]:
    """The case study's table for one period as (header, cells): Metric | MLOps | LLMOps | Delta | Status."""
    by_name = {m.metric: m for m in verdict.metrics} if verdict is not None else {}
    body = []
    for title, attr, cell, kind, judged in METRICS:
        a = getattr(row.mlops, attr) if row.mlops else None
        b = getattr(row.llmops, attr) if row.llmops else None
        body.append([title, cell(a), cell(b), _delta(a, b, kind), status_text(by_name.get(judged)) if judged
                     else "-"])
    agreement = by_name.get("Label agreement")
    body.append(["Label agreement", "-", "-", f"{_pct(row.label_agreement)} of {row.n_label_pairs:,}",
                 agreement.verdict if agreement else "-"])
    body.append(["Field agreement", "-", "-", f"{_pct(row.field_agreement)} of {row.n_field_pairs:,}", "-"])
    return ["Metric", "MLOps", "LLMOps", "Delta", "Status"], body


def period_table(row: Row, verdict: Any = None, fmt: str = "table") -> str:
    """:func:`period_rows` as text (``fmt``: table or md)."""
    return render_table(*period_rows(row, verdict), fmt)


def _pair(row: Row, attr: str, cell) -> str:
    a = getattr(row.mlops, attr) if row.mlops else None
    b = getattr(row.llmops, attr) if row.llmops else None
    return f"{cell(a)} / {cell(b)}"


def trend_rows(rows: Sequence[Row], verdicts: Mapping[str, Any] | None = None,
               period: str = "week") -> tuple[list[str], list[list[str]]]:
    """Period by period as (header, cells): MLOps / LLMOps pairs per metric, agreement, the period's status."""
    header = [period.capitalize(), "Docs", "Classification match", "Extraction match", "Processing time P95",
              "Cost per doc", "Error rate", "Hallucination", "PII", "Label agreement", "Status"]
    body = []
    for r in rows:
        v = (verdicts or {}).get(r.period)
        body.append([r.period, _pair(r, "n", _count), _pair(r, "classification_match", _pct),
                     _pair(r, "extraction_match", _pct), _pair(r, "latency_p95", _secs),
                     _pair(r, "cost_per_doc", _usd), _pair(r, "error_rate", _pct),
                     _pair(r, "hallucination_rate", _pct), _pair(r, "pii_exposures", _count),
                     _pct(r.label_agreement), v.verdict if v is not None else "-"])
    return header, body


def trend_table(rows: Sequence[Row], verdicts: Mapping[str, Any] | None = None, fmt: str = "table",
                period: str = "week") -> str:
    """:func:`trend_rows` as text (``fmt``: table or md)."""
    return render_table(*trend_rows(rows, verdicts, period), fmt)


def table(rows: Sequence[Row], fmt: str = "table", verdicts: Mapping[str, Any] | None = None,
          at: str | None = None, period: str = "week") -> str:
    """The dashboard: the period-by-period table, then the case study's table of period ``at`` (default: the
    latest) with its verdict and reasons; ``fmt`` ``json`` gives every figure and verdict."""
    verdicts = verdicts or {}
    if fmt == "json":
        return dumps_json({"period": period, "rows": [asdict(r) for r in rows],
                           "verdicts": {k: v.to_dict() for k, v in verdicts.items()}}, indent=2)
    if not rows:
        return "no results in the comparison database"
    chosen = next((r for r in rows if r.period == at), None) if at else rows[-1]
    parts = [trend_table(rows, verdicts, fmt, period)]
    if chosen is not None:
        v = verdicts.get(chosen.period)
        heading = f"{period.capitalize()} {chosen.period}: " + (v.verdict.upper() if v else "not judged")
        heading = f"### {heading}" if fmt == "md" else heading
        reasons = [f"- {reason}" for reason in (v.reasons if v else ())]
        parts += ["\n".join([heading, *reasons]), period_table(chosen, v, fmt)]
    return "\n\n".join(parts)
