"""The leaderboard page (``harness leaderboard --format html``): ranked rows from
:func:`harness.leaderboard.rank`, one table per item set, in the report's page style."""

from __future__ import annotations

from typing import Mapping, Sequence

from harness.pages import render, status_kind
from metrics import registry


def leaderboard_page(groups: Mapping[str, Sequence[dict]], metric: str, criteria_file: str | None = None, *,
                     command: str = "harness leaderboard") -> str:
    spec = registry.lookup(metric)
    fv = lambda v: registry.format_value(v, spec.unit)  # noqa: E731
    header = [{"text": t, "num": num} for t, num in (
        ("rank", True), ("run", False), ("pipeline", False), ("variant", False), (spec.title_for(metric), True),
        ("95% CI", True), ("gates", False), ("n", True), ("errors", True), ("cost/doc", True))]
    out = []
    for key, rows in groups.items():
        out.append({"key": key[:12], "n": rows[0]["items"] if rows else 0, "rows": [{
            "rank": "-" if r["rank"] is None else r["rank"], "rank_sort": "" if r["rank"] is None else r["rank"],
            "run": r["run"], "pipeline": r["pipeline"], "variant": r["variant"], "value": fv(r["value"]),
            "value_sort": r["value"] if isinstance(r["value"], (int, float)) else "",
            "ci": f"[{fv(r['ci_low'])}, {fv(r['ci_high'])}]" if r["ci_low"] is not None else "-",
            "gates": r.get("gates", ""), "gates_kind": status_kind(r.get("gates", "") or ""),
            "n": "-" if r["items"] is None else r["items"], "errors": "-" if r["errors"] is None else r["errors"],
            "cost": registry.format_value(r["cost"], "usd"),
            "cost_sort": r["cost"] if isinstance(r["cost"], (int, float)) else ""} for r in rows]})
    direction = ("higher is better" if spec.higher_is_better else "lower is better"
                 if spec.higher_is_better is False else "no better direction")
    return render("leaderboard.html.j2", title=f"Leaderboard: {spec.title_for(metric)}", command=command,
                  metric_title=spec.title_for(metric), direction=direction, groups=out, header=header,
                  criteria_file=criteria_file or "-")
