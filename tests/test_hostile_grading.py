"""Issue 25, grading: what a hostile class (or a careless instructor) still broke in ``harness grade``.

Two runs into one ``--out`` (one lock on the whole folder, the holder named, released by a kill -9; another
process's lock is never a student's fault; a reference that fails stops the class), folders that differ only in
letter case, runaway numbers and roster cells, a dry run that checks what the real run reads, Markdown
escaping of values from files, the public grading split, and the smaller ones (unknown criteria ids, reserved
rubric line and student names, U+2028 in a roster cell, the self-check's split labels, unsafe folder names on
the console)."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import zipfile
from pathlib import Path

import pytest
import yaml

pytest.importorskip("boto3")

from bedrock_standin import BedrockStandIn  # noqa: E402
from test_grading import EXAMPLE, ROOT, Responder, bedrock, course, grade, rows  # noqa: E402

from harness.errors import HarnessInputError  # noqa: E402

COURSE_SET = ROOT / "golden_sets" / "course"
pytestmark = pytest.mark.usefixtures("aws_env")


@pytest.fixture(scope="module")
def labels():
    from harness.golden import load_golden_set

    return load_golden_set(COURSE_SET).manifest.labels


@pytest.fixture
def server(labels):
    with BedrockStandIn(responder=Responder(labels)) as s:
        yield s


def _env() -> dict:
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}


def hold(directory: Path):
    """Another process holding ``directory`` the way a harness writer does (flock on ``.writer.lock``, its
    identity written in it); returns the process (kill it to release)."""
    directory.mkdir(parents=True, exist_ok=True)
    code = ("import fcntl, sys, time\n"
            f"fh = open({str(directory / '.writer.lock')!r}, 'a+')\n"
            "fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)\n"
            "fh.seek(0); fh.truncate(); fh.write('another grader, pid %d' % __import__('os').getpid()); fh.flush()\n"
            "print('held', flush=True)\n"
            "time.sleep(300)\n")
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "held"
    return proc


def _kill(proc) -> None:
    proc.kill()
    proc.wait(timeout=30)


def _alice_job(c: Path, out: Path, sets: list[str], student: str | None = "alice"):
    from harness.grading.assignment import load_assignment
    from harness.grading.engine import Job, identity
    from harness.grading.roster import REFERENCE
    from harness.grading.submission import load_submission

    a = load_assignment(c / "assignment.yaml")
    splits = ("grading", "dev")
    if student is None:
        return Job(REFERENCE, str(a.path), None, str(out / REFERENCE), tuple(sets), splits), \
            identity(a.sha256, None, tuple(sets), splits)
    sub = load_submission(student, c / "submissions" / student, a)
    return (Job(student, str(a.path), str(c / "submissions" / student), str(out / "students" / student),
                tuple(sets), splits), identity(a.sha256, sub.sha256, tuple(sets), splits))


# ---------------------------------------------------------------------------------------------- item 1
def test_a_second_grade_run_into_the_same_out_stops_at_once_naming_the_holder(cli, tmp_path, labels):
    """A real ``grade run`` in another process holds OUT (stuck in its first model call): a second run exits 2
    at once naming it (pid, host, start time) and calls no model; after a kill -9 of the first, the rerun
    grades the class as if nothing had happened."""
    started, release = threading.Event(), threading.Event()
    base = Responder(labels)

    def responder(model_id, body):
        if not started.is_set():
            started.set()
            release.wait(60)
        return base(model_id, body)

    c = course(tmp_path)
    out = tmp_path / "out"
    with BedrockStandIn(responder=responder) as s:
        sets = bedrock(s, tmp_path)
        args = ["grade", "run", "--assignment", c / "assignment.yaml", "--submissions", c / "submissions",
                "--roster", c / "roster.csv", "--out", out, "--no-progress"]
        first = subprocess.Popen([sys.executable, "-c", "import sys; from harness.cli import main; "
                                  "sys.exit(main(sys.argv[1:]))", *map(str, args),
                                  *[a for x in sets for a in ("--set", x)]],
                                 env=_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        try:
            assert started.wait(120), "the first run never called the model"
            calls = s.stats.requests
            code, _, err = grade(cli, c, out, sets)
            assert code == 2, err
            line = [x for x in err.splitlines() if x.startswith("error:")]
            assert len(line) == 1 and "another process is writing this grading folder" in line[0], err
            assert f"pid {first.pid} on {socket.gethostname()}, since " in line[0]
            assert s.stats.requests == calls  # the second run called no model
        finally:
            first.send_signal(signal.SIGKILL)
            first.wait(30)
            release.set()
        code, _, err = grade(cli, c, out, sets)
        assert code == 0, err
    status = {r["student_id"]: r["status"] for r in rows(out / "grades.csv")}
    assert status == {"alice": "graded", "bob": "graded", "carol": "graded", "dan": "missing", "mallory": "invalid",
                      "frank": "graded"}
    assert json.loads((out / "reference" / "result.json").read_text())["status"] == "graded"


def test_another_process_in_a_variant_run_is_an_error_not_invalid(tmp_path, server):
    """The issue's failure: a run directory of a variant held by another process made the student ``invalid``
    with the lock's message. Now it is an ``error`` (the instructor's to resolve), not cached, and the variant
    runs once the other process is gone."""
    from harness.grading.engine import run_variant

    c = course(tmp_path)
    sets = bedrock(server, tmp_path)
    out = tmp_path / "out"
    job, ident = _alice_job(c, out, sets)
    holder = hold(out / "students" / "alice" / ident[:12] / "grading")
    try:
        r = run_variant(job)
    finally:
        _kill(holder)
    assert r.status == "error" and "another process" in r.reason and "another grader" in r.reason, r
    assert not (out / "students" / "alice" / "result.json").exists()
    assert run_variant(job).status == "graded"


def test_a_variant_folder_held_by_another_process_is_an_error(tmp_path, server):
    from harness.grading.engine import run_variant

    c = course(tmp_path)
    out = tmp_path / "out"
    job, _ = _alice_job(c, out, bedrock(server, tmp_path))
    holder = hold(out / "students" / "alice")
    try:
        r = run_variant(job)
    finally:
        _kill(holder)
    assert r.status == "error" and "another grader" in r.reason
    assert server.stats.requests == 0


def test_a_reference_that_fails_stops_the_class(cli, tmp_path, server):
    """The reference's run held by another process: exit 2 naming the reference, no grades written, and no
    student run (no student is graded against a missing reference)."""
    c = course(tmp_path)
    sets = bedrock(server, tmp_path)
    out = tmp_path / "out"
    _, ident = _alice_job(c, out, sets, student=None)
    holder = hold(out / "reference" / ident[:12] / "grading")
    try:
        code, _, err = grade(cli, c, out, sets)
    finally:
        _kill(holder)
    assert code == 2, err
    line = [x for x in err.splitlines() if x.startswith("error:")]
    assert len(line) == 1 and "the reference variant was not run" in line[0]
    assert "no student is graded against a missing reference" in line[0] and "another grader" in line[0]
    assert not (out / "grades.csv").exists() and not (out / "feedback").exists()
    assert server.stats.requests == 0
    assert not (out / "students").exists()  # the students were cancelled, not run


def test_a_killed_holder_releases_the_folder(cli, tmp_path):
    """The dry run takes the same lock (it stages a zip under OUT); a holder killed with -9 releases it."""
    c = course(tmp_path)
    out = tmp_path / "out"
    holder = hold(out)
    try:
        code, _, err = grade(cli, c, out, [], "--dry-run")
        assert code == 2 and "another grader" in err
    finally:
        _kill(holder)
    code, _, err = grade(cli, c, out, [], "--dry-run")
    assert code == 0, err


# ---------------------------------------------------------------------------------------------- item 2
def _case_zip(path: Path) -> Path:
    good = (EXAMPLE / "submissions" / "alice" / "classify.yaml").read_bytes()
    bad = (EXAMPLE / "submissions" / "bob" / "classify.yaml").read_bytes()
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("export/good1/classify.yaml", good)
        z.writestr("export/GOOD1/classify.yaml", bad)
        z.writestr("export/other/classify.yaml", good)
    return path


def test_folders_differing_only_in_case_are_both_refused_in_a_zip(tmp_path):
    from harness.grading.assignment import load_assignment
    from harness.grading.submission import discover

    limits = load_assignment(EXAMPLE / "assignment.yaml").spec.limits
    folders, _, invalid = discover(_case_zip(tmp_path / "class.zip"), tmp_path / "staging", limits)
    assert set(folders) == {"other"}
    assert set(invalid) == {"GOOD1", "good1"}
    for reason in invalid.values():
        assert "'GOOD1'" in reason and "'good1'" in reason and "letter case" in reason
    assert sorted(p.name for p in (tmp_path / "staging").iterdir()) == ["other"]  # neither staged


def test_folders_differing_only_in_case_are_both_refused_in_a_folder(tmp_path):
    from harness.grading.assignment import load_assignment
    from harness.grading.submission import discover

    limits = load_assignment(EXAMPLE / "assignment.yaml").spec.limits
    for name in ("good1", "GOOD1", "other"):
        (tmp_path / "subs" / name).mkdir(parents=True)
        (tmp_path / "subs" / name / "classify.yaml").write_bytes((EXAMPLE / "submissions" / "bob" /
                                                                   "classify.yaml").read_bytes())
    folders, _, invalid = discover(tmp_path / "subs", tmp_path / "staging", limits)
    assert set(folders) == {"other"} and set(invalid) == {"GOOD1", "good1"}


def test_an_off_roster_folder_never_takes_a_roster_students_place(cli, tmp_path):
    c = course(tmp_path)
    (c / "roster.csv").write_text("student_id,name,email\ngood1,Good One,g@x\nother,Other,o@x\n")
    code, out, err = cli("grade", "run", "--assignment", c / "assignment.yaml", "--submissions",
                         _case_zip(tmp_path / "class.zip"), "--roster", c / "roster.csv", "--out", tmp_path / "out",
                         "--dry-run")
    assert code == 0, err
    line = next(x for x in out.splitlines() if x.startswith("good1"))
    assert "invalid" in line and "'GOOD1'" in line and "'good1'" in line
    assert "not on the roster, not graded: GOOD1" in err
    assert not (tmp_path / "out" / "staging" / "GOOD1").exists()


def test_roster_ids_differing_only_in_case_are_refused(tmp_path):
    from harness.grading.roster import read_roster

    (tmp_path / "r.csv").write_text("student_id,name,email\ngood1,A,a@x\nGOOD1,B,b@x\n")
    with pytest.raises(HarnessInputError, match=r"r.csv:3: student_id: student 'GOOD1' is also on line 2 as "
                                                r"'good1'"):
        read_roster(tmp_path / "r.csv")


# ---------------------------------------------------------------------------------------------- item 5
def _one_error(cli, *args) -> str:
    code, _, err = cli(*args)
    assert code == 2, err
    assert "Traceback" not in err
    lines = [x for x in err.splitlines() if x.startswith("error:")]
    assert len(lines) == 1, err
    return lines[0]


def _dry(cli, c: Path, tmp_path: Path, roster: Path | None = None) -> str:
    return _one_error(cli, "grade", "run", "--assignment", c / "assignment.yaml", "--submissions",
                      c / "submissions", "--roster", roster or c / "roster.csv", "--out", tmp_path / "out",
                      "--dry-run")


def test_a_roster_cell_over_the_csv_field_limit(cli, tmp_path):
    c = course(tmp_path)
    (c / "roster.csv").write_text("student_id,name,email\nalice,Alice,a@x\nbob," + "B" * 131_073 + ",b@x\n")
    line = _dry(cli, c, tmp_path)
    assert "roster.csv:3:" in line and "a cell over 131,072 characters" in line
    (c / "roster.csv").write_text("student_id,name,email\nalice," + "A" * 300 + ",a@x\n")
    line = _dry(cli, c, tmp_path)
    assert "roster.csv:2: name: 300 characters, over the 256" in line


@pytest.mark.parametrize("old, new, field, bound", [
    ("feedback_examples: 5", "feedback_examples: 5\nlimits: {max_file_bytes: 100000000000000000000}",
     "limits.max_file_bytes", "less than or equal to 16777216"),
    ("feedback_examples: 5", "feedback_examples: 5\nlimits: {max_files: 1000000000000}", "limits.max_files",
     "less than or equal to 1000"),
    ("feedback_examples: 5", "feedback_examples: 5\nlimits: {max_archive_bytes: 100000000000000000000}",
     "limits.max_archive_bytes", "less than or equal to 17179869184"),
    ("feedback_examples: 5", "feedback_examples: 5\nlimits: {max_archive_entries: 10000000000}",
     "limits.max_archive_entries", "less than or equal to 1000000"),
    ("  tokens: 120000", "  tokens: 1000000000000000000000000000000", "budget.tokens",
     "less than or equal to 1000000000000"),
    ("  calls: 200", "  calls: 10000000000", "budget.calls", "less than or equal to 1000000000"),
    ("  wall_s: null", "  wall_s: 1e300", "budget.wall_s", "less than or equal to 10000000"),
    ("      points: 30\n      relative_to", "      points: 1e300\n      relative_to", "rubric.metrics[0].points",
     "less than or equal to 10000"),
    ("      to: 0.90", "      to: 1e300", "rubric.metrics[1].to", "less than or equal to 1000000000"),
    ("[0.02, 20]]", "[0.02, 20], [-1e300, 1]]", "rubric.metrics[2].steps[4][0]",
     "greater than or equal to -1000000000"),
    ("[0.02, 20]]", "[0.02, 20], [.nan, 1]]", "rubric.metrics[2].steps[4][0]", "finite number"),
    ("    points_each: 5", "    points_each: 1e300", "rubric.criteria.points_each", "less than or equal to 10000"),
    ("    points_each: 5", "    points_each: .inf", "rubric.criteria.points_each", "finite number"),
    ("over_budget: 10", "over_budget: 1e300", "rubric.penalties.over_budget", "less than or equal to 10000"),
    ("{per_item: 0.5, max: 5}", "{per_item: 1e300, max: 5}", "rubric.penalties.errors.per_item",
     "less than or equal to 10000"),
    ("{min: 200, max: 1200}", "{min: 200, max: 1e100}", "settings.chunking.chunk_size.max",
     "less than or equal to 1000000000"),
])
def test_every_number_of_the_assignment_is_bounded(cli, tmp_path, old, new, field, bound):
    """Each number of the assignment file has a bound at the boundary, said in the one-line error."""
    c = course(tmp_path)
    text = (c / "assignment.yaml").read_text()
    assert old in text
    (c / "assignment.yaml").write_text(text.replace(old, new, 1))
    line = _dry(cli, c, tmp_path)
    assert re.search(r"assignment\.yaml:\d+: ", line) and f": {field}: " in line and bound in line, line


# ---------------------------------------------------------------------------------------------- item 6
def test_dry_run_checks_the_criteria_file_the_real_run_reads(cli, tmp_path):
    c = course(tmp_path)
    text = (c / "assignment.yaml").read_text()
    (c / "assignment.yaml").write_text(text.replace("    points_each: 5", "    points_each: 5\n"
                                                    "    file: /nonexistent.yaml"))
    n = next(i for i, x in enumerate((c / "assignment.yaml").read_text().splitlines(), 1) if "/nonexistent" in x)
    for extra in (("--dry-run",), ()):
        code, _, err = cli("grade", "run", "--assignment", c / "assignment.yaml", "--submissions", c / "submissions",
                           "--roster", c / "roster.csv", "--out", tmp_path / "out", *extra)
        assert code == 2
        assert f"assignment.yaml:{n}: rubric.criteria.file: criteria file /nonexistent.yaml not found" in err, err
    assert not (tmp_path / "out" / "grades.csv").exists()


def test_dry_run_checks_the_instructors_settings(cli, tmp_path):
    c = course(tmp_path)
    line = _one_error(cli, "grade", "run", "--assignment", c / "assignment.yaml", "--submissions", c / "submissions",
                      "--roster", c / "roster.csv", "--out", tmp_path / "out", "--dry-run", "--set",
                      "retrieval.top_k=banana")
    assert "top_k" in line


# ---------------------------------------------------------------------------------------------- item 7
HOSTILE = "<img src=x onerror=alert(1)>"


def test_feedback_and_summary_markdown_escape_names_and_reasons(cli, tmp_path, server):
    """A roster name and a student's file name carrying HTML: escaped in feedback/<id>.md and summary.md."""
    c = course(tmp_path)
    (c / "roster.csv").write_text(f"student_id,name,email\nalice,\"{HOSTILE}\",a@x\ndan,Dan <b>x</b>,d@x\n")
    (c / "submissions" / "alice" / f"{HOSTILE}.yaml").write_text("x: 1\n")
    (c / "submissions" / "<script>alert(2)<").mkdir()
    code, _, err = grade(cli, c, tmp_path / "out", bedrock(server, tmp_path))
    assert code == 0, err
    fb = (tmp_path / "out" / "feedback" / "alice.md").read_text()
    summary = (tmp_path / "out" / "summary.md").read_text()
    for text in (fb, summary, (tmp_path / "out" / "feedback" / "dan.md").read_text(),
                 (tmp_path / "out" / "leaderboard.md").read_text()):
        assert "<img" not in text and "<script" not in text and "<b>" not in text, text
    assert "&lt;img src=x onerror=alert(1)&gt;" in fb  # the name and the reason, escaped, still readable
    assert "&lt;img src=x onerror=alert(1)&gt;.yaml" in summary and "&lt;script&gt;" in summary


