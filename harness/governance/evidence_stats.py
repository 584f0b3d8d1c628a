"""The evidence kinds of ``harness maturity`` that compute a statistic: an A/B comparison of two prompt (or model)
versions through :func:`harness.compare.compare`, and a trend over dated runs or shadow weeks (an OLS slope per
week with its t interval)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date
from typing import Any, Mapping, Sequence


from harness.errors import HarnessInputError
from harness.governance.maturity_spec import (MET, NO_EVIDENCE, NOT_MET, EntrySpec)
from harness.governance.evidence import Evidence, Finding, _day, _no_runs


# -- A/B comparison -----------------------------------------------------------------------------------------
def _version_of(run, vary: str) -> str | None:
    if vary == "prompts":
        refs = {t: v.get("ref") for t, v in run.prompts.items() if isinstance(v, Mapping)}
        return ", ".join(f"{r}" for _, r in sorted(refs.items())) or None
    from harness.records import model_label

    label = model_label(dict(run.run))
    return None if label == "-" else label


def _ab(side: str, vary: str, ev: Evidence) -> Finding:
    from harness.compare import compare

    runs = ev.side(side)
    if not runs:
        return _no_runs(side, ev)
    pairs = []
    for i, a in enumerate(runs):
        for b in runs[i + 1:]:
            va, vb = _version_of(a, vary), _version_of(b, vary)
            if va and vb and va != vb and a.golden_sha == b.golden_sha and a.split == b.split:
                pairs.append((a, b))
    if not pairs:
        return Finding(NO_EVIDENCE, f"no two {side} runs on the same golden split with different "
                       f"{'prompt' if vary == 'prompts' else 'model'} versions", tuple(r.id for r in runs))
    found, flat, problems = [], [], []
    for a, b in pairs[-10:]:  # the latest ten pairs at most
        ev.progress(f"maturity: comparing {a.id} with {b.id}")
        try:
            rows = compare(a, b)
        except HarnessInputError as exc:
            problems.append(f"{a.id} vs {b.id}: {exc}")
            continue
        for row in rows:
            if row.metric not in ("classification.accuracy", "extraction.accuracy") or row.ci_low is None:
                continue
            what = (f"{_version_of(a, vary)} ({a.id}) -> {_version_of(b, vary)} ({b.id}): {row.metric} "
                    f"{100 * row.difference:+.1f} points, 95% CI [{100 * row.ci_low:+.1f}, {100 * row.ci_high:+.1f}],"
                    f" n={row.n}")
            (found if row.ci_low > 0 or row.ci_high < 0 else flat).append(
                (what, a.id, b.id, {"metric": row.metric, "difference": row.difference, "ci": [row.ci_low, row.ci_high],
                                    "n": row.n, "a": a.id, "b": b.id}))
    if found:
        return Finding(MET, "paired comparison: " + "; ".join(w for w, *_ in found[:3]),
                       tuple(dict.fromkeys(x for _, a, b, _ in found for x in (a, b))), {"comparisons": [f for *_, f in found]})
    if flat:
        return Finding(NOT_MET, "paired comparison, no significant difference: " + "; ".join(w for w, *_ in flat[:3]),
                       tuple(dict.fromkeys(x for _, a, b, _ in flat for x in (a, b))), {"comparisons": [f for *_, f in flat]})
    return Finding(NO_EVIDENCE, "no comparison could be made: " + "; ".join(problems[:3]),
                   tuple(dict.fromkeys(x.id for p in pairs for x in p)))


def ab_compare(entry: EntrySpec, ev: Evidence) -> Finding:
    return ev.once(f"ab:{entry.side}:{entry.vary}", lambda: _ab(entry.side, entry.vary or "prompts", ev))


# -- trends --------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Trend:
    """An OLS line through (weeks, value) points: its slope per week and the slope's t interval."""
    source: str
    points: tuple[tuple[float, float], ...]
    labels: tuple[str, ...]
    slope: float
    low: float
    high: float


