"""``harness shadow decide``: the case study's go/no-go (section 6, Phase 2) judged week by week over a
comparison database, through the criteria file's ``go_no_go`` conditions (``harness/criteria/techcorp.yaml``).

Each stored week gets a status: **GO** when every GO condition holds over the last ``weeks`` (4) weeks,
**NO-GO** when a NO-GO condition holds, else **HOLD** with the conditions that held it back. The decision is
the first GO or NO-GO week. Conditions map to the dashboard's figures (``harness.shadow.dashboard``):
classification accuracy -> classification match against gold; hallucination rate; cost per document;
document latency P95; critical guardrail failures -> PII exposures; user feedback and audit -> the stream's
``meta`` (a scenario's ``feedback``/``audit``). "Accuracy drops below MLOps" is read through the weekly judge:
significantly worse (exact McNemar), so one noisy week does not stop a project. A figure the stream cannot give
is "not measurable": a GO condition that is not measurable never lets a GO through; a NO-GO condition that is
not measurable (a compliance violation: no stream records one) cannot stop it, and the decision names it as
still to be checked. The "consecutive weeks" are consecutive ISO weeks: a week without results breaks them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

from harness.gates.criteria import OPS

FIGURE = {"classification.accuracy": "classification_match", "answers.hallucination_rate": "hallucination_rate",
          "cost.per_document": "cost_per_doc", "latency.document.p95": "latency_p95",
          "guardrails.critical_failures": "pii_exposures"}
GO, NO_GO, HOLD = "GO", "NO-GO", "HOLD"


@dataclass(frozen=True)
class Check:
    id: str
    holds: bool | None  # None: not measurable
    detail: str


@dataclass(frozen=True)
class Week:
    week: str
    status: str  # GO | NO-GO | HOLD
    go: tuple[Check, ...]
    no_go: tuple[Check, ...]
    judge: str  # the weekly judge's verdict


@dataclass(frozen=True)
class Decision:
    weeks: tuple[Week, ...]
    status: str  # GO | NO-GO | HOLD (no decision yet)
    week: str | None  # the decision's week
    date: str | None  # the last day of that week
    held_back_by: tuple[str, ...]  # for HOLD: the conditions that failed or were not measurable in the last week


JUDGED = {"classification.accuracy": "Classification match"}  # vs_baseline: the weekly judge's paired verdict


def _fig(row, pipeline: str, metric: str) -> float | None:
    """The dashboard's figure for ``metric``; None when the stream has no such figure (not measurable)."""
    f = getattr(row, pipeline)
    return None if f is None or metric not in FIGURE else getattr(f, FIGURE[metric])


def _consecutive(periods: Sequence[str]) -> bool:
    """Whether ISO weeks ``2027-W03``, ``2027-W04``, ... follow each other with none missing."""
    from datetime import date

    mondays = [date.fromisocalendar(int(p[:4]), int(p.split("-W")[1]), 1) for p in periods]
    return all((b - a).days == 7 for a, b in zip(mondays, mondays[1:]))


def _fmt(v: float | None) -> str:
    return "-" if v is None else f"{v:.4g}"


def _go(c: Mapping, rows: Sequence, meta: Mapping[str, Any], n: int) -> Check:
    kind, cid = c["kind"], c["id"]
    if kind in ("weekly_vs_baseline", "weekly_threshold"):
        if len(rows) < n:
            return Check(cid, False, f"{len(rows)} of {n} weeks so far")
        last = rows[-n:]
        if not _consecutive([r.period for r in last]):
            return Check(cid, False, f"{n} weeks with results are not consecutive: "
                                     + ", ".join(r.period for r in last))
        vals = [(_fig(r, "llmops", c["metric"]), _fig(r, "mlops", c["metric"]) if kind == "weekly_vs_baseline"
                 else c["value"]) for r in last]
        if any(a is None or b is None for a, b in vals):
            return Check(cid, None, "not measurable in every week")
        ok = [OPS[c["op"]](a, b) for a, b in vals]
        return Check(cid, all(ok), ", ".join(f"{r.period}: {_fmt(a)} {c['op']} {_fmt(b)}" for r, (a, b) in
                                             zip(last, vals)))
    row = rows[-1]
    if kind == "ratio_to_baseline":
        a, b = _fig(row, "llmops", c["metric"]), _fig(row, "mlops", c["metric"])
        if a is None or not b:
            return Check(cid, None, "not measurable")
        return Check(cid, OPS[c["op"]](a / b, c["factor"]), f"{a / b:.2f}x {c['op']} {c['factor']:g}x")
    if kind == "threshold":
        vals = [_fig(r, "llmops", c["metric"]) for r in rows[-n:]]
        if any(v is None for v in vals):
            return Check(cid, None, "not measurable")
        total = sum(vals)
        return Check(cid, OPS[c["op"]](total, c["value"]), f"{_fmt(total)} over the last {len(vals)} weeks")
    if kind == "ratings":
        v = meta.get("feedback")
        return Check(cid, None, "no user feedback in the stream") if v is None else \
            Check(cid, OPS[c["op"]](float(v), c["value"]), f"feedback {float(v):g} {c['op']} {c['value']:g}")
    if kind == "audit":
        v = meta.get("audit")
        return Check(cid, None, "no audit in the stream") if v is None else Check(cid, bool(v), f"audit {v}")
    return Check(cid, None, f"condition kind {kind} is not read from a stream")


