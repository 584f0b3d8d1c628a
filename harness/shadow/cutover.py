"""``harness shadow cutover``: the case study's blue-green ramp (section 6, Phase 3) replayed on the stream.

From the day after the GO decision (or ``start``), LLMOps serves a growing share of the traffic: day 1 10 %,
day 3 25 %, day 7 50 %, day 10 75 %, day 14 100 % (which documents it serves is fixed by a hash of their
id); after a week at 100 % (ramp day 20) the ramp is completed. Before each step and after that week, the
rollback triggers of the criteria file (``rollback_triggers``: accuracy more than 5 points below the MLOps
baseline for over 24 h, hallucination over 10 % in any 4-hour window, unavailable over 1 h, a PII exposure, cost
over 200 % of the projection for a week) are evaluated by :func:`harness.gates.rollback.evaluate_rollback` over
per-document monitoring records built from the database (reads: the ramp's days only). The ramp advances, or
rolls back with the trigger and its window; a trigger without the data to judge it is named "not measurable".
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from datetime import date, timedelta

RAMP = ((1, 0.10), (3, 0.25), (7, 0.50), (10, 0.75), (14, 1.00))  # (day of the ramp, share to LLMOps)


@dataclass(frozen=True)
class Step:
    day: int  # day of the ramp
    date: str
    share: float
    outcome: str  # advanced | rolled back | no data | not reached (stream ended) | completed
    detail: str


@dataclass(frozen=True)
class Cutover:
    start: str
    steps: tuple[Step, ...]
    status: str  # completed | rolled back | incomplete
    trigger: str | None
    window: tuple[str, str] | None


def ramp_start(decision) -> date:
    """Day 1 of the ramp: the day after the GO week of ``decision`` (:func:`harness.shadow.decide.decide`)."""
    return date.fromisoformat(decision.date) + timedelta(days=1)


def served(doc_id: str, share: float) -> bool:
    """Whether LLMOps serves this document at ``share`` (stable: a document served at 25 % is served at 50 %)."""
    return zlib.crc32(doc_id.encode()) % 1000 < round(share * 1000)


MIN_ACCURACY_RECORDS = 20  # served documents with gold in the trailing 24 h before their accuracy is a figure
WEEK_AT_FULL = 7  # days at 100 % before the ramp counts as completed (ramp days 14-20)


def _records(conn, first: str, last: str, share_on) -> list[dict]:
    """Monitoring records between the days ``first`` and ``last``, one per LLMOps result: every one says whether
    LLMOps was available (so an outage is timed on all its traffic); those of documents LLMOps served also carry
    ``pii_exposure``, ``cost``, ``hallucination_rate`` (a 4-hour window's mean is that window's rate) and, once
    the trailing 24 hours hold :data:`MIN_ACCURACY_RECORDS` served documents with gold, their ``accuracy`` beside
    the MLOps ``baseline_accuracy`` over the same hours (all traffic: what MLOps would have served)."""
    from collections import deque
    from datetime import datetime, timedelta

    rows = conn.execute(
        "SELECT l.doc_id, l.received_at, l.available, l.label_correct, l.hallucinated, l.pii_exposed, l.cost_usd, "
        "m.label_correct FROM results l LEFT JOIN results m ON m.doc_id = l.doc_id AND m.pipeline = 'mlops' "
        "WHERE l.pipeline = 'llmops' AND l.day BETWEEN ? AND ? ORDER BY l.received_at", (first, last)).fetchall()
    day = timedelta(hours=24)
    # the trailing 24 hours as deques with running sums (0/1 integers: the same sums as adding them up anew)
    mine, base, out = deque(), deque(), []
    mine_sum = base_sum = 0
    shares: dict[str, float] = {}
    for doc_id, ts, available, correct, halluc, exposed, cost, base_ok in rows:
        t = datetime.fromisoformat(ts)
        if base_ok is not None:
            base.append((t, base_ok))
            base_sum += base_ok
        while base and t - base[0][0] > day:
            base_sum -= base.popleft()[1]
        rec = {"timestamp": ts, "_ts": t, "available": bool(available)}
        out.append(rec)
        share = shares.get(ts[:10])
        if share is None:
            share = shares[ts[:10]] = share_on(ts[:10])
        if not served(doc_id, share):
            continue
        rec.update({"served": True, "pii_exposure": bool(exposed), "cost": cost})
        if correct is not None and available:
            mine.append((t, correct))
            mine_sum += correct
        while mine and t - mine[0][0] > day:
            mine_sum -= mine.popleft()[1]
        if len(mine) >= MIN_ACCURACY_RECORDS and base:
            rec["accuracy"] = mine_sum / len(mine)
            rec["baseline_accuracy"] = base_sum / len(base)
        if halluc is not None:
            rec["hallucination_rate"] = float(halluc)
    return out


def _check(records: list[dict], criteria, last: str):
    """The rollback triggers over the ramp so far (``records``: the ramp's, from its first day; those up to the
    day ``last`` are read): (records served, triggers that fired, not measurable)."""
    from bisect import bisect_right

    from harness.gates.rollback import evaluate_rollback

    records = records[:bisect_right(records, last, key=lambda r: r["timestamp"][:10])]
    results = evaluate_rollback(criteria.rollback_triggers, records)
    return (sum(1 for r in records if r.get("served")), [t for t in results if t.fired],
            [t.id for t in results if not t.measured])


def cutover(conn, start: date, criteria=None, projected_cost_per_doc: float | None = None) -> Cutover:
    """Replay the ramp from ``start`` (day 1 of the ramp) over the stored stream (see the module docstring).
    Missing data is never a pass: a step with no LLMOps results stops the replay (``incomplete``), triggers
    that could not be evaluated are named in the step, and ``completed`` needs a week at 100 %."""
    from harness.errors import HarnessInputError
    from harness.gates import load_criteria

    criteria = criteria or load_criteria()
    first_day, last_day = conn.execute("SELECT MIN(day), MAX(day) FROM results").fetchone()
    if first_day is None:
        raise HarnessInputError("the comparison database holds no results", field="db")
    if start.isoformat() < first_day or start.isoformat() > last_day:
        raise HarnessInputError(f"the ramp must start within the stream, {first_day} .. {last_day}",
                                field="--start")
    if projected_cost_per_doc is None:
        from harness.shadow.db import meta

        value = meta(conn).get("projected_cost_per_doc")
        projected_cost_per_doc = float(value) if value is not None else None

    def share_on(day_text: str) -> float:
        n = (date.fromisoformat(day_text) - start).days + 1
        return max((s for d, s in RAMP if d <= n), default=0.0)

    first = start.isoformat()
    checks = [(day, when, share) for day, share in RAMP for when in [start + timedelta(days=day - 1)]]
    end = start + timedelta(days=RAMP[-1][0] - 1 + WEEK_AT_FULL - 1)
    # the monitoring records of the whole ramp, read once: a check's records are those up to its day (each
    # record depends only on the ones before it)
    records = _records(conn, first, min(end.isoformat(), last_day), share_on)
    if projected_cost_per_doc is not None:
        for r in records:
            if r.get("served"):
                r["projected_cost"] = projected_cost_per_doc
    checks.append((RAMP[-1][0] + WEEK_AT_FULL - 1, end + timedelta(days=1), 1.0))  # after the week at 100 %
    steps: list[Step] = []
    served_before = 0
    for i, (day, when, share) in enumerate(checks):
        final = i == len(checks) - 1
        if not final and when.isoformat() > last_day or final and end.isoformat() > last_day:
            steps.append(Step(day, (end if final else when).isoformat(), share, "not reached",
                              f"the stream ends on {last_day}" + (", before a week at 100 %" if final else "")))
            return Cutover(first, tuple(steps), "incomplete", None, None)
        note = ""
        if i:  # the triggers over everything served so far, before stepping up (or after the week at 100 %)
            n, fired, unmeasured = _check(records, criteria, (when - timedelta(days=1)).isoformat())
            if fired:
                t = fired[0]
                steps.append(Step(day, (end if final else when).isoformat(), share, "rolled back",
                                  f"{t.id}: {t.detail}; window {t.window[0]} .. {t.window[1]}"))
                return Cutover(first, tuple(steps), "rolled back", t.id, t.window)
            if n == served_before:
                steps.append(Step(day, when.isoformat(), share, "no data",
                                  f"LLMOps served no document since {steps[-1].date}: nothing to check"))
                return Cutover(first, tuple(steps), "incomplete", None, None)
            served_before = n
            note = f"; {n:,} served documents checked" + (f"; not measurable: {', '.join(unmeasured)}"
                                                         if unmeasured else "")
        if final:
            steps.append(Step(day, end.isoformat(), 1.0, "completed",
                              f"a week at 100 % with no rollback trigger fired{note}"))
            return Cutover(first, tuple(steps), "completed", None, None)
        steps.append(Step(day, when.isoformat(), share, "advanced", f"{share:.0%} of the traffic to LLMOps{note}"))
    raise AssertionError("unreachable")


def cutover_table(c: Cutover, fmt: str = "table") -> str:
    from harness.render import table

    rows = [[f"day {s.day}", s.date, f"{s.share:.0%}", s.outcome, s.detail] for s in c.steps]
    return table(["step", "date", "LLMOps share", "outcome", "why"], rows, fmt, right_align_from=99)


def outcome_text(c: Cutover) -> str:
    """One sentence on how the ramp ended."""
    if c.status == "completed":
        return "Cutover completed: 100 % of the traffic on LLMOps."
    if c.status == "incomplete":
        return "The stream ends before the ramp completes."
    return (f"Rolled back: {c.trigger}, window {c.window[0] if c.window else ''} .. "
            f"{c.window[1] if c.window else ''}; 100 % of the traffic back to MLOps.")
