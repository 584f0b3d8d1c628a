"""Grading a class end to end: the shipped example class (examples/course) through the real LLMOps pipeline
and the real langchain-aws client against the loopback Bedrock stand-in; grades, gradebook exports, feedback,
the no-leak rule, budgets, resume, and the same grades.csv from either executor and any number of workers."""

from __future__ import annotations

import csv
import json
import re
import shutil
import zipfile
from pathlib import Path

import pytest

pytest.importorskip("boto3")

from bedrock_standin import BedrockStandIn, user_text  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "course"
HAIKU = "anthropic.claude-3-haiku-20240307-v1:0"
pytestmark = pytest.mark.usefixtures("aws_env")

STUDENT_FACING = ("feedback", "gradescope", "leaderboard.md", "leaderboard.csv", "leaderboard.html")


class Responder:
    """A deterministic, prompt-sensitive stand-in model: it classifies by the document's title line when the
    prompt shows the document (and answers the first label when it does not), extracts the document number,
    and answers a question with the first retrieved passage's first line."""

    def __init__(self, labels):
        self.labels = list(labels)

    def __call__(self, model_id, body):
        text = user_text(body)
        if ", ".join(self.labels) in text:
            doc = text.rsplit("Document:", 1)[1] if "Document:" in text else ""
            head = doc.lower().replace(" ", "_")[:300]
            for label in sorted(self.labels, key=len, reverse=True):
                if len(doc) > 40 and label in head:
                    return json.dumps({"label": label})
            return json.dumps({"label": self.labels[0]})
        if "document_number (" in text:
            m = re.search(r"(?:No\.|Number|#)\s*:?\s*([A-Z]{2,4}-[0-9A-Z-]+)", text)
            return json.dumps({"document_number": m.group(1) if m else None})
        m = re.search(r"\[([^\]]+)\]\s*(.+)", text)
        return json.dumps({"answer": m.group(2)[:80] if m else "not found", "citations": [m.group(1)] if m else []})


@pytest.fixture(scope="module")
def labels():
    from harness.golden import load_golden_set

    return load_golden_set(ROOT / "golden_sets" / "course").manifest.labels


@pytest.fixture
def server(labels):
    with BedrockStandIn(responder=Responder(labels)) as s:
        yield s


@pytest.fixture(scope="module")
def graded(labels, tmp_path_factory):
    """The example class graded once with 2 workers (read by the tests that only look at the outputs)."""
    from harness.cli import main

    tmp = tmp_path_factory.mktemp("graded")
    with pytest.MonkeyPatch.context() as mp, BedrockStandIn(responder=Responder(labels)) as s:
        for k, v in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                     "AWS_EC2_METADATA_DISABLED": "true", "AWS_DEFAULT_REGION": "us-east-1"}.items():
            mp.setenv(k, v)
        c = course(tmp)
        args = ["grade", "run", "--assignment", c / "assignment.yaml", "--submissions", c / "submissions",
                "--roster", c / "roster.csv", "--out", tmp / "out", "--no-progress", "--workers", "2",
                "--times", c / "times.csv", "--extensions", c / "extensions.csv"]
        for x in bedrock(s, tmp):
            args += ["--set", x]
        import contextlib
        import io

        err = io.StringIO()
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            code = main([str(a) for a in args])
        assert code == 0, err.getvalue()
    return tmp / "out", err.getvalue()


def course(tmp_path: Path, **changes) -> Path:
    """A copy of the example class whose assignment points at the committed course set (absolute path)."""
    dest = tmp_path / "course"
    shutil.copytree(EXAMPLE, dest)
    text = (dest / "assignment.yaml").read_text()
    text = text.replace("../../golden_sets/course", str(ROOT / "golden_sets" / "course"))
    for key, value in changes.items():
        text = re.sub(rf"(?m)^(\s*){key}: .*$", rf"\g<1>{key}: {value}", text, count=1)
    (dest / "assignment.yaml").write_text(text)
    return dest


