"""The grading pieces that need no model: the assignment file's checks, the roster, rubric points, budgets and
the gradebook exports."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.errors import HarnessInputError
from harness.grading.assignment import load_assignment
from harness.grading.budget import Spent, spent_by
from harness.grading.roster import read_roster
from harness.grading.rubric import Line, failure_kind, grade, linear_points, metric_line, penalty_lines, step_points

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = ROOT / "golden_sets" / "course"
BASE = f"""name: a1
golden: {GOLDEN}
tasks: [classify]
rubric:
  metrics:
    - {{name: cls, metric: classification.macro_f1, points: 10, from: 0.0, to: 1.0}}
"""


def write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "assignment.yaml"
    p.write_text(text)
    return p


def test_the_example_assignment_loads():
    a = load_assignment(ROOT / "examples" / "course" / "assignment.yaml")
    assert a.name == "techcorp-prompts-1" and a.golden_dir.resolve() == GOLDEN.resolve()
    assert a.spec.tasks == ["classify", "extract", "answer"] and a.spec.budget.tokens == 120000


@pytest.mark.parametrize("change, where, problem", [
    ("tasks: [classify]\nsettings: {llm.model_path: {min: 0, max: 1}}", "settings", "not a setting students may change"),
    ("dev_split: grading", None, "must differ"),
    ("name: ../x", "name", "cannot be used as a name"),
    ("golden: /nonexistent/golden", "golden", "not found"),
])
def test_assignment_errors_name_the_file_line_and_field(tmp_path, change, where, problem):
    key = change.split(":", 1)[0]
    text = "\n".join(line for line in BASE.splitlines() if not line.startswith(key + ":")) + "\n" + change + "\n"
    with pytest.raises(HarnessInputError) as e:
        load_assignment(write(tmp_path, text))
    assert problem in str(e.value) and str(tmp_path / "assignment.yaml") in str(e.value)
    if where:
        assert where in str(e.value)


@pytest.mark.parametrize("line, problem", [
    ("{name: x, metric: nope.metric, points: 5, from: 0, to: 1}", "unknown metric"),
    ("{name: x, metric: classification.n, points: 5, from: 0, to: 1}", "no better direction"),
    ("{name: x, metric: extraction.accuracy, points: 5, from: 0, to: 1}", "does not grade"),
    ("{name: x, metric: classification.accuracy, points: 5, from: 0.5, to: 0.5}", "must differ"),
    ("{name: x, metric: classification.accuracy, points: 5, from: 0, to: 1, steps: [[0.5, 2]]}", "either"),
    ("{name: x, metric: classification.accuracy, points: 5, steps: [[0.5, 9]]}", "between 0 and the line's points"),
    ("{name: cls, metric: classification.accuracy, points: 5, from: 0, to: 1}", "unique"),
])
def test_rubric_lines_are_checked(tmp_path, line, problem):
    with pytest.raises(HarnessInputError, match=problem):
        load_assignment(write(tmp_path, BASE + f"    - {line}\n"))


def test_points_linear_steps_and_relative():
    assert linear_points(0.5, 0.0, 1.0, 10) == 5.0
    assert linear_points(2.0, 0.0, 1.0, 10) == 10.0 and linear_points(-1, 0.0, 1.0, 10) == 0.0
    assert step_points(0.03, [(0.2, 5), (0.05, 10), (0.02, 20)], higher_is_better=False) == 10.0
    assert step_points(0.9, [(0.95, 5)], higher_is_better=True) == 0.0
    from harness.grading.assignment import MetricLine

    rel = MetricLine(name="c", metric="classification.macro_f1", points=30, relative_to="reference",
                     **{"from": -0.1, "to": 0.1})
    assert metric_line(rel, 0.80, 0.75).points == 22.5
    assert "reference 75.0%" in metric_line(rel, 0.80, 0.75).reason
    assert metric_line(rel, 0.80, None).points == 0 and "no figure" in metric_line(rel, 0.80, None).reason
    assert metric_line(rel, None, 0.75).points == 0


def test_penalties_and_the_total_stay_between_zero_and_the_maximum(tmp_path):
    a = load_assignment(write(tmp_path, BASE + "  penalties:\n    invalid_output: {per_item: 1, max: 3}\n"
                              "    errors: {per_item: 2, max: 4}\n    over_budget: 5\n"))
    pens = penalty_lines(a.spec.rubric, {"invalid_output": 10, "model_error": 1, "over_budget": 3}, True)
    assert [(p.name, p.points) for p in pens] == [("invalid outputs", -3), ("errors", -4), ("over budget", -5)]
    g = grade(a.spec.rubric, [Line("cls", 4.0, 10.0, ""), *pens])
    assert g.total == 0.0 and g.max_grade == 10.0
    g = grade(a.spec.rubric, [Line("cls", 10.0, 10.0, "")])
    assert g.total == 10.0


def test_failure_kinds_never_keep_the_message():
    assert failure_kind("invalid model output: label 'INVOICE 123 ACME' is not one of the labels") == "invalid_output"
    assert failure_kind("blocked by input guardrail: document: pii") == "guardrail_blocked"
    assert failure_kind("model call failed: ReadTimeout") == "model_error"
    assert failure_kind("something else") == "other_error"


def test_budget_counts_in_order_and_says_which_limit():
    from harness.grading.assignment import Budget

    b = Budget(tokens=100, calls=3)
    assert Spent(100, 3).over(b) is None
    assert Spent(101, 1).over(b) == "over budget: 101 tokens of 100"
    assert Spent(50, 4).over(b) == "over budget: 4 calls of 3"
    assert spent_by([]) == Spent()


@pytest.mark.parametrize("text, problem", [
    ("id,name\n", "missing column 'student_id'"),
    ("student_id,name,email,shoe_size\n", "unknown column"),
    ("student_id,name,email\na,A,a@x\na,B,b@x\n", "also on line 2"),
    ("student_id,name,email\n../etc,A,a@x\n", "cannot be used as a name"),
    ("student_id,name,email\na,,a@x\n", "empty name"),
    ("student_id,name,email\na,A\n", "2 cells where the header has 3"),
    ("student_id,name,email\n", "no students"),
])
def test_roster_errors_name_the_line(tmp_path, text, problem):
    p = tmp_path / "roster.csv"
    p.write_text(text)
    with pytest.raises(HarnessInputError, match=problem):
        read_roster(p)


def test_roster_keeps_file_order_and_optional_columns(tmp_path):
    p = tmp_path / "roster.csv"
    p.write_text("\ufeffstudent_id,name,email,section,sis_login_id\nz1,Zoe,z@x,B,zoe01\na1,Abe,a@x,A,\n")
    r = read_roster(p)
    assert [s.student_id for s in r] == ["z1", "a1"]
    assert (r[0].login, r[1].login, r[0].section) == ("zoe01", "a@x", "B")


def test_csv_cells_are_never_formulas():
    from harness.render import csv_cell as _cell

    assert _cell("=HYPERLINK(\"http://x\")") == "'=HYPERLINK(\"http://x\")"
    assert _cell("-3.50") == "-3.50" and _cell("@x") == "'@x"
