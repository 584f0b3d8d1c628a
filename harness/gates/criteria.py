"""Pilot success criteria: the criteria file (checked against the metric registry) and each criterion's
status on a run (target met, must-have met, failed, not measurable).

Every criterion states whether higher is better and whether its bound is strict, and that direction must
agree with the metric's declaration in :mod:`metrics.registry`; a criterion whose input is not measured is
"not measurable" and never passes.
"""

from __future__ import annotations

import math
import operator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Mapping, Sequence

from pydantic import BaseModel, ConfigDict, Field

from harness.errors import HarnessInputError
from harness.files import YamlDoc, read_yaml_mapping_doc, validate
from harness.store import Run
from metrics import registry

DEFAULT_CRITERIA = Path(__file__).resolve().parent.parent / "criteria" / "techcorp.yaml"
OPS = {">=": operator.ge, ">": operator.gt, "<": operator.lt, "<=": operator.le}
TARGET_MET, MUST_MET, FAILED, NOT_MEASURABLE = "target met", "must-have met", "failed", "not measurable"
MAX_BOUND = 1e12  # a criterion's target or must-have, either way (every metric here is a fraction, seconds, dollars)

# The kinds a criteria file may name and the keys each needs: part of the file's shape, so checked at load here.
# How a kind is judged is the function of the same name in harness.gates.go_no_go.KINDS (conditions) and
# harness.gates.rollback.KINDS (triggers): a new kind is one entry here and one function there (a test holds the
# two in step). Data flows one way: go_no_go and rollback read this module, never the reverse.
CONDITION_KEYS: Mapping[str, tuple[str, ...]] = {
    "threshold": ("metric", "value"), "vs_baseline": ("metric",), "ratio_to_baseline": ("metric", "factor"),
    "weekly_vs_baseline": ("metric",), "weekly_threshold": ("metric", "value"), "ratings": ("value",),
    "audit": (), "incident": ("type",),
}
TRIGGER_KEYS: Mapping[str, tuple[str, ...]] = {
    "sustained": ("field", "below_field", "hours"), "sustained_false": ("field", "hours"),
    "sustained_ratio": ("field", "of_field", "factor", "hours"), "window_mean": ("field", "value", "hours"),
    "any_true": ("field",),
}


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
    guardrails: Mapping[str, Any] = field(default_factory=lambda: {"critical": ["pii"]})


def _known_metric(name: Any, path: Path, where: str, higher: bool | None = None, directed: bool = False) -> None:
    """Refuse a metric the registry does not declare, one with no direction where ``directed``, or a
    direction ``higher`` that contradicts its declaration."""
    if not isinstance(name, str):
        raise HarnessInputError("must be a metric name", path=path, field=where)
    try:
        registry.lookup(name)
        if higher is not None:
            registry.check_direction(name, higher)
        elif directed:
            registry.higher_is_better(name)
    except registry.UnknownMetric as exc:
        raise HarnessInputError(f"{exc} (harness metrics lists them)", path=path, field=where) from None
    except ValueError as exc:
        raise HarnessInputError(str(exc), path=path, field=where) from None


def _criterion(c: Any, path: Path, where: str) -> Criterion:
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
        _known_metric(c["metric"], path, f"{where}.metric", directed=True)
        _known_metric(c["metric"], path, f"{where}.higher_is_better", c["higher_is_better"])
    bounds = {}
    for key in ("target", "must_have"):
        try:
            if isinstance(c[key], bool):
                raise TypeError
            bounds[key] = float(c[key])
        except (TypeError, ValueError):
            raise HarnessInputError(f"not a number: {c[key]!r}"[:80], path=path, field=f"{where}.{key}") from None
        except OverflowError:  # an int of 4,000 digits
            bounds[key] = math.inf
        if not -MAX_BOUND <= bounds[key] <= MAX_BOUND:  # also NaN and inf ("1e400" is a string a float reads)
            raise HarnessInputError(f"out of range: at most {MAX_BOUND:,.0f} either way", path=path,
                                    field=f"{where}.{key}")
    better = OPS[">="] if c["higher_is_better"] else OPS["<="]
    if not better(bounds["target"], bounds["must_have"]):
        raise HarnessInputError("the target is less demanding than the must-have", path=path, field=where)
    return Criterion(id=str(c["id"]), title=str(c.get("title", c["id"])), higher_is_better=c["higher_is_better"],
                     target=bounds["target"], must_have=bounds["must_have"], strict=bool(c.get("strict", False)),
                     metric=c.get("metric"), source=c.get("source"))


