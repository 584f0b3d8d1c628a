"""Leaderboard: rank the runs of one golden split (pipelines, prompt variants) on one metric."""

from __future__ import annotations

import csv
import html
import io
from typing import Sequence

from harness.errors import HarnessInputError
from harness.gates import Criteria, Run, evaluate_criteria
from harness.report import get
from metrics import higher_is_better

COLUMNS = ("classification.accuracy", "extraction.accuracy", "extraction.spurious_rate", "latency.document.p95")


def _variant(run: Run) -> str:
    prompts = run.run.get("predictor", {}).get("prompts") or {}
    if not prompts:
        return run.run.get("predictor", {}).get("model_version") or "-"
    return ", ".join(f"{t}={p['ref']}:{p['sha256'][:8]}" for t, p in sorted(prompts.items()))


def rank(runs: Sequence[Run], metric: str, criteria: Criteria | None = None) -> list[dict]:
    if not runs:
        raise HarnessInputError("no run directories with metrics.json found")
    groups = {(r.golden_sha, r.split) for r in runs}
    if len(groups) > 1:
        listing = "; ".join(f"{str(g)[:12]}:{s} ({sum(1 for r in runs if (r.golden_sha, r.split) == (g, s))} runs)"
                            for g, s in sorted(groups, key=str))
        raise HarnessInputError(f"runs from different golden sets or splits cannot share a leaderboard: {listing}; "
                                "use --golden-sha / --split to choose one", field="runs")
    try:
        higher = higher_is_better(metric)
    except KeyError as exc:
        raise HarnessInputError(str(exc.args[0]), field="--metric") from None
    rows = []
    for r in runs:
        v = get(r.metrics, metric)
        ci = r.metrics.get("ci", {}).get(metric) or {}
        row = {"run": r.id, "pipeline": r.pipeline, "variant": _variant(r), "value": v,
               "ci_low": ci.get("low"), "ci_high": ci.get("high"), "items": get(r.metrics, "counts.items"),
               "errors": get(r.metrics, "counts.errors")}
        for col in COLUMNS:
            row[col] = get(r.metrics, col)
        if criteria is not None:
            res = evaluate_criteria(criteria, r)
            failed = [c.id for c in res if c.status == "failed"]
            unmeasured = sum(1 for c in res if c.status == "not measurable")
            row["gates"] = (f"FAIL ({', '.join(failed)})" if failed else
                            f"pass ({unmeasured} not measurable)" if unmeasured else "pass")
        rows.append(row)
    measured = [x for x in rows if isinstance(x["value"], (int, float))]
    measured.sort(key=lambda x: x["value"], reverse=higher)
    unmeasured = [x for x in rows if not isinstance(x["value"], (int, float))]
    for i, x in enumerate(measured):
        x["rank"] = i + 1
    for x in unmeasured:
        x["rank"] = None
    return measured + unmeasured


def _fmt(v, pct=True) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{100 * v:.1f}%" if pct else f"{v:.3g}"
    return str(v)


def render(rows: list[dict], metric: str, fmt: str = "md") -> str:
    pct = not metric.startswith("latency")
    header = ["rank", "run", "pipeline", "variant", metric, "95% CI", "gates", "items", "errors"]
    cells = [[_fmt(r["rank"]), r["run"], r["pipeline"], r["variant"], _fmt(r["value"], pct),
              f"[{_fmt(r['ci_low'], pct)}, {_fmt(r['ci_high'], pct)}]" if r["ci_low"] is not None else "-",
              r.get("gates", "-"), _fmt(r["items"]), _fmt(r["errors"])] for r in rows]
    if fmt == "csv":
        buf = io.StringIO()
        w = csv.writer(buf)
        w.writerow(["rank", "run", "pipeline", "variant", metric, "ci_low", "ci_high", "gates", "items", "errors"])
        for r in rows:
            w.writerow([r["rank"], r["run"], r["pipeline"], r["variant"], r["value"], r["ci_low"], r["ci_high"],
                        r.get("gates", ""), r["items"], r["errors"]])
        return buf.getvalue()
    if fmt == "html":
        head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
        body = "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>" for row in cells)
        return f"<table>\n<thead><tr>{head}</tr></thead>\n<tbody>{body}</tbody>\n</table>"
    return "\n".join(["| " + " | ".join(header) + " |", "|" + "---|" * len(header)] +
                     ["| " + " | ".join(c) + " |" for c in cells])