def test_markdown_tables_escape_html_and_pipes():
    from harness.grading.outputs import _md_table

    text = _md_table([["line", "why"], [HOSTILE, "a|b\nc"]])
    assert "<img" not in text and "a\\|b c" in text and text.endswith("|\n")


# ---------------------------------------------------------------------------------------------- item 9
def test_grade_run_warns_when_the_grading_split_is_the_public_one(cli, tmp_path):
    c = course(tmp_path)
    code, _, err = grade(cli, c, tmp_path / "out", [], "--dry-run")
    assert code == 0, err
    warnings = [x for x in err.splitlines() if x.startswith("warning:")]
    assert len(warnings) == 1 and "is public" in warnings[0] and "--seed" in warnings[0]
    # a private set: another seed, another grading split, no warning
    code, _, err = cli("golden", "generate", "--profile", "course", "--seed", "987654321", "--out",
                       tmp_path / "private")
    assert code == 0, err
    text = (c / "assignment.yaml").read_text().replace(str(COURSE_SET), str(tmp_path / "private"))
    (c / "assignment.yaml").write_text(text)
    code, _, err = grade(cli, c, tmp_path / "out2", [], "--dry-run")
    assert code == 0, err
    assert not [x for x in err.splitlines() if x.startswith("warning:")]
    from harness.golden import load_golden_set

    public = {it.text for it in load_golden_set(COURSE_SET).items("grading", kinds=("document",))}
    private = {it.text for it in load_golden_set(tmp_path / "private").items("grading", kinds=("document",))}
    assert len(private) == 24 and not public & private


