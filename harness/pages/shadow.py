"""The parallel run's dashboard page (``harness shadow dashboard --format html``): trend plots per period, the
period-by-period table, the case study's table of one period with the judge's reasons, the go/no-go week by
week (weekly dashboards) and the stream's events. Every figure comes from :mod:`harness.shadow.dashboard`,
:mod:`harness.shadow.judge` and :mod:`harness.shadow.decide`; this module only lays them out."""

from __future__ import annotations

from typing import Any, Mapping, Sequence

from harness.pages import Plot, readable, render, status_kind

# (panel title, Figures attribute, unit of the plot)
PANELS = (("Classification match", "classification_match", "%"), ("Extraction match", "extraction_match", "%"),
          ("Processing time P95", "latency_p95", "s"), ("Cost per doc", "cost_per_doc", "$"),
          ("Error rate", "error_rate", "%"), ("Hallucination rate", "hallucination_rate", "%"))
VERDICT_KIND = {"pass": "pass", "better": "pass", "worse": "fail", "fail": "fail", "no-data": "na", "info": "na"}


def _series(rows: Sequence, attr: str) -> dict[str, list[float | None]]:
    return {name: [getattr(getattr(r, pipeline), attr) if getattr(r, pipeline) else None for r in rows]
            for name, pipeline in (("MLOps", "mlops"), ("LLMOps", "llmops"))}


def _marks(events: Sequence[Mapping[str, Any]], period: str) -> dict[str, str]:
    """Period -> the events that start in it ("new template family, price change")."""
    out: dict[str, list[str]] = {}
    for e in events:
        out.setdefault(e[period], []).append(e["kind"].replace("_", " "))
    return {p: ", ".join(dict.fromkeys(kinds)) for p, kinds in out.items()}


def dashboard_page(rows: Sequence, verdicts: Mapping[str, Any], *, period: str, at: str | None,
                   meta: Mapping[str, str], events: Sequence[Mapping[str, Any]], decision=None,
                   ramp=None, command: str) -> str:
    """The page (see the module docstring); ``events`` as :func:`harness.shadow.db.events` reads them, ``decision``
    a :class:`harness.shadow.decide.Decision`, ``ramp`` the :class:`harness.shadow.cutover.Cutover` after a GO."""
    from harness.pages import plots
    from harness.shadow import dashboard

    periods = [r.period for r in rows]
    plot = None
    if rows:
        plot = Plot.of(plots.trends(periods, [(title, _series(rows, attr), unit) for title, attr, unit in PANELS],
                                    _marks(events, period)))
    header, body = dashboard.trend_rows(rows, verdicts, period)
    trend = [{"cells": [_pair(c) for c in cells[:-1]], "status": cells[-1], "kind": VERDICT_KIND.get(cells[-1], "na")}
             for cells in body]
    chosen = next((r for r in rows if r.period == at), None) if at else (rows[-1] if rows else None)
    detail = None
    if chosen is not None:
        v = verdicts.get(chosen.period)
        p_header, p_body = dashboard.period_rows(chosen, v)
        detail = {"period": chosen.period, "verdict": v.verdict if v else "not judged",
                  "kind": VERDICT_KIND.get(v.verdict, "na") if v else "na", "reasons": list(v.reasons) if v else [],
                  "header": p_header, "rows": p_body}
    decided = None
    if decision is not None and decision.weeks:
        from harness.shadow.decide import decision_text

        word = {True: "yes", False: "no", None: "not measurable"}
        first = decision.weeks[0]
        decided = {"text": decision_text(decision), "status": decision.status,
                   "kind": status_kind(decision.status),
                   # two tables, GO conditions and NO-GO conditions, so each fits the page and the condition that
                   # explains a NO-GO is never a column scrolled out of sight
                   "tables": [{"caption": "GO conditions (all must hold)", "bad": False,
                               "ids": [(c.id, readable(c.id)) for c in first.go]},
                              {"caption": "NO-GO conditions (any one that holds stops the migration)", "bad": True,
                               "ids": [(c.id, readable(c.id)) for c in first.no_go]}],
                   "weeks": [{"week": w.week, "status": w.status, "kind": status_kind(w.status), "judge": w.judge,
                              "checks": [[(word[c.holds], c.detail, _check_kind(c.holds, bad=False)) for c in w.go],
                                         [(word[c.holds], c.detail, _check_kind(c.holds, bad=True)) for c in w.no_go]]}
                             for w in decision.weeks]}
    cut = None
    if ramp is not None:
        from harness.shadow.cutover import outcome_text

        cut = {"status": ramp.status, "kind": {"completed": "pass", "rolled back": "fail"}.get(ramp.status, "warn"),
               "text": outcome_text(ramp),
               "steps": [{"day": f"day {s.day}", "date": s.date, "share": f"{s.share:.0%}", "outcome": s.outcome,
                          "kind": {"advanced": "pass", "rolled back": "fail"}.get(s.outcome, "na"),
                          "detail": s.detail} for s in ramp.steps],
               "link": _go_then_ramp(decision, ramp)}
    event_rows = [[e["day"], e["kind"].replace("_", " "), _detail(e["detail"])] for e in events]
    name = meta.get("scenario") or "comparison database"
    contents = [("trends", "Trends"), ("periods", f"{period.capitalize()} by {period}"),
                ("detail", "One period in detail")]
    if decided:
        contents.append(("decision", "Go/no-go"))
    if cut:
        contents.append(("cutover", "Cutover"))
    contents.append(("events", "Events"))
    return render("shadow_dashboard.html.j2", title=f"Parallel run: {name}", command=command,
                  source="the comparison database",
                  subtitle=f"MLOps (production) vs LLMOps (shadow), per {period}", contents=contents, plot=plot,
                  header=header, trend=trend, detail=detail, decided=decided, cut=cut, events=event_rows, meta=meta,
                  period=period)


def _pair(cell: Any) -> str:
    """An ``MLOps / LLMOps`` cell that may break only at its slash (each figure kept whole), so the week table
    fits the page.

    >>> _pair("2.82 s / 4.89 s") == "2.82\u00a0s / 4.89\u00a0s"
    True
    """
    return " / ".join(part.replace(" ", "\u00a0") for part in str(cell).split(" / "))


def _go_then_ramp(decision, ramp) -> str | None:
    """The sentence that joins a GO to what the ramp did next (a GO opens the ramp; the triggers can still end
    it), or None when there is nothing to join."""
    if decision is None or not decision.weeks or ramp is None or not ramp.steps:
        return None
    go = next((w.week for w in decision.weeks if w.status == "GO"), None)
    last = ramp.steps[-1]
    if go is None:
        return None
    opened = f"The go/no-go said GO in {go}, which opened the blue-green ramp on {ramp.steps[0].date}."
    if ramp.status == "rolled back":
        return (f"{opened} A GO does not end the watch: before each step the rollback triggers are checked, and on "
                f"day {last.day} ({last.date}), at {last.share:.0%} of the traffic, {ramp.trigger or 'one'} fired, "
                "so all traffic went back to MLOps.")
    if ramp.status == "completed":
        return f"{opened} No rollback trigger fired at any step: LLMOps serves all traffic."
    return f"{opened} The ramp has not finished: {ramp.status}."


def _check_kind(holds: bool | None, bad: bool) -> str:
    """A GO condition that holds is good; a NO-GO condition that holds is bad; not measurable is neither."""
    return "na" if holds is None else "fail" if holds == bad else "pass"


def _detail(detail: Any) -> str:
    return ", ".join(f"{k} {v}" for k, v in detail.items() if k != "kind") if isinstance(detail, dict) else str(detail)
