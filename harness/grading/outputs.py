"""The one writer of a graded class's files in ``OUT``:

* ``grades.csv``: roster order; id, name, points per rubric line, total, status, reason (instructor's file);
* ``gradebook.csv``: Canvas's gradebook import (:func:`gradebook_rows`);
* ``gradescope/<id>/results.json``: Gradescope's autograder results (:func:`gradescope`);
* ``leaderboard.md|csv|html``: students ranked by total;
* ``feedback/<id>.md|html``: per student (see :mod:`harness.grading.feedback`: nothing of the hidden split but
  aggregates);
* ``summary.md|html``: grade distribution, statuses, common failure modes, submissions not on the roster;
* ``class.json``: the graded class as computed (before overrides), what ``harness grade override`` rewrites the
  exports from; ``regrades.jsonl``: the overrides, append-only (:mod:`harness.grading.regrades`), applied to
  every export.

Numbers are written with two decimals and no time or date, so the same grades give the same bytes.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from pathlib import Path
from typing import Sequence

from harness.files import dumps_json
from harness.pages import write_page
from harness.render import csv_cell, md_text, table

GRADED = ("graded", "over budget")


def _pts(v: float | None) -> str:
    return "" if v is None else f"{v:.2f}"


def _csv(rows: Sequence[Sequence[str]]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    for row in rows:
        w.writerow([str(csv_cell(c)) for c in row])
    return buf.getvalue()


def _total(e) -> str:
    if e.grade is not None:
        return _pts(e.grade.total)
    return "" if e.status == "error" else "0.00"  # an error needs the instructor; missing and invalid score 0


def grades_rows(result) -> list[list[str]]:
    """grades.csv; with a due time, two more columns: ``submitted_at`` and ``lateness`` (the sentence)."""
    from harness.grading.deadlines import describe

    names = list(result.line_names)
    lateness = result.extra.get("lateness")
    due = lateness is not None and result.assignment.spec.due is not None
    rows = [["student_id", "name", *names, "total", "status", "reason"] + (["submitted_at", "lateness"] if due
                                                                           else [])]
    for e in result.entries:
        pts = e.grade.points() if e.grade else {}
        row = [e.student.student_id, e.student.name, *[_pts(pts.get(n)) for n in names], _total(e), e.status,
               e.reason]
        if due:
            lt = lateness.get(e.student.student_id)
            row += [(lt["submitted"] or "") if lt else "", describe(lt, result.assignment.spec) if lt else ""]
        rows.append(row)
    return rows


POINTS_POSSIBLE = "    Points Possible"  # as Canvas's own export writes the row (the importer strips it)


def gradebook_rows(result, max_grade: float | None = None) -> list[list[str]]:
    """``gradebook.csv`` in the form Canvas's gradebook importer reads (Canvas Community, "How do I import grades
    in the Gradebook?" and its export, Grades > Export): the student columns ``Student, ID, SIS User ID, SIS
    Login ID, Section`` in that order (the importer matches a row to its student by ``ID``, then by the SIS
    ids, and by name only when they are empty), a ``Points Possible`` row (it sets a new column's points), and
    one column for the assignment: the export's ``Title (assignment id)`` when the roster was a Canvas export
    with that column (Canvas then updates that assignment), else the assignment's name (a new column). An error
    leaves the cell empty (the importer leaves the grade as it is)."""
    from harness.grading.roster import CANVAS_COLUMNS

    spec = result.assignment.spec
    roster = result.extra.get("roster")
    col = (roster.column_for(spec.title, spec.name) if roster is not None else None) or spec.name
    canvas = roster is not None and roster.form == "canvas"
    rows = [[*CANVAS_COLUMNS, col], [POINTS_POSSIBLE, "", "", "", "", _pts(max_grade)]]
    for e in result.entries:
        s = e.student
        rows.append([s.name, s.canvas_id, s.sis_user_id, s.sis_login_id if canvas else s.login, s.section,
                     _total(e)])
    return rows


def gradescope(entry, max_grade: float, visibility: str = "after_published",
               leaderboard: list[dict] | None = None) -> dict:
    """One student's ``results.json`` per Gradescope's autograder specification
    (gradescope-autograders.readthedocs.io/en/latest/specs/, "Output format"): ``score``, ``output``,
    ``visibility``, ``stdout_visibility``, ``tests[]`` (``name``, ``score``, ``max_score``, ``status``,
    ``visibility``, ``output``), ``leaderboard`` (``name``, ``value``, ``order``) and ``extra_data``.

    ``visibility`` is the assignment's ``feedback.visibility`` and goes on every test as well as the top level:
    a test's own visibility overrides the top level's, so one ``visible`` test would show its points before the
    instructor publishes. Outputs are the rubric's reasons: aggregate figures only."""
    tests = []
    if entry.grade is not None:
        for line in entry.grade.lines:
            full = line.points >= line.max_points if line.kind != "penalty" else line.points >= 0
            t = {"name": line.name, "score": round(line.points, 2), "max_score": round(line.max_points, 2),
                 "status": "passed" if full else "failed", "visibility": visibility, "output": line.reason}
            tests.append(t)
    out = f"status: {entry.status}" + (f" ({entry.reason})" if entry.reason else "")
    return {"score": round(entry.grade.total, 2) if entry.grade else 0.0, "output": out,
            "visibility": visibility, "stdout_visibility": "hidden", "tests": tests,
            "leaderboard": list(leaderboard or ()),
            "extra_data": {"status": entry.status, "max_grade": max_grade}}


def headline(assignment, entry) -> list[dict]:
    """Gradescope's leaderboard entries of one student: the total, then each metric line's measured value on
    the grading split (aggregates), ``order`` from the metric's better direction."""
    from metrics.registry import lookup

    from harness.store import load_run

    board = [{"name": "total", "value": round(entry.grade.total, 2) if entry.grade else 0.0, "order": "desc"}]
    run = None
    if entry.variant is not None and "grading" in entry.variant.runs:
        try:
            run = load_run(entry.variant.runs["grading"])
        except Exception:  # noqa: BLE001 - a run folder gone since: the leaderboard keeps the total
            run = None
    for m in assignment.spec.rubric.metrics:
        value = run.value(m.metric) if run is not None else None
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            board.append({"name": m.name, "value": round(float(value), 4),
                          "order": "desc" if lookup(m.metric).higher_is_better else "asc"})
    return board


def leaderboard_rows(result) -> list[list[str]]:
    graded = sorted((e for e in result.entries if e.grade is not None),
                    key=lambda e: (-e.grade.total, e.student.student_id))
    rows = [["rank", "student_id", "total", *result.line_names, "status"]]
    rank, prev = 0, None
    for i, e in enumerate(graded, start=1):
        if e.grade.total != prev:
            rank, prev = i, e.grade.total
        pts = e.grade.points()
        rows.append([str(rank), e.student.student_id, _pts(e.grade.total), *[_pts(pts.get(n)) for n in
                                                                                   result.line_names], e.status])
    return rows


def _md_table(rows: Sequence[Sequence[str]]) -> str:
    """A Markdown table of ``rows`` (the first is the header), every cell escaped (:func:`harness.render.md_cell`)."""
    return table(rows[0], rows[1:], "md") + "\n"


def summary(result) -> dict:
    """The class summary: counts by status, totals, common failure modes, the deadline's figures (aggregates
    only)."""
    from harness.grading.deadlines import standing

    totals = [e.grade.total for e in result.entries if e.grade is not None]
    statuses = Counter(e.status for e in result.entries)
    failures: Counter = Counter()
    for e in result.entries:
        if e.variant is not None:
            for kind, n in e.variant.failures.get("grading", {}).items():
                failures[kind] += n
    criteria: Counter = Counter()
    for e in result.entries:
        for line in (e.grade.lines if e.grade else ()):
            if line.kind == "criteria" and "not met: " in line.reason:
                criteria.update(line.reason.split("not met: ", 1)[1].split(", "))
    invalid: Counter = Counter(_reason_kind(e.reason) for e in result.entries if e.status == "invalid")
    variants = [e.variant for e in result.entries if e.variant is not None] + ([result.reference]
                                                                               if result.reference else [])
    spent = [s for v in variants for s in v.spent.values()]
    costs = [s.get("cost_usd") for s in spent if isinstance(s.get("cost_usd"), (int, float))]
    top = result.entries[0].grade.max_grade if result.entries and result.entries[0].grade else None
    top = next((e.grade.max_grade for e in result.entries if e.grade), top)
    return {"n_roster": len(result.entries), "statuses": dict(sorted(statuses.items())), "totals": totals,
            "max_grade": top, "mean": round(sum(totals) / len(totals), 2) if totals else None,
            "median": _median(totals), "failures": failures.most_common(), "criteria_failed": criteria.most_common(),
            "invalid_reasons": invalid.most_common(), "not_on_roster": list(result.not_on_roster),
            "tokens": sum(x["tokens"] for x in spent), "calls": sum(x["calls"] for x in spent),
            "cost_usd": round(sum(costs), 6) if costs else None, "variants_run": len(variants),
            "problems": list(result.problems),
            "deadline": standing(result.assignment, result.entries, result.extra.get("lateness")),
            "similar": result.extra.get("similar"),
            "checks": None if result.extra.get("checks") is None else
            [(e.student.student_id, result.extra["checks"].get(e.student.student_id, {}).get("checks", 0))
             for e in result.entries]}


def _reason_kind(reason: str) -> str:
    """The reason without the file-specific part (``a.yaml: user: ...`` -> ``user: ...``)."""
    parts = reason.split(": ")
    return ": ".join(parts[1:3]) if len(parts) > 2 else reason


def _median(xs: list[float]) -> float | None:
    if not xs:
        return None
    s = sorted(xs)
    m = len(s) // 2
    return round(s[m] if len(s) % 2 else (s[m - 1] + s[m]) / 2, 2)


STATE = "class.json"


def write_all(result, out: Path, feedbacks: dict[str, dict], command: str, info=None) -> list[Path]:
    """Write every output file, the overrides of ``regrades.jsonl`` applied (``info`` is told how many were
    kept); returns their paths."""
    from harness.grading.regrades import apply_regrades, read_regrades

    out = Path(out)
    written = [write_page(out / STATE, dumps_json(state_json(result, feedbacks, command)) + "\n")]
    records = read_regrades(out)
    if records:
        result, feedbacks = apply_regrades(result, feedbacks, records)
        if info is not None:
            on = {e.student.student_id for e in result.entries}
            kept = [r for r in records if r.student in on]
            info(f"kept {len(kept)} grade override{'s' * (len(kept) != 1)} from {out / 'regrades.jsonl'} (every "
                 "export shows them)" + (f"; {len(records) - len(kept)} of students no longer on the roster left "
                                         "out" if len(kept) < len(records) else ""))
    return written + _exports(result, out, feedbacks, command)


def _exports(result, out: Path, feedbacks: dict[str, dict], command: str) -> list[Path]:
    from harness.grading.markdown import feedback_md, summary_md
    from harness.pages.grading import class_page, feedback_page

    top = summary(result)["max_grade"] or 0.0
    written = [write_page(out / "grades.csv", _csv(grades_rows(result))),
               write_page(out / "gradebook.csv", _csv(gradebook_rows(result, top)))]
    visibility = result.assignment.spec.feedback.visibility
    for e in result.entries:
        written.append(write_page(out / "gradescope" / e.student.student_id / "results.json",
                                  dumps_json(gradescope(e, top, visibility, headline(result.assignment, e)),
                                             indent=2) + "\n"))
    board = leaderboard_rows(result)
    written += [write_page(out / "leaderboard.csv", _csv(board)),
                write_page(out / "leaderboard.md", f"# Leaderboard: {md_text(result.assignment.spec.name)}\n\n"
                           + _md_table(board))]
    s = summary(result)
    written.append(write_page(out / "summary.md", summary_md(result, s, _md_table)))
    written.append(write_page(out / "summary.html", class_page(result, s, board, command)))
    written.append(write_page(out / "leaderboard.html", class_page(result, s, board, command, only_board=True)))
    for sid, fb in feedbacks.items():
        written.append(write_page(out / "feedback" / f"{sid}.md", feedback_md(fb, _md_table)))
        written.append(write_page(out / "feedback" / f"{sid}.html", feedback_page(fb, command)))
    return written


def state_json(result, feedbacks: dict[str, dict], command: str) -> dict:
    """The graded class as plain data (``class.json``): what :func:`load_state` reads back."""
    from dataclasses import asdict

    def grade(g):
        return None if g is None else {"lines": [vars(ln) for ln in g.lines], "total": g.total,
                                       "max_grade": g.max_grade}

    roster = result.extra.get("roster")
    extra = {k: v for k, v in result.extra.items() if k != "roster"}
    return {"assignment": str(Path(result.assignment.path).resolve()), "assignment_sha256": result.assignment.sha256,
            "command": command, "line_names": list(result.line_names), "not_on_roster": list(result.not_on_roster),
            "problems": list(result.problems),
            "reference": result.reference.to_json() if result.reference else None,
            "roster": {"form": roster.form, "assignment_columns": roster.assignment_columns} if roster else None,
            "extra": extra,
            "entries": [{"student": asdict(e.student), "status": e.status, "reason": e.reason,
                         "variant": e.variant.to_json() if e.variant else None, "grade": grade(e.grade)}
                        for e in result.entries],
            "feedbacks": feedbacks}


def load_state(out: Path):
    """``(result, feedbacks, command)`` of the class graded into ``out`` (its ``class.json``); exit 2 when there
    is none or the assignment file changed since."""
    from harness.files import read_json
    from harness.grading.assignment import load_assignment
    from harness.grading.classroom import ClassResult, Entry
    from harness.grading.engine import VariantResult
    from harness.grading.roster import Roster, Student
    from harness.grading.rubric import Grade, Line

    path = Path(out) / STATE
    if not path.is_file():
        from harness.errors import HarnessInputError

        raise HarnessInputError(f"no graded class here (no {STATE}): run harness grade run --out {out} first",
                                path=out)
    d = read_json(path, "graded class")
    assignment = load_assignment(d["assignment"])
    if assignment.sha256 != d["assignment_sha256"]:
        from harness.errors import HarnessInputError

        raise HarnessInputError("the assignment file changed since the class was graded: run harness grade run "
                                "again first (the overrides are kept)", path=assignment.path)

    def grade(g):
        return None if g is None else Grade(tuple(Line(**ln) for ln in g["lines"]), g["total"], g["max_grade"])

    entries = tuple(Entry(Student(**e["student"]), e["status"], e["reason"],
                          VariantResult.from_json(e["variant"]) if e["variant"] else None, grade(e["grade"]))
                    for e in d["entries"])
    extra = dict(d.get("extra") or {})
    if d.get("roster"):
        extra["roster"] = Roster(tuple(e.student for e in entries), d["roster"]["form"],
                                 d["roster"]["assignment_columns"])
    result = ClassResult(assignment, entries, VariantResult.from_json(d["reference"]) if d["reference"] else None,
                         tuple(d["not_on_roster"]), tuple(d["problems"]), tuple(d["line_names"]), extra)
    return result, d["feedbacks"], d["command"]


def override(out: Path, student: str, points: float, reason: str, rubric_line: str | None, by: str):
    """Record one override in ``OUT/regrades.jsonl`` (append-only) and write every export again with it, under
    the folder's lock (a ``grade run`` writing the same folder stops the second). Returns the record."""
    from datetime import datetime, timezone

    from harness.files import validate
    from harness.grading.regrades import REGRADES, Regrade, apply_regrades, current_value, read_regrades
    from harness.locks import hold_directory

    out = Path(out)
    with hold_directory(out, "harness grade override", noun="grading folder"):
        result, feedbacks, command = load_state(out)
        applied, _ = apply_regrades(result, feedbacks, read_regrades(out))
        old = current_value(applied, student, rubric_line)
        at = datetime.now(timezone.utc).replace(microsecond=0).isoformat()
        record = validate(Regrade, {"student": student, "rubric_line": rubric_line, "old": old, "new": points,
                                    "reason": reason, "by": by, "at": at})
        with open(out / REGRADES, "a", encoding="utf-8") as fh:  # append-only: earlier records never rewritten
            fh.write(dumps_json(record.model_dump(mode="json")) + "\n")
        write_all(result, out, feedbacks, command)
    return record