def test_another_seed_never_overwrites_the_public_set(cli):
    line = _one_error(cli, "golden", "generate", "--profile", "course", "--seed", "5")
    assert "--out" in line and "golden_sets/course" in line


def test_the_public_checksums_are_the_shipped_sets():
    from golden_sets.profiles import PROFILES

    for prof in PROFILES.values():
        manifest = yaml.safe_load((ROOT / prof.out / "manifest.yaml").read_text())
        assert manifest["files"]["documents.jsonl"]["sha256"] == prof.public_sha256
        assert manifest["generator"]["seed"] == prof.seed


def test_the_example_says_a_real_course_needs_a_private_split():
    text = (EXAMPLE / "assignment.yaml").read_text()
    assert "private" in text and "--seed" in text
    readme = (ROOT / "docs" / "guides" / "grading.md").read_text()  # moved from the README (issue 27, item 6)
    assert re.search(r"grading split must come from a private seed or a private set", readme)


# ---------------------------------------------------------------------------------------------- item 10
def test_unknown_criteria_ids_are_refused_naming_the_known_ones(cli, tmp_path):
    c = course(tmp_path)
    text = (c / "assignment.yaml").read_text()
    (c / "assignment.yaml").write_text(text.replace("    points_each: 5", "    points_each: 5\n"
                                                    "    ids: [classification_accuracy, no_such_thing]"))
    line = _dry(cli, c, tmp_path)
    assert "rubric.criteria.ids[1]: unknown criterion 'no_such_thing'" in line
    assert "classification_accuracy" in line and "hallucination_rate" in line