def bedrock(server, tmp_path, cache=True) -> list[str]:
    sets = ["llm.provider=bedrock", f"llm.model_id={HAIKU}", f"llm.endpoint_url={server.url}",
            "embeddings.provider=bedrock", f"cache.dir={tmp_path / 'cache'}", f"index_dir={tmp_path / 'index'}"]
    return sets + ([] if cache else ["cache.enabled=false"])


def grade(cli, c: Path, out: Path, sets, *extra):
    args = ["grade", "run", "--assignment", c / "assignment.yaml", "--submissions", c / "submissions", "--roster",
            c / "roster.csv", "--out", out, "--no-progress", *extra]
    for s in sets:
        args += ["--set", s]
    return cli(*args)


def rows(path: Path) -> list[dict]:
    return list(csv.DictReader(path.read_text().splitlines()))


def test_example_class_graded_with_every_output(graded):
    o, err = graded
    g = rows(o / "grades.csv")
    assert [r["student_id"] for r in g] == ["alice", "bob", "carol", "dan", "mallory", "frank"]  # roster order
    status = {r["student_id"]: r["status"] for r in g}
    assert status == {"alice": "graded", "bob": "graded", "carol": "graded", "dan": "missing", "mallory": "invalid",
                      "frank": "graded"}
    reasons = {r["student_id"]: r["reason"] for r in g}
    assert "classify.yaml" in reasons["mallory"] and len(reasons["mallory"]) < 250
    total = {r["student_id"]: float(r["total"]) for r in g}
    assert total["alice"] > total["bob"]  # bob's prompt forgot the document: worse classification
    # the example's deadline: bob 25.5 h late (2 days started: -10), carol within her extension, frank unknown
    late = {r["student_id"]: r["late"] for r in g}
    assert (late["bob"], late["carol"], late["alice"], late["frank"]) == ("-10.00", "0.00", "0.00", "0.00")
    assert "extension: 2 days" in next(r["lateness"] for r in g if r["student_id"] == "carol")
    assert total["dan"] == 0 and total["mallory"] == 0
    assert list(g[0]) == ["student_id", "name", "classification", "extraction", "grounded answers",
                          "pilot criteria", "invalid outputs", "errors", "over budget", "late", "total", "status",
                          "reason", "submitted_at", "lateness"]
    assert "not on the roster, not graded: eve" in err
    book = rows(o / "gradebook.csv")
    assert list(book[0]) == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "techcorp-prompts-1"]
    assert book[0]["Student"].strip() == "Points Possible"  # Canvas's import: tests/test_grading_lms.py
    assert book[1]["Student"] == "Alice Martin" and book[1]["SIS Login ID"] == "alice@example.edu"
    gs = json.loads((o / "gradescope" / "alice" / "results.json").read_text())
    assert gs["score"] == total["alice"]
    assert {t["name"] for t in gs["tests"]} >= {"classification", "extraction", "grounded answers"}
    assert all({"name", "score", "output", "visibility"} <= set(t) for t in gs["tests"])
    for name in ("leaderboard.md", "leaderboard.csv", "leaderboard.html", "summary.md", "summary.html",
                 "feedback/alice.md", "feedback/alice.html", "feedback/dan.md", "feedback/mallory.html"):
        assert (o / name).is_file(), name
    summary = (o / "summary.md").read_text()
    assert "eve" in summary and "invalid" in summary
    assert "- alice and frank (classify prompt): 1.000" in summary  # the flagged pair: alice's sentences moved around
    assert "1 late (10 points of late penalties)" in summary and "1 with an extension" in summary
    fb = (o / "feedback" / "bob.md").read_text()
    assert "Examples from the dev split" in fb and "classify" in fb and "McNemar" in fb
    assert "tokens in" in fb


def _grading_secrets() -> tuple[set[str], set[str]]:
    """Ids and distinctive lines of the hidden split (lines that occur in no dev item)."""
    from harness.golden import load_golden_set

    g = load_golden_set(ROOT / "golden_sets" / "course")
    dev_text = "\n".join((it.text or "") + (it.question or "") for it in g.items("dev"))
    ids, lines = set(), set()
    for it in g.items("grading"):
        ids.add(it.id)
        for line in ((it.text or "") + "\n" + (it.question or "")).splitlines():
            line = line.strip()
            if len(re.sub(r"[^A-Za-z0-9]", "", line)) >= 12 and line not in dev_text:
                lines.add(line)
    return ids, lines


