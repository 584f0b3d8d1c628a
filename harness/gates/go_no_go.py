"""The go/no-go verdict: GO when every go condition holds, NO-GO when any no-go condition holds, HOLD
otherwise. "For 4 consecutive weeks" conditions read a weekly ledger over dated runs of the same golden split.
A condition whose input is missing is ``None`` (not measurable), never a pass."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from typing import Any, Callable, Mapping, Sequence

from harness.errors import HarnessInputError
from harness.gates.criteria import OPS, Criteria
from harness.store import Run


@dataclass(frozen=True)
class Condition:
    id: str
    holds: bool | None  # None: not measurable / history too short
    detail: str


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
    v = ev.run.value(c["metric"])
    if not _number(v):
        return Condition(c["id"], None, f"{c['metric']} not measured")
    op = c.get("op", ">=")
    return Condition(c["id"], bool(OPS[op](v, c["value"])), f"{c['metric']} = {v:.4g} {op} {c['value']}")


def _vs_baseline(c: Mapping, ev: Evidence, ledger: list) -> Condition:
    if ev.baseline is None:
        return Condition(c["id"], None, "no baseline run (--baseline)")
    metric = c["metric"]
    v, b = ev.run.value(metric), ev.baseline.value(metric)
    if not _number(v) or not _number(b):
        return Condition(c["id"], None, f"{metric} not measured on both runs")
    factor = c.get("factor", 1)
    ref = b * factor
    return Condition(c["id"], bool(OPS[c.get("op", ">=")](v, ref)),
                     f"{metric}: {v:.4g} {c.get('op', '>=')} {ref:.4g} ({factor:g}x{ev.baseline.id})")


def _weekly(c: Mapping, ev: Evidence, ledger: list) -> Condition:
    history = list(ev.history) + ([ev.baseline] if ev.baseline and ev.baseline.path not in
                                  {r.path for r in ev.history} else [])  # the baseline counts for its own week
    weeks = weekly_ledger(ev.run, ev.baseline.pipeline if ev.baseline else None, history, c["metric"], ev.weeks)
    ledger.extend({"condition": c["id"], **w} for w in weeks)
    ok = []
    for w in weeks:
        ref = w["baseline_value"] if c["kind"] == "weekly_vs_baseline" else c.get("value")
        ok.append(bool(OPS[c.get("op", ">=")](w["value"], ref)) if _number(w["value"]) and _number(ref) else None)
    if False in ok:
        return Condition(c["id"], False, f"failed in {', '.join(w['week'] for w, o in zip(weeks, ok) if o is False)}")
    if None in ok:
        have = sum(o is not None for o in ok)
        return Condition(c["id"], None, f"history too short: {have} of {ev.weeks} consecutive weeks measured")
    return Condition(c["id"], True, f"held for {ev.weeks} consecutive weeks ({weeks[0]['week']}..{weeks[-1]['week']})")


def _ratings(c: Mapping, ev: Evidence, ledger: list) -> Condition:
    if not ev.ratings:
        return Condition(c["id"], None, "no ratings file (--ratings)")
    mean = sum(ev.ratings) / len(ev.ratings)
    op = c.get("op", ">=")
    return Condition(c["id"], bool(OPS[op](mean, c["value"])), f"mean rating {mean:.2f} {op} {c['value']}")


def _audit(c: Mapping, ev: Evidence, ledger: list) -> Condition:
    if ev.audit is None:
        return Condition(c["id"], None, "no audit checklist (--audit)")
    missing = [it["id"] for it in ev.audit["items"] if not it["satisfied"]]
    return Condition(c["id"], not missing, "all items satisfied" if not missing else f"unsatisfied: {missing}")


def _incident(c: Mapping, ev: Evidence, ledger: list) -> Condition:
    if ev.incidents is None:
        return Condition(c["id"], None, "no incident log (--incidents)")
    hits = [i for i in ev.incidents if i.get("type") == c.get("type")]
    return Condition(c["id"], bool(hits), f"{len(hits)} {c.get('type')} incident(s)")


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

    go = tuple(judge(c) for c in conf.get("go") or [])
    no_go = tuple(judge(c) for c in conf.get("no_go") or [])
    if any(c.holds for c in no_go):
        verdict = "NO-GO"
    elif go and all(c.holds for c in go):
        verdict = "GO"
    else:
        verdict = "HOLD"
    return Verdict(verdict, go, no_go, tuple(ledger))
