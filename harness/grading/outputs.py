"""The one writer of a graded class's files in ``OUT``:

* ``grades.csv``: roster order; id, name, points per rubric line, total, status, reason (instructor's file);
* ``gradebook.csv``: a Canvas-style import (Student, SIS Login ID, Section, one column named after the
  assignment);
* ``gradescope/<id>/results.json``: Gradescope's autograder shape (``score``, ``tests[]``);
* ``leaderboard.md|csv|html``: students ranked by total;
* ``feedback/<id>.md|html``: per student (see :mod:`harness.grading.feedback`: nothing of the hidden split but
  aggregates);
* ``summary.md|html``: grade distribution, statuses, common failure modes, submissions not on the roster.

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
    names = list(result.line_names)
    rows = [["student_id", "name", *names, "total", "status", "reason"]]
    for e in result.entries:
        pts = e.grade.points() if e.grade else {}
        rows.append([e.student.student_id, e.student.name, *[_pts(pts.get(n)) for n in names], _total(e), e.status,
                     e.reason])
    return rows


def gradebook_rows(result) -> list[list[str]]:
    col = result.assignment.spec.name
    rows = [["Student", "SIS Login ID", "Section", col]]
    rows += [[e.student.name, e.student.login, e.student.section, _total(e)] for e in result.entries]
    return rows


def gradescope(entry, max_grade: float) -> dict:
    """One student's ``results.json`` in Gradescope's autograder shape."""
    tests = []
    if entry.grade is not None:
        for line in entry.grade.lines:
            t = {"name": line.name, "score": round(line.points, 2), "output": line.reason, "visibility": "visible"}
            if line.kind != "penalty":
                t["max_score"] = round(line.max_points, 2)
            tests.append(t)
    out = f"status: {entry.status}" + (f" ({entry.reason})" if entry.reason else "")
    return {"score": round(entry.grade.total, 2) if entry.grade else 0.0, "output": out, "tests": tests,
            "visibility": "after_published", "stdout_visibility": "hidden",
            "extra_data": {"status": entry.status, "max_grade": max_grade}}


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
    """The class summary: counts by status, totals, common failure modes (aggregates only)."""
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
            "problems": list(result.problems)}


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


def write_all(result, out: Path, feedbacks: dict[str, dict], command: str) -> list[Path]:
    """Write every output file; returns their paths."""
    from harness.grading.markdown import feedback_md, summary_md
    from harness.pages.grading import class_page, feedback_page

    out = Path(out)
    written = [write_page(out / "grades.csv", _csv(grades_rows(result))),
               write_page(out / "gradebook.csv", _csv(gradebook_rows(result)))]
    top = summary(result)["max_grade"] or 0.0
    for e in result.entries:
        written.append(write_page(out / "gradescope" / e.student.student_id / "results.json",
                                  dumps_json(gradescope(e, top), indent=2) + "\n"))
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