def test_a_criterion_of_an_ungraded_task_is_refused(cli, tmp_path):
    c = course(tmp_path)
    text = (c / "assignment.yaml").read_text().replace("tasks: [classify, extract, answer]", "tasks: [classify]")
    text = re.sub(r"(?s)    - name: extraction.*?\n(    - name: grounded)", r"\1", text)
    text = re.sub(r"(?s)    - name: grounded answers.*?steps: \[\[.*?\]\]\n", "", text)
    text = text.replace("    points_each: 5", "    points_each: 5\n    ids: [field_extraction_accuracy]")
    (c / "assignment.yaml").write_text(text)
    line = _dry(cli, c, tmp_path)
    assert "criterion 'field_extraction_accuracy' measures extraction" in line


@pytest.mark.parametrize("name", ["total", "Status", "errors", "rank"])
def test_reserved_rubric_line_names_are_refused(cli, tmp_path, name):
    c = course(tmp_path)
    text = (c / "assignment.yaml").read_text().replace("- name: extraction ", f"- name: {name} ", 1)
    (c / "assignment.yaml").write_text(text)
    line = _dry(cli, c, tmp_path)
    assert f"rubric.metrics[1].name: '{name}' is a name the outputs use" in line


def test_a_quoted_roster_cell_with_a_line_separator_is_accepted(tmp_path):
    from harness.grading.roster import read_roster

    (tmp_path / "r.csv").write_text('student_id,name,email\nalice,"Alice\u2028Martin",a@x\nbob,"Bob\nN",b@x\n'
                                    "carol,Carol,c@x\n", encoding="utf-8")
    r = read_roster(tmp_path / "r.csv")
    assert [(s.student_id, s.name) for s in r] == [("alice", "Alice\u2028Martin"), ("bob", "Bob\nN"),
                                                    ("carol", "Carol")]
    (tmp_path / "r.csv").write_text('student_id,name,email\nalice,"A\nB",a@x\nalice,C,c@x\n')
    with pytest.raises(HarnessInputError, match="r.csv:4: student_id: student 'alice' is also on line 2"):
        read_roster(tmp_path / "r.csv")


