"""``harness shadow cutover``: the case study's blue-green ramp (section 6, Phase 3) replayed on the stream.

From the day after the GO decision (or ``start``), LLMOps serves a growing share of the traffic: day 1 10 %,
day 3 25 %, day 7 50 %, day 10 75 %, day 14 100 % (which documents it serves is fixed by a hash of their
id). Before each step, the rollback triggers of the criteria file (``rollback_triggers``: accuracy more than
5 points below the MLOps baseline for over 24 h, hallucination over 10 % in any 4-hour window, unavailable over
1 h, a PII exposure, cost over 200 % of the projection for a week) are evaluated by
:func:`harness.gates.rollback.evaluate_rollback` over hourly monitoring records built from the database
(reads: the ramp's days only). The ramp advances, or rolls back with the trigger and its window.
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
    outcome: str  # advanced | rolled back | not reached (stream ended) | completed
    detail: str


@dataclass(frozen=True)
class Cutover:
    start: str
    steps: tuple[Step, ...]
    status: str  # completed | rolled back | incomplete
    trigger: str | None
    window: tuple[str, str] | None


def served(doc_id: str, share: float) -> bool:
    """Whether LLMOps serves this document at ``share`` (stable: a document served at 25 % is served at 50 %)."""
    return zlib.crc32(doc_id.encode()) % 1000 < round(share * 1000)


def _records(conn, first: str, last: str, share_on) -> list[dict]:
    """Monitoring records between the days ``first`` and ``last``: one per document LLMOps served (a 4-hour
    window's mean of ``hallucinated`` is then that window's rate), with the accuracy of the documents LLMOps
    served in the trailing 24 hours beside the MLOps baseline's over the same hours (the traffic it would have
    served)."""
    from collections import deque
    from datetime import datetime, timedelta

    rows = conn.execute(
        "SELECT l.doc_id, l.received_at, l.available, l.label_correct, l.hallucinated, l.pii_exposed, l.cost_usd, "
        "m.label_correct FROM results l JOIN results m ON m.doc_id = l.doc_id AND m.pipeline = 'mlops' "
        "WHERE l.pipeline = 'llmops' AND l.day BETWEEN ? AND ? ORDER BY l.received_at", (first, last)).fetchall()
    day = timedelta(hours=24)
    mine, base, out = deque(), deque(), []
    for doc_id, ts, available, correct, halluc, exposed, cost, base_ok in rows:
        t = datetime.fromisoformat(ts)
        if base_ok is not None:
            base.append((t, base_ok))
        while base and t - base[0][0] > day:
            base.popleft()
        if not served(doc_id, share_on(ts[:10])):
            continue
        if correct is not None and available:
            mine.append((t, correct))
        while mine and t - mine[0][0] > day:
            mine.popleft()
        rec = {"timestamp": ts, "_ts": t, "available": bool(available), "pii_exposure": bool(exposed),
               "cost": cost or 0.0}
        if mine and base:
            rec["accuracy"] = sum(v for _, v in mine) / len(mine)
            rec["baseline_accuracy"] = sum(v for _, v in base) / len(base)
        if halluc is not None:
            rec["hallucination_rate"] = float(halluc)
        out.append(rec)
    return out


def cutover(conn, start: date, criteria=None, projected_cost_per_doc: float | None = None) -> Cutover:
    """Replay the ramp from ``start`` (day 1 of the ramp) over the stored stream (see the module docstring)."""
    from harness.gates import load_criteria
    from harness.gates.rollback import evaluate_rollback

    criteria = criteria or load_criteria()
    last_day = conn.execute("SELECT MAX(day) FROM results").fetchone()[0]
    if projected_cost_per_doc is None:
        row = conn.execute("SELECT value FROM meta WHERE key = 'projected_cost_per_doc'").fetchone()
        projected_cost_per_doc = float(row[0]) if row else None

    def share_on(day_text: str) -> float:
        n = (date.fromisoformat(day_text) - start).days + 1
        return max((s for d, s in RAMP if d <= n), default=0.0)

    steps: list[Step] = []
    first = start.isoformat()
    for i, (day, share) in enumerate(RAMP):
        when = start + timedelta(days=day - 1)
        if last_day is None or when.isoformat() > last_day:
            steps.append(Step(day, when.isoformat(), share, "not reached", f"the stream ends on {last_day}"))
            return Cutover(first, tuple(steps), "incomplete", None, None)
        if i:  # before stepping up: the triggers over everything served so far
            records = _records(conn, first, (when - timedelta(days=1)).isoformat(), share_on)
            for r in records:
                if projected_cost_per_doc is not None:
                    r["projected_cost"] = projected_cost_per_doc
            fired = [t for t in evaluate_rollback(criteria.rollback_triggers, records) if t.fired]
            if fired:
                t = fired[0]
                steps.append(Step(day, when.isoformat(), share, "rolled back",
                                  f"{t.id}: {t.detail}; window {t.window[0]} .. {t.window[1]}"))
                return Cutover(first, tuple(steps), "rolled back", t.id, t.window)
        steps.append(Step(day, when.isoformat(), share, "advanced", f"{share:.0%} of the traffic to LLMOps"))
    end = start + timedelta(days=RAMP[-1][0] + 6)  # a week at 100 % before the ramp counts as done
    records = _records(conn, first, min(end.isoformat(), last_day), share_on)
    for r in records:
        if projected_cost_per_doc is not None:
            r["projected_cost"] = projected_cost_per_doc
    fired = [t for t in evaluate_rollback(criteria.rollback_triggers, records) if t.fired]
    if fired:
        t = fired[0]
        steps.append(Step(RAMP[-1][0], min(end.isoformat(), last_day), 1.0, "rolled back",
                          f"{t.id}: {t.detail}; window {t.window[0]} .. {t.window[1]}"))
        return Cutover(first, tuple(steps), "rolled back", t.id, t.window)
    return Cutover(first, tuple(steps), "completed", None, None)


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