def ols_trend(source: str, points: Sequence[tuple[float, float]], labels: Sequence[str], confidence: float) -> Trend:
    """The least-squares slope of ``points`` and its ``confidence`` t interval (n - 2 degrees of freedom).

    >>> t = ols_trend("runs", [(0, 0.3), (1, 0.2), (2, 0.1)], ["a", "b", "c"], 0.95)
    >>> round(t.slope, 6), round(t.high, 6)
    (-0.1, -0.1)
    """
    import numpy as np
    from scipy import stats

    x = np.asarray([p[0] for p in points], dtype=float)
    y = np.asarray([p[1] for p in points], dtype=float)
    sxx = float(((x - x.mean()) ** 2).sum())  # > 0: one point per date or week
    slope = float(((x - x.mean()) * (y - y.mean())).sum()) / sxx
    resid = y - (y.mean() + slope * (x - x.mean()))
    se = (float((resid ** 2).sum()) / (len(x) - 2) / sxx) ** 0.5  # 0 on a straight line (scipy's would be nan)
    half = float(stats.t.ppf((1 + confidence) / 2, len(x) - 2)) * se
    return Trend(source, tuple((float(a), float(b)) for a, b in points), tuple(labels), slope, slope - half,
                 slope + half)


def _run_series(runs: Sequence[Any], metric: str) -> tuple[list, list]:
    """The longest series of dated runs of one golden split and item set with ``metric`` measured: (points in
    weeks since the first, run ids); one point per date (the latest run of the day)."""
    groups: dict[tuple, dict[date, Any]] = {}
    for r in runs:
        v = r.value(metric)
        if isinstance(v, (int, float)) and not isinstance(v, bool) and _day(r) != date.min:
            key = (r.golden_sha, r.split, r.run.get("item_ids_sha256"))
            groups.setdefault(key, {})[_day(r)] = r
    if not groups:
        return [], []
    best = max(groups.values(), key=len)
    days = sorted(best)
    first = days[0]
    return ([((d - first).days / 7, float(best[d].value(metric))) for d in days], [best[d].id for d in days])


def _fmt_slope(metric: str, v: float) -> str:
    from metrics import registry

    unit = registry.lookup(metric).unit
    if unit == "fraction":
        return f"{100 * v:+.2f} points"
    if unit == "usd":
        return f"{'+' if v >= 0 else '-'}${abs(v):.3g}"
    return f"{v:+.4g}"


def trend(entry: EntrySpec, ev: Evidence) -> Finding:
    metric = entry.metric or ""
    n_min, conf = ev.settings.min_trend_points, ev.settings.confidence
    trends, short = [], []
    points, ids = _run_series(ev.side(entry.side), metric)
    if len(points) >= n_min:
        trends.append(ols_trend("dated runs", points, ids, conf))
    elif points:
        short.append(f"{len(points)} dated run(s) measure {metric} (a trend needs {n_min})")
    if entry.shadow and ev.shadow_rows:
        wk = [(r.period, getattr(getattr(r, entry.side), entry.shadow)) for r in ev.shadow_rows if getattr(r, entry.side)]
        wk = [(p, v) for p, v in wk if isinstance(v, (int, float))]
        if len(wk) >= n_min:
            trends.append(ols_trend(f"shadow weeks ({ev.shadow_path.name if ev.shadow_path else 'shadow'})",
                                    [(float(i), float(v)) for i, (_, v) in enumerate(wk)], [p for p, _ in wk], conf))
        elif wk:
            short.append(f"{len(wk)} shadow week(s) (a trend needs {n_min})")
    if not trends:
        return Finding(NO_EVIDENCE, "; ".join(short) or f"{metric} is not measured by any dated {entry.side} run"
                       + (" or shadow week" if entry.shadow else ""))
    texts, down, up = [], False, False
    for t in trends:
        texts.append(f"{metric} over {len(t.points)} {t.source} ({t.labels[0]} .. {t.labels[-1]}): slope "
                     f"{_fmt_slope(metric, t.slope)}/week, {100 * conf:.0f}% CI [{_fmt_slope(metric, t.low)}, "
                     f"{_fmt_slope(metric, t.high)}]")
        down |= t.high < 0
        up |= t.low > 0
    sources = tuple(x for t in trends for x in (t.labels if t.source == "dated runs" else (t.source,)))
    figures = {"trends": [asdict(t) for t in trends]}
    status = MET if down and not up else NOT_MET
    verdict = ("trending down (the interval is below 0)" if status == MET else
               "rising" if up else "not significantly down (the interval includes 0)")
    return Finding(status, "; ".join(texts) + f": {verdict}", sources, figures)