def test_no_student_facing_file_shows_the_hidden_split(graded):
    out = graded[0]
    ids, lines = _grading_secrets()
    assert ids and lines
    files = [p for name in STUDENT_FACING for p in ((out / name).rglob("*") if (out / name).is_dir() else [out / name])
             if p.is_file()]
    assert len(files) > 10
    for p in files:
        text = p.read_text()
        leaked = [i for i in ids if re.search(rf"\b{re.escape(i)}\b", text)]
        assert not leaked, f"{p} names grading items {leaked[:3]}"
        shown = [line for line in lines if line in text]
        assert not shown, f"{p} shows grading text {shown[:2]}"
    # the feedback does show dev documents (the examples come from somewhere)
    assert re.search(r"\bdoc-000(0[1-9]|1[0-2])\b", (out / "feedback" / "bob.md").read_text())


def test_same_grades_from_dask_and_a_zip_and_on_rerun(cli, tmp_path, server):
    c = course(tmp_path)
    sets = bedrock(server, tmp_path)
    assert grade(cli, c, tmp_path / "local", sets)[0] == 0
    first = (tmp_path / "local" / "grades.csv").read_bytes()
    # the same class as a learning platform's zip, on a Dask LocalCluster of 2 worker processes
    archive = tmp_path / "class.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for p in sorted((c / "submissions").rglob("*")):
            if p.is_file():
                z.write(p, "submissions/" + p.relative_to(c / "submissions").as_posix())
    code, _, err = cli("grade", "run", "--assignment", c / "assignment.yaml", "--submissions", archive, "--roster",
                       c / "roster.csv", "--out", tmp_path / "dask", "--no-progress", "--executor", "dask",
                       "--workers", "2", *[a for s in sets for a in ("--set", s)])
    assert code == 0, err
    assert (tmp_path / "dask" / "grades.csv").read_bytes() == first
    # a rerun into the same folder reuses every variant and writes the same bytes
    assert grade(cli, c, tmp_path / "local", sets)[0] == 0
    assert (tmp_path / "local" / "grades.csv").read_bytes() == first


def test_budget_stops_a_variant_at_the_same_item_whatever_the_order(cli, tmp_path, server):
    c = course(tmp_path, tokens=6000)
    sets = bedrock(server, tmp_path)
    assert grade(cli, c, tmp_path / "a", sets, "--workers", "2")[0] == 0
    g = {r["student_id"]: r for r in rows(tmp_path / "a" / "grades.csv")}
    assert g["alice"]["status"] == "over budget" and g["alice"]["reason"].startswith("over budget: ")
    assert float(g["alice"]["over budget"]) == -10
    # graded again alone and in the other order, with everything cached: the same stop, the same grade
    c2 = course(tmp_path / "again", tokens=6000)
    (c2 / "roster.csv").write_text("student_id,name,email\ncarol,Carol Okafor,c@x\nalice,Alice Martin,alice@x\n")
    assert grade(cli, c2, tmp_path / "b", sets)[0] == 0
    g2 = {r["student_id"]: r for r in rows(tmp_path / "b" / "grades.csv")}
    assert (g2["alice"]["total"], g2["alice"]["reason"]) == (g["alice"]["total"], g["alice"]["reason"])
    preds = [json.loads(x) for x in next((tmp_path / "a" / "students" / "alice").glob("*/grading/predictions.jsonl"))
             .read_text().splitlines()]
    stopped = [p for p in preds if any((t.get("error") or "").startswith("over budget") for t in p["tasks"].values())]
    assert stopped and len(stopped) < len(preds)


