"""Gates: pilot success criteria, go/no-go verdicts over dated runs, and rollback triggers.

Every criterion states whether higher is better and whether its bound is strict, so nothing guesses a
direction; a criterion whose input is not measured is reported "not measurable" and never passes.
"""

from __future__ import annotations

import csv
import json
import operator
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, Mapping, Sequence

from harness.errors import HarnessInputError, read_yaml_mapping
from harness.store import Run, load_run, load_runs  # noqa: F401 - re-exported for callers

DEFAULT_CRITERIA = Path(__file__).with_name("criteria") / "techcorp.yaml"
OPS = {">=": operator.ge, ">": operator.gt, "<": operator.lt, "<=": operator.le}
TARGET_MET, MUST_MET, FAILED, NOT_MEASURABLE = "target met", "must-have met", "failed", "not measurable"


# ---------------------------------------------------------------------------------------------- inputs
def read_ratings(path: str | Path) -> list[float]:
    """User ratings: a CSV with a ``rating`` column, values 1 to 5."""
    path = Path(path)
    if not path.is_file():
        raise HarnessInputError("ratings file not found", path=path)
    out = []
    with open(path, encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        if not reader.fieldnames or "rating" not in reader.fieldnames:
            raise HarnessInputError("expected a 'rating' column", path=path, line=1, field="rating")
        for i, row in enumerate(reader, start=2):
            try:
                value = float(row["rating"])
            except (TypeError, ValueError):
                raise HarnessInputError(f"not a number: {row['rating']!r}", path=path, line=i, field="rating") from None
            if not 1 <= value <= 5:
                raise HarnessInputError(f"rating {value} outside 1-5", path=path, line=i, field="rating")
            out.append(value)
    return out


def read_audit(path: str | Path) -> dict:
    """Audit checklist: ``items: [{id: ..., satisfied: true|false}, ...]``."""
    data, _ = read_yaml_mapping(path, "audit checklist")
    items = data.get("items")
    if not isinstance(items, list) or not items:
        raise HarnessInputError("expected a non-empty 'items' list", path=path, field="items")
    for i, it in enumerate(items):
        if not isinstance(it, dict) or "id" not in it or not isinstance(it.get("satisfied"), bool):
            raise HarnessInputError("each item needs an id and satisfied: true|false", path=path,
                                    field=f"items[{i}]")
    return data


def read_incidents(path: str | Path) -> list[dict]:
    """Incident log: ``incidents: [{type: data_exposure|compliance_violation|..., severity: ..., date: ...}]``."""
    data, _ = read_yaml_mapping(path, "incident log")
    items = data.get("incidents", [])
    if not isinstance(items, list):
        raise HarnessInputError("expected an 'incidents' list", path=path, field="incidents")
    return items


# ---------------------------------------------------------------------------------------------- criteria
@dataclass(frozen=True)
class Criterion:
    id: str
    title: str
    higher_is_better: bool
    target: float
    must_have: float
    strict: bool = False
    metric: str | None = None
    source: str | None = None  # "ratings": the mean of the ratings file


@dataclass(frozen=True)
class Criteria:
    name: str
    path: str
    criteria: tuple[Criterion, ...]
    go_no_go: Mapping[str, Any]
    rollback_triggers: tuple[Mapping[str, Any], ...]
    regression: Mapping[str, Any]


def load_criteria(path: str | Path | None = None) -> Criteria:
    from metrics import higher_is_better

    path = Path(path) if path else DEFAULT_CRITERIA
    data, _ = read_yaml_mapping(path, "criteria file")
    out = []
    for i, c in enumerate(data.get("criteria") or []):
        where = f"criteria[{i}]"
        if not isinstance(c, dict):
            raise HarnessInputError("each criterion must be a mapping", path=path, field=where)
        for key in ("id", "higher_is_better", "target", "must_have"):
            if key not in c:
                raise HarnessInputError("missing key", path=path, field=f"{where}.{key}")
        if not (c.get("metric") or c.get("source") == "ratings"):
            raise HarnessInputError("needs a metric or 'source: ratings'", path=path, field=where)
        if not isinstance(c["higher_is_better"], bool):
            raise HarnessInputError("must be true or false", path=path, field=f"{where}.higher_is_better")
        if c.get("metric"):
            try:
                declared = higher_is_better(c["metric"])
            except KeyError:
                declared = None
            if declared is not None and declared != c["higher_is_better"]:
                raise HarnessInputError(f"contradicts the metric's declared direction (higher is better: {declared})",
                                        path=path, field=f"{where}.higher_is_better")
        better = OPS[">="] if c["higher_is_better"] else OPS["<="]
        if not better(float(c["target"]), float(c["must_have"])):
            raise HarnessInputError("the target is less demanding than the must-have", path=path, field=where)
        out.append(Criterion(id=str(c["id"]), title=str(c.get("title", c["id"])),
                             higher_is_better=c["higher_is_better"], target=float(c["target"]),
                             must_have=float(c["must_have"]), strict=bool(c.get("strict", False)),
                             metric=c.get("metric"), source=c.get("source")))
    for section in ("go", "no_go"):
        for i, cond in enumerate((data.get("go_no_go") or {}).get(section) or []):
            if cond.get("op") and cond["op"] not in OPS:
                raise HarnessInputError(f"unknown operator {cond['op']!r}", path=path, field=f"go_no_go.{section}[{i}].op")
    return Criteria(name=str(data.get("name", path.stem)), path=str(path), criteria=tuple(out),
                    go_no_go=data.get("go_no_go") or {}, rollback_triggers=tuple(data.get("rollback_triggers") or ()),
                    regression=data.get("regression") or {})


def meets(value: float, threshold: float, higher_is_better: bool, strict: bool) -> bool:
    if higher_is_better:
        return value > threshold if strict else value >= threshold
    return value < threshold if strict else value <= threshold


@dataclass(frozen=True)
class CriterionResult:
    id: str
    title: str
    observed: float | None
    target: float
    must_have: float
    bound: str  # e.g. ">= 0.95 / >= 0.93"
    status: str
    evidence: str


def _bound(c: Criterion) -> str:
    op = (">" if c.strict else ">=") if c.higher_is_better else ("<" if c.strict else "<=")
    return f"{op} {c.target:g} / {op} {c.must_have:g}"


def evaluate_criteria(criteria: Criteria, run: Run, ratings: Sequence[float] | None = None,
                      only: Sequence[str] | None = None) -> list[CriterionResult]:
    out = []
    for c in criteria.criteria:
        if only and c.id not in only:
            continue
        if c.source == "ratings":
            value = sum(ratings) / len(ratings) if ratings else None
            evidence = f"{len(ratings)} ratings" if ratings else "no ratings file (--ratings)"
        else:
            value = run.value(c.metric)
            evidence = run.id if value is not None else f"{c.metric} not in {run.id}'s metrics"
        if not isinstance(value, (int, float)):
            status = NOT_MEASURABLE
            value = None
        elif meets(value, c.target, c.higher_is_better, c.strict):
            status = TARGET_MET
        elif meets(value, c.must_have, c.higher_is_better, c.strict):
            status = MUST_MET
        else:
            status = FAILED
        out.append(CriterionResult(c.id, c.title, value, c.target, c.must_have, _bound(c), status, evidence))
    return out


# ---------------------------------------------------------------------------------------------- go / no-go
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
        day = end - timedelta(weeks=k)
        wk = _iso_week(day)
        cands = sorted((r for r in same if _iso_week(r.evaluated_on) == wk and r.pipeline == run.pipeline),
                       key=lambda r: r.evaluated_on)
        bases = sorted((r for r in same if _iso_week(r.evaluated_on) == wk and r.pipeline == baseline_pipeline),
                       key=lambda r: r.evaluated_on)
        cand, base = (cands[-1] if cands else None), (bases[-1] if bases else None)
        out.append({"week": f"{wk[0]}-W{wk[1]:02d}", "run": cand.id if cand else None,
                    "value": cand.value(metric) if cand else None, "baseline_run": base.id if base else None,
                    "baseline_value": base.value(metric) if base else None})
    return out


def evaluate_go_no_go(criteria: Criteria, run: Run, baseline: Run | None = None, history: Sequence[Run] = (),
                      ratings: Sequence[float] | None = None, audit: Mapping | None = None,
                      incidents: Sequence[Mapping] | None = None) -> Verdict:
    conf = criteria.go_no_go
    n_weeks = int(conf.get("weeks", 4))
    ledger: list[dict] = []

    def cond(c: Mapping) -> Condition:
        kind, cid = c.get("kind"), c.get("id", "?")
        op = OPS.get(c.get("op", ">="))
        metric = c.get("metric")
        if kind == "threshold":
            v = run.value(metric)
            if not isinstance(v, (int, float)):
                return Condition(cid, None, f"{metric} not measured")
            return Condition(cid, bool(op(v, c["value"])), f"{metric} = {v:.4g} {c['op']} {c['value']}")
        if kind in ("vs_baseline", "ratio_to_baseline"):
            if baseline is None:
                return Condition(cid, None, "no baseline run (--baseline)")
            v, b = run.value(metric), baseline.value(metric)
            if not isinstance(v, (int, float)) or not isinstance(b, (int, float)):
                return Condition(cid, None, f"{metric} not measured on both runs")
            ref = b * c.get("factor", 1)
            return Condition(cid, bool(op(v, ref)), f"{metric}: {v:.4g} {c['op']} {ref:.4g} "
                             f"({'x'.join([str(c.get('factor', 1)), baseline.id])})")
        if kind in ("weekly_vs_baseline", "weekly_threshold"):
            weeks = weekly_ledger(run, baseline.pipeline if baseline else None, history, metric, n_weeks)
            ledger.extend({"condition": cid, **w} for w in weeks)
            ok = []
            for w in weeks:
                v = w["value"]
                ref = w["baseline_value"] if kind == "weekly_vs_baseline" else c["value"]
                if not isinstance(v, (int, float)) or not isinstance(ref, (int, float)):
                    ok.append(None)
                else:
                    ok.append(bool(op(v, ref)))
            have = sum(o is not None for o in ok)
            if False in ok:
                bad = [w["week"] for w, o in zip(weeks, ok) if o is False]
                return Condition(cid, False, f"failed in {', '.join(bad)}")
            if None in ok:
                return Condition(cid, None, f"history too short: {have} of {n_weeks} consecutive weeks measured")
            return Condition(cid, True, f"held for {n_weeks} consecutive weeks ({weeks[0]['week']}..{weeks[-1]['week']})")
        if kind == "ratings":
            if not ratings:
                return Condition(cid, None, "no ratings file (--ratings)")
            mean = sum(ratings) / len(ratings)
            return Condition(cid, bool(op(mean, c["value"])), f"mean rating {mean:.2f} {c['op']} {c['value']}")
        if kind == "audit":
            if audit is None:
                return Condition(cid, None, "no audit checklist (--audit)")
            missing = [it["id"] for it in audit["items"] if not it["satisfied"]]
            return Condition(cid, not missing, "all items satisfied" if not missing else f"unsatisfied: {missing}")
        if kind == "incident":
            if incidents is None:
                return Condition(cid, None, "no incident log (--incidents)")
            hits = [i for i in incidents if i.get("type") == c.get("type")]
            return Condition(cid, bool(hits), f"{len(hits)} {c.get('type')} incident(s)")
        raise HarnessInputError(f"unknown condition kind {kind!r}", path=criteria.path, field=f"go_no_go.{cid}")

    go = tuple(cond(c) for c in conf.get("go") or [])
    no_go = tuple(cond(c) for c in conf.get("no_go") or [])
    if any(c.holds for c in no_go):
        verdict = "NO-GO"
    elif go and all(c.holds for c in go):
        verdict = "GO"
    else:
        verdict = "HOLD"
    return Verdict(verdict, go, no_go, tuple(ledger))


# ---------------------------------------------------------------------------------------------- rollback
@dataclass(frozen=True)
class Trigger:
    id: str
    fired: bool
    window: tuple[str, str] | None
    detail: str


def read_monitoring(path: str | Path) -> list[dict]:
    from harness.golden import iter_jsonl

    out = []
    for lineno, obj in iter_jsonl(Path(path)):
        try:
            obj["_ts"] = datetime.fromisoformat(str(obj["timestamp"]).replace("Z", "+00:00"))
        except (KeyError, ValueError):
            raise HarnessInputError("needs an ISO 'timestamp'", path=path, line=lineno, field="timestamp") from None
        out.append(obj)
    return sorted(out, key=lambda r: r["_ts"])


def _spans(records: list[dict], bad) -> list[tuple[datetime, datetime]]:
    """Maximal spans where ``bad(record)`` holds: from the first bad record to the first good one after it
    (or the last record)."""
    spans, start = [], None
    for r in records:
        b = bad(r)
        if b is None:
            continue
        if b and start is None:
            start = r["_ts"]
        elif not b and start is not None:
            spans.append((start, r["_ts"]))
            start = None
    if start is not None:
        spans.append((start, records[-1]["_ts"]))
    return spans


def evaluate_rollback(triggers: Sequence[Mapping], records: list[dict]) -> list[Trigger]:
    out = []
    for t in triggers:
        kind, tid, f = t.get("kind"), t.get("id", "?"), t.get("field")
        hours = timedelta(hours=float(t.get("hours", 0)))
        fired, window, detail = False, None, ""
        if kind in ("sustained", "sustained_false", "sustained_ratio"):
            def bad(r, t=t, f=f, kind=kind):
                if f not in r:
                    return None
                if kind == "sustained_false":
                    return r[f] is False
                other = r.get(t.get("below_field") if kind == "sustained" else t.get("of_field"))
                if other is None:
                    return None
                return r[f] < other - t.get("margin", 0) if kind == "sustained" else r[f] > other * t["factor"]
            for s, e in _spans(records, bad):
                if e - s > hours:
                    fired, window = True, (s.isoformat(), e.isoformat())
                    detail = f"{f} out of bounds for {(e - s).total_seconds() / 3600:.1f} h (> {hours.total_seconds() / 3600:g} h)"
                    break
        elif kind == "window_mean":
            op = OPS[t.get("op", ">")]
            for i, r in enumerate(records):
                vals = [x[f] for x in records[: i + 1] if f in x and r["_ts"] - x["_ts"] < hours]
                if vals and op(sum(vals) / len(vals), t["value"]):
                    start = min(x["_ts"] for x in records[: i + 1] if r["_ts"] - x["_ts"] < hours)
                    fired, window = True, (start.isoformat(), r["_ts"].isoformat())
                    detail = f"mean {f} {sum(vals) / len(vals):.3f} {t.get('op', '>')} {t['value']} over {len(vals)} records"
                    break
        elif kind == "any_true":
            for r in records:
                if r.get(f) is True:
                    fired, window, detail = True, (r["_ts"].isoformat(), r["_ts"].isoformat()), f"{f} reported"
                    break
        else:
            raise HarnessInputError(f"unknown trigger kind {kind!r}", field=f"rollback_triggers.{tid}")
        out.append(Trigger(tid, fired, window, detail or "did not fire"))
    return out


def must_haves_hold(results: Sequence[CriterionResult]) -> bool:
    return all(r.status in (TARGET_MET, MUST_MET) for r in results)


def results_json(results: Sequence[CriterionResult], verdict: Verdict | None) -> dict:
    return {"criteria": [asdict(r) for r in results], "must_haves_hold": must_haves_hold(results),
            "go_no_go": verdict.to_dict() if verdict else None}


def dumps(data: Any) -> str:
    return json.dumps(data, indent=2, default=str)