def test_the_self_check_labels_dev_figures_as_dev(cli, tmp_path, server):
    c = course(tmp_path)
    code, out, err = cli("grade", "check", c / "submissions" / "bob", "--assignment", c / "assignment.yaml",
                         "--out", tmp_path / "check", *[a for s in bedrock(server, tmp_path) for a in ("--set", s)])
    assert code == 0, err
    headings = [x for x in out.splitlines() if x.startswith("#")]
    assert any("(dev split, aggregate figures only)" in h for h in headings), headings
    assert not [h for h in headings if "grading split" in h and "stays hidden" not in h], headings


def test_unsafe_folder_names_are_reported_on_the_console_and_in_the_dry_run(cli, tmp_path):
    c = course(tmp_path)
    (c / "submissions" / "bad name!").mkdir()
    code, _, err = grade(cli, c, tmp_path / "out", [], "--dry-run")
    assert code == 0, err
    assert "not graded: folder 'bad name!' is not a safe student id" in err


@pytest.mark.parametrize("sid", ["reference", "Reference"])
def test_a_student_called_reference_is_refused(tmp_path, sid):
    from harness.grading.roster import read_roster

    (tmp_path / "r.csv").write_text(f"student_id,name,email\nalice,A,a@x\n{sid},R,r@x\n")
    with pytest.raises(HarnessInputError, match=f"r.csv:3: student_id: student id '{sid}' is reserved"):
        read_roster(tmp_path / "r.csv")