def _no_go(c: Mapping, row, verdict, meta: Mapping[str, Any]) -> Check:
    kind, cid = c["kind"], c["id"]
    if kind == "vs_baseline":
        judged = JUDGED.get(c.get("metric", "classification.accuracy"))
        m = next((x for x in verdict.metrics if x.metric == judged), None) if verdict and judged else None
        if m is None or m.verdict == "no-data":
            return Check(cid, None, "not measurable")
        return Check(cid, m.verdict == "worse", f"{m.verdict} (McNemar p={_fmt(m.p_value)})")
    if kind == "threshold":
        v = _fig(row, "llmops", c["metric"])
        return Check(cid, None, "not measurable") if v is None else \
            Check(cid, OPS[c["op"]](v, c["value"]), f"{_fmt(v)} {c['op']} {c['value']:g}")
    if kind == "incident":
        if c.get("type") == "data_exposure":
            v = _fig(row, "llmops", "guardrails.critical_failures")
            return Check(cid, None, "not measurable") if v is None else Check(cid, v > 0, f"{v} PII exposures")
        return Check(cid, None, f"a stream does not record {c.get('type', 'this incident')}")
    return Check(cid, None, f"condition kind {kind} is not read from a stream")


def decide(conn, criteria=None, rows: Sequence | None = None, verdicts: Mapping | None = None) -> Decision:
    """Go/no-go week by week (see the module docstring); ``rows`` and ``verdicts``, the weekly dashboard rows and
    judge verdicts when the caller has them already, else read here."""
    from datetime import date

    from harness.gates import load_criteria
    from harness.shadow.dashboard import weekly
    from harness.shadow.db import meta as stored_meta
    from harness.shadow.judge import judge_all

    criteria = criteria or load_criteria()
    spec = criteria.go_no_go
    n = int(spec.get("weeks", 4))
    meta = {k: _value(v) for k, v in stored_meta(conn).items()}
    rows = weekly(conn, "week") if rows is None else rows
    verdicts = judge_all(conn, "week", criteria=criteria) if verdicts is None else verdicts
    weeks, status, when = [], HOLD, None
    for i, row in enumerate(rows):
        go = tuple(_go(c, rows[: i + 1], meta, n) for c in spec.get("go", ()))
        no_go = tuple(_no_go(c, row, verdicts.get(row.period), meta) for c in spec.get("no_go", ()))
        s = NO_GO if any(c.holds for c in no_go) else GO if all(c.holds for c in go) else HOLD
        v = verdicts.get(row.period)
        weeks.append(Week(row.period, s, go, no_go, v.verdict if v else "no-data"))
        if s != HOLD and when is None:
            status, when = s, row.period
    held = ()
    if status == HOLD and weeks:
        held = tuple(c.id + ("" if c.holds is False else " (not measurable)") for c in weeks[-1].go if not c.holds)
    end = None
    if when:
        year, wk = when.split("-W")
        end = (date.fromisocalendar(int(year), int(wk), 7)).isoformat()
    return Decision(tuple(weeks), status, when, end, held)


def _value(text: str):
    """A meta value as the writer stored it (JSON for non-strings)."""
    try:
        return json.loads(text)
    except (ValueError, TypeError):
        return text


def decision_table(d: Decision, fmt: str = "table") -> str:
    from harness.render import table

    if not d.weeks:
        return "no weeks in the database"
    ids = [c.id for c in d.weeks[0].go] + [c.id for c in d.weeks[0].no_go]
    word = {True: "yes", False: "no", None: "n/m"}
    rows = [[w.week, w.status, w.judge] + [word[c.holds] for c in w.go + w.no_go] for w in d.weeks]
    return table(["week", "status", "judge", *ids], rows, fmt, right_align_from=99)


def decision_text(d: Decision) -> str:
    if d.status == GO:
        w = next(w for w in d.weeks if w.week == d.week)
        unchecked = [c.id for c in w.no_go if c.holds is None]
        return (f"Decision: GO in {d.week} (week ending {d.date}): every GO condition held for the last weeks"
                + (f"; not measurable from the stream, to be checked elsewhere: {', '.join(unchecked)}"
                   if unchecked else "") + ".")
    if d.status == NO_GO:
        w = next(w for w in d.weeks if w.week == d.week)
        why = "; ".join(f"{c.id} ({c.detail})" for c in w.no_go if c.holds)
        return f"Decision: NO-GO in {d.week} (week ending {d.date}): {why}."
    return ("No decision yet (HOLD): held back by " + (", ".join(d.held_back_by) or "nothing measurable") + ".")
