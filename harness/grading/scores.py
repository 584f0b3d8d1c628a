"""A variant's grade from its grading run and the reference's: the rubric's lines applied to the runs the
engine wrote (metrics through the run store, criteria through :mod:`harness.gates`)."""

from __future__ import annotations

from harness.grading.engine import VariantResult
from harness.grading.rubric import Grade, Line, criteria_line, grade, metric_line, penalty_lines




def line_names(assignment) -> list[str]:
    """The rubric's line names in grades.csv order (penalties last)."""
    r = assignment.spec.rubric
    names = [m.name for m in r.metrics] + ([r.criteria.name] if r.criteria else [])
    pen = r.penalties
    names += [n for n, on in (("invalid outputs", pen.invalid_output.max), ("errors", pen.errors.max),
                              ("over budget", pen.over_budget)) if on]
    return names


def grade_run(assignment, run, reference_run, failures: dict, over_budget: bool) -> Grade:
    """The rubric applied to one run (grading or dev) against the reference's run on the same split."""
    from harness.gates.criteria import evaluate_criteria, load_criteria

    rubric = assignment.spec.rubric
    lines: list[Line] = []
    for m in rubric.metrics:
        ref = reference_run.value(m.metric) if reference_run is not None else None
        val = run.value(m.metric)
        lines.append(metric_line(m, _number(val), _number(ref)))
    if rubric.criteria:
        criteria = load_criteria(assignment.criteria_file)
        lines.append(criteria_line(rubric.criteria, evaluate_criteria(criteria, run, only=assignment.criteria_ids)))
    lines += penalty_lines(rubric, failures, over_budget)
    return grade(rubric, lines)


def grade_variant(assignment, result: VariantResult, reference: VariantResult | None, role: str = "grading") -> Grade:
    from harness.store import load_run

    run = load_run(result.runs[role])
    ref = load_run(reference.runs[role]) if reference is not None and role in reference.runs else None
    return grade_run(assignment, run, ref, result.failures.get(role, {}), role in result.over_budget)


def _number(v):
    return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else None
