"""Grade overrides and regrades: ``OUT/regrades.jsonl``, append-only, one JSON record a line.

``harness grade override OUT --student ID --points X --reason TEXT [--rubric-line NAME] [--by WHO]`` appends a
record (who, when, the old and the new value, the reason; written by :mod:`harness.grading.outputs`, the one
writer of a class's files, under the folder's lock) and every export is written again with it. A record sets
the student's total, or one rubric line's points (the total is then the rubric's sum again, between 0 and the
maximum grade). Records apply in file order, so the last one for a total or a line wins; a rerun of
``harness grade run`` applies them again and says how many it kept.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from pydantic import Field

from harness.config import StrictModel
from harness.errors import HarnessInputError

REGRADES = "regrades.jsonl"
POINTS_LIMIT = 500_000.0  # |points| an override may give (the most a rubric can hold: 50 lines of 10,000)
MAX_RECORDS = 100_000


class Regrade(StrictModel):
    """One override of ``regrades.jsonl``."""
    student: str = Field(min_length=1, max_length=100, description="the student id (grades.csv's student_id)")
    rubric_line: str | None = Field(None, max_length=60, description="the rubric line overridden; none: the total")
    old: float | None = Field(None, ge=-POINTS_LIMIT, le=POINTS_LIMIT, description="the value before (none: no "
                              "grade)")
    new: float = Field(ge=-POINTS_LIMIT, le=POINTS_LIMIT, description="the value after")
    reason: str = Field(min_length=1, max_length=500, description="why, as the student will read it")
    by: str = Field(min_length=1, max_length=100, description="who overrode")
    at: str = Field(min_length=1, max_length=40, description="when (ISO 8601, UTC)")


def read_regrades(out: Path) -> list[Regrade]:
    """The records of ``OUT/regrades.jsonl`` in file order ([] when there is none); exit 2 naming the line of a
    bad one."""
    from harness.files import loads_json, validate

    path = Path(out) / REGRADES
    if not path.is_file():
        return []
    records = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        if len(records) >= MAX_RECORDS:
            raise HarnessInputError(f"over {MAX_RECORDS:,} records", path=path, line=n)
        records.append(validate(Regrade, loads_json(line, path=path, line=n), path=path, line=n))
    return records


def apply_regrades(result, feedbacks: dict[str, dict], records: list[Regrade]):
    """``(result, feedbacks)`` with every record applied: the entries' grades (a total override keeps the lines
    and sets the total; a line override sets the line and recomputes the total) and, for each student, the
    feedback's total, lines and ``regrades`` (what was changed, by whom and why). Records of students not on
    the roster are left out (said by the caller)."""
    from harness.grading.rubric import Grade, Line, grade

    rubric = result.assignment.spec.rubric
    by_sid = {e.student.student_id: i for i, e in enumerate(result.entries)}
    entries = list(result.entries)
    feedbacks = dict(feedbacks)
    top = next((e.grade.max_grade for e in entries if e.grade is not None), None)
    for r in records:
        if r.student not in by_sid:
            continue
        i = by_sid[r.student]
        e = entries[i]
        g = e.grade
        if r.rubric_line is not None:
            if g is None or r.rubric_line not in {ln.name for ln in g.lines}:
                continue  # checked when recorded; the rubric or the status changed since: left out
            lines = [Line(ln.name, r.new, ln.max_points, f"overridden by {r.by}: {r.reason}", ln.kind)
                     if ln.name == r.rubric_line else ln for ln in g.lines]
            g = grade(rubric, lines)
        else:
            g = Grade(g.lines if g else (), round(r.new, 2), g.max_grade if g else (top or 0.0))
        note = f"overridden by {r.by} on {r.at[:10]}: {r.reason}"
        entries[i] = replace(e, grade=g, reason=f"{e.reason}; {note}" if e.reason else note)
        fb = feedbacks.get(r.student)
        if fb is not None:
            feedbacks[r.student] = {**fb, "total": g.total, "max_grade": g.max_grade,
                                    "lines": [vars(ln) for ln in g.lines],
                                    "regrades": [*fb.get("regrades", []), r.model_dump(mode="json")]}
    return replace(result, entries=tuple(entries)), feedbacks


def current_value(result, student: str, rubric_line: str | None) -> float | None:
    """The student's total (or one line's points) as the exports show it now; exit 2 for an unknown student or
    line."""
    entry = next((e for e in result.entries if e.student.student_id == student), None)
    if entry is None:
        raise HarnessInputError(f"no student {student!r} in this class (the ids are grades.csv's student_id)",
                                field="--student")
    if rubric_line is None:
        return entry.grade.total if entry.grade is not None else None
    if entry.grade is None:
        raise HarnessInputError(f"{student} has no rubric lines ({entry.status}); override the total instead "
                                "(leave out --rubric-line)", field="--rubric-line")
    points = entry.grade.points()
    if rubric_line not in points:
        raise HarnessInputError(f"no rubric line {rubric_line!r} (the lines: {', '.join(points)})",
                                field="--rubric-line")
    return points[rubric_line]
