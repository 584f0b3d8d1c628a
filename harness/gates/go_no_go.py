"""The go/no-go verdict: GO when every go condition holds, NO-GO when any no-go condition holds, HOLD
otherwise. "For 4 consecutive weeks" conditions read a weekly ledger over dated runs of the same golden split.
A condition whose input is missing is ``None`` (not measurable), never a pass."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from datetime import date, timedelta
from typing import Any, Callable, Mapping, Sequence

from harness.errors import HarnessInputError
from harness.gates.criteria import OPS, Criteria
from harness.store import Run


@dataclass(frozen=True)
class Condition:
    """One go/no-go condition judged: ``observed`` (what was measured) and ``need`` (the condition, with its
    reference) kept apart, ``detail`` the sentence every output prints, e.g. ``349.1 s; needs < 1.382 s (2 x
    mlops-base's 0.691 s); not met``."""
    id: str
    holds: bool | None  # None: not measurable / history too short
    detail: str
    observed: str = ""
    need: str = ""


def sentence(c: Condition, role: str) -> str:
    """``c``'s line for a GO condition (``role="go"``: needs ...; met / not met) or a NO-GO one (NO-GO when ...;
    holds / does not hold); not measurable in both when ``holds`` is None.

    >>> print(sentence(Condition("p95", False, "", "349.1 s", "< 1.382 s (2 x base's 0.691 s)"), "go"))
    349.1 s; needs < 1.382 s (2 x base's 0.691 s); not met
    >>> sentence(Condition("hal", True, "", "6.0 %", "> 5.0 %"), "no_go")
    '6.0 %; NO-GO when > 5.0 %; holds'
    """
    if c.holds is None:
        word = "not measurable"
    elif role == "go":
        word = "met" if c.holds else "not met"
    else:
        word = "holds" if c.holds else "does not hold"
    need = f"needs {c.need}" if role == "go" else f"NO-GO when {c.need}"
    return "; ".join(x for x in (c.observed, need if c.need else "", word) if x)


def _c(c: Mapping, holds: bool | None, observed: str, need: str) -> Condition:
    return Condition(c["id"], holds, "", observed, need)


def _unit(metric: str) -> str | None:
    from metrics import registry

    try:
        return registry.lookup(metric).unit
    except registry.UnknownMetric:
        return None


def _fmt(metric: str, value: Any, digits: int | None = None) -> str:
    """``value`` as the tables show it (the metric's unit), or with ``digits`` more decimals."""
    from metrics import registry

    unit = _unit(metric)
    if digits is None:
        return registry.format_value(value, unit) if unit else f"{value:.4g}"
    if unit == "fraction":
        return f"{100 * value:.{digits}f}%"
    if unit == "seconds":
        return f"{1000 * value:.{digits}f} ms" if abs(value) < 1 else f"{value:.{digits}f} s"
    if unit == "usd":
        return f"${value:.{digits + 2}f}"
    return f"{value:.{digits + 3}g}"


def _apart(metric: str, value: float, ref: float) -> tuple[str, str]:
    """``value`` and ``ref`` formatted with as many decimals as it takes to tell them apart when they differ, so
    a line never reads "95.0%; needs >= 95.0%; not met".

    >>> _apart("classification.accuracy", 0.9496, 0.95)
    ('94.96%', '95.00%')
    >>> _apart("classification.accuracy", 0.9, 0.95)
    ('90.0%', '95.0%')
    """
    a, b = _fmt(metric, value), _fmt(metric, ref)
    digits = 2
    while a == b and value != ref and digits <= 12:
        a, b = _fmt(metric, value, digits), _fmt(metric, ref, digits)
        digits += 1
    return a, b


@dataclass(frozen=True)
class Verdict:
    verdict: str  # GO | NO-GO | HOLD
    go: tuple[Condition, ...]
    no_go: tuple[Condition, ...]
    weeks: tuple[dict, ...] = field(default_factory=tuple)  # the ledger

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Evidence:
    """Everything a condition may read."""
    run: Run
    baseline: Run | None = None
    history: Sequence[Run] = ()
    ratings: Sequence[float] | None = None
    audit: Mapping | None = None
    incidents: Sequence[Mapping] | None = None
    weeks: int = 4


def _iso_week(d: date) -> tuple[int, int]:
    y, w, _ = d.isocalendar()
    return y, w


def weekly_ledger(run: Run, baseline_pipeline: str | None, history: Sequence[Run], metric: str, weeks: int
                  ) -> list[dict]:
    """Per ISO week, ending with the run's week: the latest run of each pipeline on the same golden split."""
    same = [r for r in history if r.golden_sha == run.golden_sha and r.split == run.split]
    if run.path not in {r.path for r in same}:
        same.append(run)
    end = run.evaluated_on
    out = []
    for k in range(weeks - 1, -1, -1):
        wk = _iso_week(end - timedelta(weeks=k))

        def latest(pipeline):
            found = sorted((r for r in same if _iso_week(r.evaluated_on) == wk and r.pipeline == pipeline),
                           key=lambda r: r.evaluated_on)
            return found[-1] if found else None

        cand, base = latest(run.pipeline), latest(baseline_pipeline)
        out.append({"week": f"{wk[0]}-W{wk[1]:02d}", "run": cand.id if cand else None,
                    "value": cand.value(metric) if cand else None, "baseline_run": base.id if base else None,
                    "baseline_value": base.value(metric) if base else None})
    return out


def _number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _threshold(c: Mapping, ev: Evidence, ledger: list) -> Condition:
    metric, op = c["metric"], c.get("op", ">=")
    v = ev.run.value(metric)
    if not _number(v):
        return _c(c, None, f"{metric} not measured", f"{op} {_fmt(metric, c['value'])}")
    seen, ref = _apart(metric, v, c["value"])
    return _c(c, bool(OPS[op](v, c["value"])), f"{metric} {seen}", f"{op} {ref}")


def _vs_baseline(c: Mapping, ev: Evidence, ledger: list) -> Condition:
    metric, op, factor = c["metric"], c.get("op", ">="), c.get("factor", 1)
    if ev.baseline is None:
        return _c(c, None, "no baseline run (--baseline)", f"{op} {factor:g} x the baseline's {metric}")
    v, b = ev.run.value(metric), ev.baseline.value(metric)
    if not _number(v) or not _number(b):
        return _c(c, None, f"{metric} not measured on both runs", f"{op} {factor:g} x the baseline's")
    ref = b * factor
    times = f"{factor:g} x " if factor != 1 else ""
    seen, ref_text = _apart(metric, v, ref)
    return _c(c, bool(OPS[op](v, ref)), f"{metric} {seen}",
              f"{op} {ref_text} ({times}{ev.baseline.id}'s {_fmt(metric, b)})")


def _weekly(c: Mapping, ev: Evidence, ledger: list) -> Condition:
    history = list(ev.history) + ([ev.baseline] if ev.baseline and ev.baseline.path not in
                                  {r.path for r in ev.history} else [])  # the baseline counts for its own week
    metric, op = c["metric"], c.get("op", ">=")
    weeks = weekly_ledger(ev.run, ev.baseline.pipeline if ev.baseline else None, history, metric, ev.weeks)
    ledger.extend({"condition": c["id"], **w} for w in weeks)
    ok = []
    for w in weeks:
        ref = w["baseline_value"] if c["kind"] == "weekly_vs_baseline" else c.get("value")
        ok.append(bool(OPS[op](w["value"], ref)) if _number(w["value"]) and _number(ref) else None)
    ref_text = "the baseline's" if c["kind"] == "weekly_vs_baseline" else _fmt(metric, c.get("value"))
    need = f"{metric} {op} {ref_text} in each of {ev.weeks} consecutive weeks"
    if False in ok:
        return _c(c, False, f"not held in {', '.join(w['week'] for w, o in zip(weeks, ok) if o is False)}", need)
    if None in ok:
        have = sum(o is not None for o in ok)
        return _c(c, None, f"{have} of {ev.weeks} weeks measured", need)
    return _c(c, True, f"held {weeks[0]['week']}..{weeks[-1]['week']}", need)


def _ratings(c: Mapping, ev: Evidence, ledger: list) -> Condition:
    op = c.get("op", ">=")
    if not ev.ratings:
        return _c(c, None, "no ratings file (--ratings)", f"mean rating {op} {c['value']}")
    mean = sum(ev.ratings) / len(ev.ratings)
    return _c(c, bool(OPS[op](mean, c["value"])), f"mean rating {mean:.2f} of {len(ev.ratings)}",
              f"{op} {c['value']}")


def _audit(c: Mapping, ev: Evidence, ledger: list) -> Condition:
    if ev.audit is None:
        return _c(c, None, "no audit checklist (--audit)", "every item satisfied")
    missing = [it["id"] for it in ev.audit["items"] if not it["satisfied"]]
    return _c(c, not missing, "all items satisfied" if not missing else f"unsatisfied: {', '.join(missing)}",
              "every item satisfied")


def _incident(c: Mapping, ev: Evidence, ledger: list) -> Condition:
    if ev.incidents is None:
        return _c(c, None, "no incident log (--incidents)", f"any {c.get('type')} incident")
    hits = [i for i in ev.incidents if i.get("type") == c.get("type")]
    return _c(c, bool(hits), f"{len(hits)} {c.get('type')} incident(s)", f"any {c.get('type')} incident")


# condition kind -> how it is judged; a new kind is one function here, and the keys it needs in
# harness.gates.criteria.CONDITION_KEYS (the criteria file's shape, checked at load)
KINDS: Mapping[str, Callable[[Mapping, Evidence, list], Condition]] = {
    "threshold": _threshold, "vs_baseline": _vs_baseline, "ratio_to_baseline": _vs_baseline,
    "weekly_vs_baseline": _weekly, "weekly_threshold": _weekly, "ratings": _ratings, "audit": _audit,
    "incident": _incident,
}


def evaluate_go_no_go(criteria: Criteria, run: Run, baseline: Run | None = None, history: Sequence[Run] = (),
                      ratings: Sequence[float] | None = None, audit: Mapping | None = None,
                      incidents: Sequence[Mapping] | None = None) -> Verdict:
    conf = criteria.go_no_go
    ev = Evidence(run, baseline, history, ratings, audit, incidents, int(conf.get("weeks", 4)))
    ledger: list[dict] = []

    def judge(c: Mapping) -> Condition:
        kind, cid = c.get("kind"), c.get("id", "?")
        if kind not in KINDS:
            raise HarnessInputError(f"unknown condition kind {kind!r}", path=criteria.path, field=f"go_no_go.{cid}")
        return KINDS[kind]({**c, "id": cid}, ev, ledger)

    go = tuple(replace(k, detail=sentence(k, "go")) for k in (judge(c) for c in conf.get("go") or []))
    no_go = tuple(replace(k, detail=sentence(k, "no_go")) for k in (judge(c) for c in conf.get("no_go") or []))
    if any(c.holds for c in no_go):
        verdict = "NO-GO"
    elif go and all(c.holds for c in go):
        verdict = "GO"
    else:
        verdict = "HOLD"
    return Verdict(verdict, go, no_go, tuple(ledger))