Op = Literal[">=", ">", "<", "<="]


class _Typed(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class ConditionSpec(_Typed):
    """One go or no-go condition; which keys a kind needs is :data:`CONDITION_KEYS`."""
    id: str
    kind: str
    title: str | None = None
    metric: str | None = None
    op: Op | None = None
    value: float | None = None
    factor: float | None = Field(None, gt=0)
    type: str | None = None


class GoNoGoSpec(_Typed):
    weeks: int = Field(4, ge=1, le=520, description="consecutive weeks a weekly condition must hold")
    budget_per_document: float | None = Field(None, ge=0)
    go: list[ConditionSpec] = []
    no_go: list[ConditionSpec] = []


class TriggerSpec(_Typed):
    """One rollback trigger; which keys a kind needs is :data:`TRIGGER_KEYS`."""
    id: str
    kind: str
    title: str | None = None
    field: str | None = None
    below_field: str | None = None
    of_field: str | None = None
    margin: float = 0.0
    op: Op | None = None
    value: float | None = None
    factor: float | None = Field(None, gt=0)
    hours: float | None = Field(None, ge=0, le=24 * 366)
    min_records: int = Field(1, ge=1)  # window_mean: a window with fewer records is too small to judge


class GuardrailGateSpec(_Typed):
    """Which guardrail failures are critical: a red-team item that expects one of these policy kinds and
    passes unflagged is a critical failure (``harness guardrails eval --run``)."""
    critical: list[str] = Field(["pii"], description="policy kinds: pii, injection, topic:<name>, content:<type>")


class _CriteriaFile(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    name: str | None = None
    version: str | int | float | None = None
    criteria: list[Any] = []  # each checked by _criterion (metric directions against the registry)
    go_no_go: GoNoGoSpec = GoNoGoSpec()
    rollback_triggers: list[TriggerSpec] = []
    regression: dict[str, Any] = {}
    guardrails: GuardrailGateSpec = GuardrailGateSpec()


def _kinds(doc: YamlDoc, section: str, specs: Sequence[BaseModel], required: Mapping[str, tuple[str, ...]]) -> None:
    """Each spec's kind is known (a key of ``required``) and carries the keys its kind needs."""
    for i, spec in enumerate(specs):
        loc = (*section.split("."), i)
        where = f"{section}[{i}]"
        if spec.kind not in required:
            raise HarnessInputError(f"unknown kind {spec.kind!r} (one of {', '.join(required)})", path=doc.path,
                                    line=doc.line((*loc, "kind")), field=f"{where}.kind")
        for key in required[spec.kind]:
            if getattr(spec, key) is None:
                raise HarnessInputError(f"a {spec.kind!r} condition needs {key!r}", path=doc.path,
                                        line=doc.line(loc), field=f"{where}.{key}")


MAX_TOLERANCE = 1e12  # an absolute tolerance, in the metric's unit
MAX_RELATIVE = 100.0  # a relative one: 100 times the baseline's value


def _tolerance_value(tol: Any, path: Path, line: int | None, where: str) -> None:
    """A regression tolerance is a number from 0 (absolute, in the metric's unit) or ``{relative: r}``."""
    if isinstance(tol, dict):
        if set(tol) != {"relative"}:
            raise HarnessInputError("a mapping tolerance is {relative: NUMBER}", path=path, line=line, field=where)
        tol, where, bound = tol["relative"], f"{where}.relative", MAX_RELATIVE
    else:
        bound = MAX_TOLERANCE
    if isinstance(tol, bool) or not isinstance(tol, (int, float)) or not 0 <= tol <= bound:
        raise HarnessInputError(f"must be a number from 0 to {bound:,.0f}, got {tol!r}"[:120], path=path, line=line,
                                field=where)


def load_criteria(path: str | Path | None = None) -> Criteria:
    """Read and check a criteria file (default: the TechCorp pilot's); exit 2 naming the file, line and field."""
    path = Path(path) if path else DEFAULT_CRITERIA
    doc = read_yaml_mapping_doc(path, "criteria file")
    spec = validate(_CriteriaFile, doc.data, doc=doc)
    criteria = tuple(_criterion(c, path, f"criteria[{i}]") for i, c in enumerate(spec.criteria))
    for section in ("go", "no_go"):
        conds = getattr(spec.go_no_go, section)
        _kinds(doc, f"go_no_go.{section}", conds, CONDITION_KEYS)
        for i, cond in enumerate(conds):
            if cond.metric is not None:
                _known_metric(cond.metric, path, f"go_no_go.{section}[{i}].metric")
    _kinds(doc, "rollback_triggers", spec.rollback_triggers, TRIGGER_KEYS)
    tolerance = spec.regression.get("tolerance") or {}
    if not isinstance(tolerance, dict):
        raise HarnessInputError("must be a mapping of metric -> tolerance", path=path, field="regression.tolerance")
    for metric, tol in tolerance.items():
        _known_metric(metric, path, f"regression.tolerance.{metric}", directed=True)
        _tolerance_value(tol, path, doc.line(("regression", "tolerance", metric)), f"regression.tolerance.{metric}")
    return Criteria(name=str(spec.name or path.stem), path=str(path), criteria=criteria,
                    go_no_go=spec.go_no_go.model_dump(exclude_none=True),
                    rollback_triggers=tuple(t.model_dump(exclude_none=True) for t in spec.rollback_triggers),
                    regression=spec.regression, guardrails=spec.guardrails.model_dump())


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
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            status, value = NOT_MEASURABLE, None
        elif meets(value, c.target, c.higher_is_better, c.strict):
            status = TARGET_MET
        elif meets(value, c.must_have, c.higher_is_better, c.strict):
            status = MUST_MET
        else:
            status = FAILED
        out.append(CriterionResult(c.id, c.title, value, c.target, c.must_have, _bound(c), status, evidence))
    return out


def must_haves_hold(results: Sequence[CriterionResult]) -> bool:
    return all(r.status in (TARGET_MET, MUST_MET) for r in results)


def gate_status(results: Sequence[CriterionResult]) -> str:
    """A run's one gate status, as every output shows it (console, Markdown, CSV, pages; ``harness gates``
    exits 1 on it, the pytest plugin fails the criteria it names): ``pass`` when every criterion's must-have
    holds, else ``fail`` with the criteria that failed and those that could not be measured (a criterion that
    cannot be measured never passes).

    >>> r = [CriterionResult("acc", "Accuracy", 0.9, 0.95, 0.93, ">= 0.95 / >= 0.93", FAILED, "run"),
    ...      CriterionResult("csat", "Satisfaction", None, 4, 3.5, "> 4 / > 3.5", NOT_MEASURABLE, "no ratings")]
    >>> gate_status(r)
    'fail (failed: acc; not measurable: csat)'
    >>> gate_status(r[:0])
    'pass'
    """
    failed = [r.id for r in results if r.status == FAILED]
    unmeasured = [r.id for r in results if r.status == NOT_MEASURABLE]
    if not failed and not unmeasured:
        return "pass"
    parts = ([f"failed: {', '.join(failed)}"] if failed else []) + (
        [f"not measurable: {', '.join(unmeasured)}"] if unmeasured else [])
    return f"fail ({'; '.join(parts)})"
