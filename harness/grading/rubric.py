"""Rubric points: plain functions from a graded run's figures to points, each line with its reason.

A metric line scores a value (or its difference to the reference variant) linearly between ``from`` and
``to`` or by steps; a criteria line counts the pilot criteria met; penalties count failed outputs. Nothing
here reads a document: reasons quote aggregate figures only (the grading split is hidden).

>>> linear_points(0.8, 0.5, 1.0, 30)
18.0
>>> linear_points(0.02, 0.10, 0.0, 10)   # lower is better: from 0.10 (0 points) to 0.0 (all points)
8.0
>>> step_points(0.83, [(0.5, 5), (0.8, 10), (0.9, 20)], higher_is_better=True)
10.0
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Sequence

from harness.grading.assignment import CriteriaLine, MetricLine, Rubric

INVALID_OUTPUT = "invalid model output"
OVER_BUDGET = "over budget"


@dataclass(frozen=True)
class Line:
    """One rubric line of one student: points earned of ``max_points`` and why (aggregates only)."""
    name: str
    points: float
    max_points: float
    reason: str
    kind: str = "metric"  # metric | criteria | penalty


@dataclass(frozen=True)
class Grade:
    lines: tuple[Line, ...]
    total: float
    max_grade: float

    def points(self) -> dict[str, float]:
        return {line.name: line.points for line in self.lines}


def linear_points(value: float, start: float, end: float, points: float) -> float:
    """``points`` times how far ``value`` is from ``start`` (0) to ``end`` (all), clipped to [0, points]."""
    frac = (value - start) / (end - start)
    return round(points * min(1.0, max(0.0, frac)), 4)


def step_points(value: float, steps: Sequence[tuple[float, float]], higher_is_better: bool) -> float:
    """The points of the best step ``value`` reaches (0 when none)."""
    reached = [p for at, p in steps if (value >= at if higher_is_better else value <= at)]
    return float(max(reached, default=0.0))


def _fmt(v: float, unit: str) -> str:
    from metrics.registry import format_value

    return format_value(v, unit)


def metric_line(line: MetricLine, value: float | None, reference: float | None) -> Line:
    """Points of one metric line from the student's value and the reference's."""
    from metrics.registry import lookup

    spec = lookup(line.metric)
    if value is None:
        return Line(line.name, 0.0, line.points, f"{spec.title_for(line.metric)}: not measured (no scored output)")
    shown = f"{spec.title_for(line.metric)} {_fmt(value, spec.unit)}"
    x = value
    if line.relative_to == "reference":
        if reference is None:
            return Line(line.name, 0.0, line.points, f"{shown}; the reference has no figure to compare with")
        x = value - reference
        shown += f" (reference {_fmt(reference, spec.unit)}, difference {x:+.3f})"
    if line.steps is not None:
        pts = step_points(x, line.steps, bool(spec.higher_is_better))
        how = "steps " + ", ".join(f"{at:g}: {p:g}" for at, p in line.steps)
    else:
        pts = linear_points(x, line.from_, line.to, line.points)
        how = f"linear from {line.from_:g} (0 points) to {line.to:g} ({line.points:g} points)"
    return Line(line.name, pts, line.points, f"{shown}; {how}")


def criteria_line(line: CriteriaLine, results: Sequence) -> Line:
    """Points for the criteria met (a ``CriterionResult`` at target or must-have)."""
    from harness.gates.criteria import MUST_MET, TARGET_MET

    met = [r for r in results if r.status in (TARGET_MET, MUST_MET)]
    failed = [r.title for r in results if r.status not in (TARGET_MET, MUST_MET)]
    reason = f"{len(met)} of {len(results)} criteria met"
    if failed:
        reason += "; not met: " + ", ".join(failed)
    return Line(line.name, line.points_each * len(met), line.points_each * len(results), reason, kind="criteria")


def penalty_lines(rubric: Rubric, failures: Mapping[str, int], over_budget: bool) -> list[Line]:
    """Deductions from the failure counts (``invalid_output``, ``errors``) and the budget flag (negative points)."""
    out = []
    pen = rubric.penalties
    n_invalid = failures.get("invalid_output", 0)
    n_errors = sum(n for k, n in failures.items() if k != "invalid_output")
    if pen.invalid_output.max:
        take = min(pen.invalid_output.max, pen.invalid_output.per_item * n_invalid)
        out.append(Line("invalid outputs", -take + 0.0, 0.0, f"{n_invalid} invalid model outputs x "
                        f"{pen.invalid_output.per_item:g} (at most {pen.invalid_output.max:g})", kind="penalty"))
    if pen.errors.max:
        take = min(pen.errors.max, pen.errors.per_item * n_errors)
        out.append(Line("errors", -take + 0.0, 0.0, f"{n_errors} failed tasks x {pen.errors.per_item:g} "
                        f"(at most {pen.errors.max:g})", kind="penalty"))
    if pen.over_budget:
        out.append(Line("over budget", -pen.over_budget if over_budget else 0.0, 0.0,
                        "the budget stopped the variant" if over_budget else "within budget", kind="penalty"))
    return out


def grade(rubric: Rubric, lines: Sequence[Line]) -> Grade:
    """The total of ``lines`` (penalties included), between 0 and the maximum grade (``rubric.max_grade``, else
    the sum of the lines' points), rounded to 2 decimals."""
    top = rubric.max_grade if rubric.max_grade is not None else sum(line.max_points for line in lines
                                                                     if line.kind != "penalty")
    total = round(min(top, max(0.0, sum(line.points for line in lines))), 2)
    return Grade(lines=tuple(lines), total=total, max_grade=round(top, 2))


def failure_kind(error: str) -> str:
    """What kind of failure a task error is, without its text (which may quote the hidden document).

    >>> failure_kind("invalid model output: label 'x' is not one of the labels")
    'invalid_output'
    >>> failure_kind("over budget: tokens 2,100 of 2,000")
    'over_budget'
    """
    if error.startswith(INVALID_OUTPUT):
        return "invalid_output"
    if error.startswith(OVER_BUDGET):
        return "over_budget"
    if error.startswith("blocked by"):
        return "guardrail_blocked"
    if error.startswith("model call failed"):
        return "model_error"
    return "other_error"


FAILURE_TITLES = {"invalid_output": "model output did not parse or was not allowed",
                  "over_budget": "not done: the budget was spent",
                  "guardrail_blocked": "blocked by a guardrail",
                  "model_error": "the model call failed",
                  "other_error": "other failure"}
