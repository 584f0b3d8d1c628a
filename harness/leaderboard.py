"""Leaderboard: rank the runs of one golden split (pipelines, prompt variants) on one metric.

Runs are comparable only over the same items: the same golden set, split and item set (the fingerprint of
the item ids in ``run.json``). Runs over different item sets are refused unless the caller asks for one
table per item set (``--items all``) or picks one (``--items SHA``); every row shows its n.
"""

from __future__ import annotations

from typing import Sequence

from harness.errors import HarnessInputError
from harness.gates import Criteria, evaluate_criteria, gate_status
from harness.render import md_text, table as render_table
from harness.store import Run
from metrics import registry

# the columns beside the ranked metric: headline document metrics and document latency
COLUMNS = tuple(m.name for m in registry.METRICS if m.headline and m.task in ("classify", "extract")
                and m.name.endswith(("accuracy", "spurious_rate"))) + ("latency.document.p95",)
HEADER = ["rank", "run", "pipeline", "variant", "{metric}", "95% CI", "gates", "n", "errors", "cost/doc"]


def item_set(run: Run) -> str:
    """The run's item-set fingerprint ('unknown' for runs recorded before fingerprints existed)."""
    return str(run.run.get("item_ids_sha256") or "unknown")


def _variant(run: Run) -> str:
    prompts = run.prompts
    if not prompts:
        return run.run.get("predictor", {}).get("model_version") or "-"
    return ", ".join(f"{t}={p.get('ref')}:{str(p.get('sha256'))[:8]}" for t, p in sorted(prompts.items())
                     if isinstance(p, dict))


def group_by_items(runs: Sequence[Run], items: str | None = None) -> dict[str, list[Run]]:
    """Runs by item set. ``items`` None: exactly one item set, else exit 2 listing them; ``"all"``: every
    group; otherwise the item set whose fingerprint starts with ``items``."""
    groups: dict[str, list[Run]] = {}
    for r in runs:
        groups.setdefault(item_set(r), []).append(r)
    if items == "all" or (items is None and len(groups) == 1):
        return groups
    if items is None:
        listing = "; ".join(f"{k[:12]} (n={rs[0].value('counts.items')}: {', '.join(r.id for r in rs)})"
                            for k, rs in groups.items())
        raise HarnessInputError(f"runs over different item sets cannot be ranked together: {listing}; use "
                                "--items all for one table per item set, or --items SHA to choose one",
                                field="runs")
    chosen = {k: rs for k, rs in groups.items() if k.startswith(items)}
    if not chosen:
        raise HarnessInputError(f"no run has an item set starting with {items!r}", field="--items")
    return chosen


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
        higher = registry.higher_is_better(metric)
    except registry.UnknownMetric as exc:
        raise HarnessInputError(str(exc), field="--metric") from None
    rows = [_row(r, metric, criteria) for r in runs]
    measured = sorted((x for x in rows if isinstance(x["value"], (int, float))), key=lambda x: x["value"],
                      reverse=higher)
    unmeasured = [x for x in rows if not isinstance(x["value"], (int, float))]
    for i, x in enumerate(measured):
        x["rank"] = i + 1
    for x in unmeasured:
        x["rank"] = None
    return measured + unmeasured


def _row(r: Run, metric: str, criteria: Criteria | None) -> dict:
    ci = r.metrics.get("ci", {}).get(metric) or {}
    row = {"run": r.id, "pipeline": r.pipeline, "variant": _variant(r), "value": r.value(metric),
           "ci_low": ci.get("low"), "ci_high": ci.get("high"), "items": r.value("counts.items"),
           "errors": r.value("counts.errors"), "item_set": item_set(r), "cost": r.value("cost.per_document")}
    for col in COLUMNS:
        row[col] = r.value(col)
    if criteria is not None:
        row["gates"] = gate_status(evaluate_criteria(criteria, r))  # the status `harness gates` exits on
    return row


def render(rows: list[dict], metric: str, fmt: str = "md") -> str:
    unit = registry.lookup(metric).unit
    fv = lambda v: registry.format_value(v, unit)  # noqa: E731
    header = [h.format(metric=metric) for h in HEADER]
    if fmt == "csv":
        return render_table(header[:5] + ["ci_low", "ci_high", "gates", "n", "errors", "cost_per_document", "item_set"],
                            [[r["rank"], r["run"], r["pipeline"], r["variant"], r["value"], r["ci_low"], r["ci_high"],
                              r.get("gates", ""), r["items"], r["errors"], r["cost"], r["item_set"]] for r in rows],
                            "csv")
    cells = [["-" if r["rank"] is None else r["rank"], r["run"], r["pipeline"], r["variant"], fv(r["value"]),
              f"[{fv(r['ci_low'])}, {fv(r['ci_high'])}]" if r["ci_low"] is not None else "-",
              r.get("gates", "-"), "-" if r["items"] is None else r["items"],
              "-" if r["errors"] is None else r["errors"], registry.format_value(r["cost"], "usd")] for r in rows]
    return render_table(header, cells, "md")


def render_groups(groups: dict[str, list[dict]], metric: str, fmt: str = "md") -> str:
    """One table per item set, each under a heading that names it and its n (csv: one table, item_set column;
    the HTML page is :func:`harness.pages.leaderboard.leaderboard_page`)."""
    if fmt == "csv":
        return render([r for rows in groups.values() for r in rows], metric, "csv")
    if len(groups) == 1:
        return render(next(iter(groups.values())), metric, fmt)
    parts = []
    for key, rows in groups.items():
        title = f"item set {key[:12]} (n = {rows[0]['items']})"  # the fingerprint comes from run.json
        parts.append(f"### {md_text(title)}")
        parts.append(render(rows, metric, fmt))
    return "\n\n".join(parts)