# ---------------------------------------------------------------------------------------------- beyond the list
def test_a_reference_over_the_budget_is_said_not_silent(tmp_path):
    from harness.grading import reference_checked
    from harness.grading.engine import VariantResult

    said = []
    reference_checked(VariantResult("reference", "over budget", "over budget: 6,100 tokens of 6,000"), tmp_path,
                      said.append)
    assert len(said) == 1 and said[0].startswith("warning: the reference variant went over the per-student budget")
    with pytest.raises(HarnessInputError, match="the reference variant was not run .invalid: bad"):
        reference_checked(VariantResult("reference", "invalid", "bad"), tmp_path, said.append)


@pytest.mark.parametrize("flag, value", [("--workers", "1000000000"), ("--threads", "0")])
def test_workers_and_threads_are_bounded(cli, tmp_path, flag, value):
    c = course(tmp_path)
    line = _one_error(cli, "grade", "run", "--assignment", c / "assignment.yaml", "--submissions", c / "submissions",
                      "--roster", c / "roster.csv", "--out", tmp_path / "out", "--dry-run", flag, value)
    assert f"{flag}: must be between 1 and 256" in line


def test_out_inside_the_submissions_is_refused(cli, tmp_path):
    c = course(tmp_path)
    line = _one_error(
        cli, "grade", "run", "--assignment", c / "assignment.yaml", "--submissions", c / "submissions", "--roster",
        c / "roster.csv", "--out", c / "submissions" / "graded", "--dry-run")
    assert "--out: is inside --submissions" in line
    assert not (c / "submissions" / "graded").exists()