def test_a_killed_class_resumes_without_redoing_graded_work(cli, tmp_path, server):
    c = course(tmp_path)
    sets = bedrock(server, tmp_path, cache=False)
    assert grade(cli, c, tmp_path / "out", sets)[0] == 0
    first = (tmp_path / "out" / "grades.csv").read_bytes()
    calls = server.stats.requests
    # as if killed while grading carol: her result is gone and half her grading run
    carol = tmp_path / "out" / "students" / "carol"
    (carol / "result.json").unlink()
    run = next(carol.glob("*/grading"))
    lines = (run / "predictions.jsonl").read_text().splitlines(keepends=True)
    (run / "predictions.jsonl").write_text("".join(lines[: len(lines) // 2]))
    assert grade(cli, c, tmp_path / "out", sets)[0] == 0
    assert (tmp_path / "out" / "grades.csv").read_bytes() == first
    redone = server.stats.requests - calls
    assert 0 < redone < calls / 4  # only carol's missing half, nothing of the others


def test_dry_run_plans_without_calling_a_model(cli, tmp_path, server):
    c = course(tmp_path)
    code, out, _ = grade(cli, c, tmp_path / "out", bedrock(server, tmp_path), "--dry-run")
    assert code == 0
    assert server.stats.requests == 0
    assert "reference" in out and "alice" in out and "missing" in out and "invalid" in out
    assert "dry run: no model was called" in out
    assert not (tmp_path / "out" / "grades.csv").exists()


def test_student_self_check_on_the_dev_split(cli, tmp_path, server):
    c = course(tmp_path)
    args = ["grade", "check", c / "submissions" / "bob", "--assignment", c / "assignment.yaml", "--out",
            tmp_path / "check"]
    for s in bedrock(server, tmp_path):
        args += ["--set", s]
    code, out, err = cli(*args)
    assert code == 0, err
    assert "dev split" in out and "classification" in out and "## Points" in out
    code, out, err = cli("grade", "check", c / "submissions" / "mallory", "--assignment", c / "assignment.yaml",
                         "--out", tmp_path / "check2")
    assert code == 1 and "invalid" in err and "classify.yaml" in err


def test_grading_pages_in_a_browser(graded, browser):
    from test_pages_browser import SHOTS, Watched

    out = graded[0]
    for name, sections in (("summary.html", ("grades", "failures", "board", "roster")),
                           ("leaderboard.html", ("board",)),
                           ("feedback/bob.html", ("points", "reference", "spent", "examples"))):
        w = Watched(browser, out / name)
        w.check_clean()
        for sid in sections:
            assert w.page.locator(f"section#{sid}").count() == 1, (name, sid)
        if name == "summary.html":
            assert w.page.locator("figure svg[role=img]").count() == 1  # the grade distribution
            w.page.locator("#board th", has_text="total").click()  # sortable
        assert w.page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
        SHOTS.mkdir(parents=True, exist_ok=True)
        w.page.screenshot(path=str(SHOTS / f"grading-{name.replace('/', '-')}.png"), full_page=True)
        w.page.close()


@pytest.mark.slow
def test_self_check_on_the_embedded_local_model(cli, tmp_path):
    """The student's command on the real local model (SmolLM2 through llama.cpp), classification only."""
    pytest.importorskip("llama_cpp")  # the local extra
    (tmp_path / "a.yaml").write_text(f"""name: local-check
golden: {ROOT / 'golden_sets' / 'course'}
tasks: [classify]
rubric:
  metrics:
    - {{name: classification, metric: classification.accuracy, points: 10, relative_to: reference, from: -0.2, to: 0.2}}
  criteria: {{points_each: 2}}
""")
    code, out, err = cli("grade", "check", EXAMPLE / "submissions" / "bob", "--assignment", tmp_path / "a.yaml",
                         "--out", tmp_path / "check", "--set", "llm.n_threads=2")
    assert code == 0, err
    assert "| classification |" in out and "classify: classify@2 (yours)" in out
    assert "Classification accuracy" in out  # the pilot criterion, met or not
    runs = list((tmp_path / "check").glob("*/*/dev/predictions.jsonl"))
    assert len(runs) == 2 and all(len(p.read_text().splitlines()) == 12 for p in runs)
