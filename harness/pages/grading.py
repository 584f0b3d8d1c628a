"""The grading pages: a student's feedback and the class page (summary + leaderboard), built on the shared
layout and blocks. Context comes from :mod:`harness.grading.feedback` and :mod:`harness.grading.outputs`:
aggregates of the hidden grading split, documents of the dev split only."""

from __future__ import annotations

from typing import Sequence

from harness.grading.rubric import FAILURE_TITLES
from harness.pages import Plot, render, status_kind


def feedback_page(fb: dict, command: str) -> str:
    from harness.grading.markdown import spent_lines

    contents = [("points", "Points"), ("reference", "Against the reference"), ("spent", "Tokens"),
                ("examples", "Dev examples")]
    return render("grading_feedback.html.j2", title=f"{fb['title']}: {fb['name']} ({fb['student_id']})",
                  command=command, subtitle="grading split: aggregate figures only; examples from the dev split",
                  contents=contents, fb=fb, status_word=fb["status"], kind=_kind(fb["status"]),
                  spent=[s[2:] for s in spent_lines(fb)])


def _kind(status: str) -> str:
    return {"graded": "pass", "over budget": "warn"}.get(status, status_kind(status))


def class_page(result, s: dict, board: Sequence[Sequence[str]], command: str, only_board: bool = False) -> str:
    from harness.pages import plots

    spec = result.assignment.spec
    plot = None
    if s["totals"] and not only_board:
        plot = Plot.of(plots.histogram(s["totals"], s["max_grade"] or max(s["totals"]), "grade"))
    rows = [{"id": e.student.student_id, "name": e.student.name, "status": e.status, "kind": _kind(e.status),
             "total": "" if e.grade is None else f"{e.grade.total:.2f}", "reason": e.reason}
            for e in result.entries]
    contents = [] if only_board else [("grades", "Grades"), ("failures", "Failure modes"), ("board", "Leaderboard"),
                                      ("roster", "Roster")]
    title = f"{spec.title or spec.name}: " + ("leaderboard" if only_board else "class summary")
    return render("grading_class.html.j2", title=title, command=command, subtitle=f"assignment {spec.name}",
                  contents=contents, s=s, plot=plot, board=board, rows=rows, only_board=only_board,
                  titles=FAILURE_TITLES)
