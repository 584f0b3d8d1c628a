"""The documentation (issue 27, item 6; issue 26, items 4 and 12): the MkDocs site builds with ``--strict``, every
command page says which extra it needs, the README stays a front door, and every command the README and the
docs show runs as written against the state it implies.

Examples are the lines of fenced ``shell`` blocks (```` ```shell ````) that start with ``harness`` or
``.venv/bin/harness``; a trailing ``# exit N`` says the exit code the text promises (0 otherwise). Synopses and
output go in ``text`` blocks. Each page's examples run in order, in-process through ``harness.cli.main``, in a
copy of a prepared clone: the shipped golden sets and examples, and the demo's ``results/`` made by the same
code paths as ``make demo`` (``harness demo --mlops-only`` for the MLOps runs; the LLMOps subset run on the
Bedrock stand-in instead of the embedded model, which takes minutes a document on a shared machine). Bedrock
examples talk to the loopback stand-in: the test adds its endpoint. What cannot run here is listed in
:data:`NOT_RUN` and :data:`OTHER_PROGRAMS`, each with its reason.
"""

from __future__ import annotations

import contextlib
import html
import importlib.util
import io
import os
import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from conftest import REALDATA, ROOT

DOCS = ROOT / "docs"
README = ROOT / "README.md"
PAGES = [README, *sorted(DOCS.rglob("*.md"))]
SHELL_INFO = {"shell", "sh", "bash", "console"}
PREFIXES = ("harness ", ".venv/bin/harness ")
EXIT = re.compile(r"#\s*exit (\d+)\b")

# harness commands shown in the docs that the suite does not run, by pattern, each with where it is tested
NOT_RUN = {
    r"^run --pipeline llmops(?!.*llm\.provider=bedrock)":
        "the embedded LLM (SmolLM2 through llama.cpp) takes seconds to minutes a call on a shared 2-core machine; "
        "tests/test_llmops_local.py runs the local pipeline on a few items",
    r"^demo(?!.*--mlops-only)":
        "the demo's LLMOps part runs the embedded LLM; tests/test_demo.py runs the demo on a small subset",
    r"^grade (run|check) (?!.*--dry-run)":
        "the example class runs on the embedded LLM (13 minutes for the reference and three students); "
        "tests/test_grading.py grades it",
    r"^grade override ":
        "overrides a class graded by the grade run above (not run here: the embedded LLM); "
        "tests/test_grading_lms.py overrides a graded class",
}
# other programs a shell block may show, each with why the suite does not run it here
OTHER_PROGRAMS = {
    "make": "sets up .venv/ (minutes: torch, a llama.cpp build) and runs the demo or this very suite",
    "pip": "installs packages into an environment: the wheel tests install the core and [bedrock] into fresh ones",
}


@dataclass(frozen=True)
class Block:
    info: str
    line: int  # line number of the block's first content line
    lines: tuple[str, ...]


@dataclass(frozen=True)
class Example:
    page: str
    line: int
    text: str  # the command as shown, continuation lines joined
    argv: tuple[str, ...]
    expect: int
    block: int  # the commands of one block depend on each other (an import, then a run on what it wrote)


def fenced_blocks(text: str) -> list[Block]:
    """Every fenced code block of a Markdown text (```` ``` ```` fences at the start of a line)."""
    blocks, lines, i = [], text.splitlines(), 0
    while i < len(lines):
        m = re.match(r"^```(\S*)", lines[i])
        if m:
            j = i + 1
            while j < len(lines) and not lines[j].startswith("```"):
                j += 1
            blocks.append(Block(m.group(1), i + 2, tuple(lines[i + 1:j])))
            i = j
        i += 1
    return blocks


def commands(block: Block) -> list[tuple[int, str]]:
    """(line, command) for each command of a shell block: continuation lines (ending in a backslash) joined."""
    out, current, start = [], [], 0
    for n, line in enumerate(block.lines, block.line):
        if not current:
            if not line.strip():
                continue
            start = n
        current.append(line.rstrip().removesuffix("\\").strip())
        if not line.rstrip().endswith("\\"):
            out.append((start, " ".join(current)))
            current = []
    return out


def examples(page: Path) -> list[Example]:
    """The harness examples of a page's shell blocks, in the page's order."""
    found = []
    for n, block in enumerate(fenced_blocks(page.read_text(encoding="utf-8"))):
        if block.info not in SHELL_INFO:
            continue
        for line, cmd in commands(block):
            if cmd.startswith(PREFIXES):
                code = EXIT.search(cmd)
                argv = shlex.split(cmd, comments=True)[1:]
                found.append(Example(str(page.relative_to(ROOT)), line, cmd, tuple(argv),
                                     int(code.group(1)) if code else 0, n))
    return found


def not_run_reason(ex: Example) -> str | None:
    joined = " ".join(ex.argv)
    return next((why for pattern, why in NOT_RUN.items() if re.search(pattern, joined)), None)


# ---------------------------------------------------------------------------------------------- the site
def test_the_docs_site_builds_strict(tmp_path):
    """mkdocs build --strict: a broken link or anchor, a missing page or a page left out of the nav fails."""
    if importlib.util.find_spec("mkdocs") is None or importlib.util.find_spec("material") is None:
        pytest.skip("mkdocs and mkdocs-material are not installed (the 'test' extra installs them)")
    site = tmp_path / "site"
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    res = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--config-file",
                          str(ROOT / "mkdocs.yml"), "--site-dir", str(site)],
                         capture_output=True, text=True, env=env, cwd=ROOT, timeout=600)
    assert res.returncode == 0, res.stdout + res.stderr
    assert (site / "reference" / "run" / "index.html").is_file()
    tour = (site / "tour" / "index.html").read_text(encoding="utf-8")  # the README's tour, included
    assert "harness leaderboard results --split test --items all" in html.unescape(re.sub(r"<[^>]+>", "", tour))
    assert 'src="../images/demo-report-verdict.png"' in tour
    assert "Where new things go" in (site / "architecture" / "index.html").read_text(encoding="utf-8")


def _nav_pages(nav) -> list[str]:
    if isinstance(nav, str):
        return [nav]
    if isinstance(nav, dict):
        return [p for v in nav.values() for p in _nav_pages(v)]
    return [p for item in nav for p in _nav_pages(item)]


def test_every_docs_page_is_in_the_nav_and_every_command_page_says_its_extra():
    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text())
    nav = _nav_pages(config["nav"])
    on_disk = sorted(str(p.relative_to(DOCS)) for p in DOCS.rglob("*.md"))
    assert sorted(nav) == on_disk
    for page in sorted((DOCS / "reference").glob("*.md")):
        if page.name != "index.md":
            text = page.read_text(encoding="utf-8")
            assert re.search(r'^!!! info "Extra needed"\n    \S', text, re.M), f"{page.name} does not say its extra"


def test_every_command_is_in_the_readme_table_and_on_a_reference_page():
    """Issue 26, item 12: every command group of `harness --help` (cost and detect were missing) is in the
    README's command table, with the extra it needs, and has a synopsis on a reference page."""
    from harness.cli import build_parser

    sub = next(a for a in build_parser()._actions if a.dest == "command")
    readme_rows = [line for line in README.read_text().splitlines() if line.startswith("| `harness")]
    synopses = "\n".join(p.read_text() for p in (DOCS / "reference").glob("*.md"))
    for name in sub.choices:
        row = next((r for r in readme_rows if re.search(rf"`(harness )?{name}[` ]", r.split("|")[1])), None)
        assert row is not None, f"harness {name} is not in the README's command table"
        assert len([c for c in row.split("|") if c.strip()]) == 4, row  # command, what, extra, page
        assert re.search(rf"^\| `harness {name}[ `]", synopses, re.M), f"no reference synopsis of harness {name}"


# ---------------------------------------------------------------------------------------------- the README
def _slug(heading: str) -> str:
    """Python-Markdown's toc slug of a heading (what MkDocs and the links in these pages use)."""
    text = re.sub(r"[`*]", "", heading).strip().lower()
    text = re.sub(r"[^\w\s-]", "", text)
    return re.sub(r"[-\s]+", "-", text).strip("-")


def _anchors(page: Path) -> set[str]:
    return {_slug(m.group(1)) for m in re.finditer(r"^#+ (.+)$", page.read_text(), re.M)}


def test_the_readme_is_a_front_door_whose_links_resolve():
    text = README.read_text(encoding="utf-8")
    assert len(text.splitlines()) <= 300
    shell = [b for b in fenced_blocks(text) if b.info in SHELL_INFO]
    assert shell[0].lines == ("make demo", "make test")  # the two commands, first
    for marker in ("demo-figures", "tour"):
        assert len(re.findall(rf"^<!-- {marker}:start", text, re.M)) == 1
        assert len(re.findall(rf"^<!-- {marker}:end", text, re.M)) == 1
    demo = text.split("<!-- demo-figures:start")[1].split("<!-- demo-figures:end")[0]
    assert "make demo" in demo and "docs/images/demo-report-verdict.png" in demo  # figures name their command
    for link in re.findall(r"\]\(([^)\s]+)\)", text):
        if link.startswith(("http://", "https://")):
            continue
        path, _, anchor = link.partition("#")
        target = ROOT / path if path else README
        assert target.exists(), f"README links to {link}: no such file"
        if anchor:
            assert anchor in _anchors(target), f"README links to {link}: no such heading"
    install = text.split("## Install")[1].split("\n## ")[0]
    for extra in ("bedrock", "local", "judge", "guardrails", "dask", "all"):
        assert re.search(rf"^- `{extra}`: .*", install, re.M), extra


def test_the_docs_say_what_the_code_does():
    """Issue 26, item 12: no "still to come" beside done features; the rollback page says the hallucination
    window's minimum as the criteria file sets it; the MLOps month's ratio is the benchmark's current one."""
    everything = "\n".join(p.read_text(encoding="utf-8") for p in PAGES)
    assert not re.search(r"still to come|still open|to come\)", everything, re.I)
    criteria = yaml.safe_load((ROOT / "harness" / "criteria" / "techcorp.yaml").read_text())
    window = next(t for t in criteria["rollback_triggers"] if t["kind"] == "window_mean")
    assert f"`min_records: {window['min_records']}`" in (DOCS / "concepts" / "gates.md").read_text()
    assert "9.7x" not in everything and "9.3x classification" in (DOCS / "index.md").read_text()


def test_the_cost_answer_key_in_the_docs_is_what_harness_cost_prints(cli):
    """A deterministic command's figures are checked: every row `harness cost --format md` prints is on the
    cost page as printed (headings one level up there)."""
    code, out, err = cli("cost", "--format", "md")
    assert code == 0, err
    page = (DOCS / "reference" / "cost.md").read_text(encoding="utf-8")
    rows = [line for line in out.splitlines() if line.strip() and not line.startswith("#")]
    assert len(rows) > 40
    assert [r for r in rows if r not in page] == []


# ---------------------------------------------------------------------------------------------- the examples
def test_shell_blocks_hold_only_commands_and_every_command_block_is_a_shell_block():
    """So that an example cannot dodge the run below: a block of commands is tagged `shell` (another block may
    only show a synopsis, with its [options] and PLACEHOLDERS), and a shell block holds nothing but harness
    commands and the programs of OTHER_PROGRAMS."""
    for page in PAGES:
        for block in fenced_blocks(page.read_text(encoding="utf-8")):
            first = next((line for line in block.lines if line.strip()), "")
            if block.info not in SHELL_INFO:  # a block of commands outside shell is a synopsis: [options], FILE
                synopsis = re.search(r"\[|\.\.\.|\b[A-Z][A-Z_]+\b", first)
                assert not first.startswith(PREFIXES) or synopsis, f"{page.name}:{block.line}: not tagged shell"
                continue
            for line, cmd in commands(block):
                program = cmd.split()[0]
                assert cmd.startswith(PREFIXES) or program in OTHER_PROGRAMS, f"{page.name}:{line}: {cmd}"


def test_the_examples_are_found():
    readme = examples(README)
    assert any(ex.argv[:1] == ("leaderboard",) for ex in readme)
    assert sum(len(examples(p)) for p in PAGES) >= 30


@pytest.fixture(scope="module")
def standin():
    sys.path.insert(0, str(ROOT / "tests"))
    from bedrock_standin import BedrockStandIn
    from judge_responder import JudgeResponder
    from test_llmops_bedrock import GoldResponder

    from harness.golden import load_golden_set

    qa = load_golden_set(ROOT / "golden_sets" / "techcorp").items("test", kinds=("qa",))
    responder = JudgeResponder({it.reference_answer: it.question for it in qa}, fallback=GoldResponder())
    with BedrockStandIn(responder=responder) as server:
        yield server


AWS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "testing",
       "AWS_EC2_METADATA_DISABLED": "true", "AWS_DEFAULT_REGION": "us-east-1"}


@contextlib.contextmanager
def _env(**values):
    old = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _harness(argv) -> tuple[int, str]:
    """harness.cli.main in-process: (exit code, what it printed)."""
    from harness.cli import main

    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        try:
            code = main([str(a) for a in argv])
        except SystemExit as exc:  # argparse: a usage error
            code = exc.code if isinstance(exc.code, int) else 2
    return code, out.getvalue()


def _on_standin(argv: tuple[str, ...], url: str) -> list[str]:
    """A Bedrock example pointed at the loopback stand-in (the only change the test makes to an example)."""
    joined = " ".join(argv)
    extra = []
    if "llm.provider=bedrock" in joined:
        extra += ["--set", f"llm.endpoint_url={url}"]
    if "--judge bedrock" in joined:
        extra += ["--set", f"judge.endpoint_url={url}"]
    return [*argv, *extra]


def _share_trained_model(request, root: Path) -> None:
    """The session's MLOps model trained on the default settings (conftest's ``mlops_artifacts``, where the suite
    has one), linked model by model under the clone's artifacts/mlops/, so the demo finds it trained and what
    the examples train goes into the clone's own folders."""
    try:
        shared = request.getfixturevalue("mlops_artifacts") / "mlops"
    except pytest.FixtureLookupError:
        return
    (root / "artifacts" / "mlops").mkdir(parents=True)
    for model in shared.iterdir():
        (root / "artifacts" / "mlops" / model.name).symlink_to(model, target_is_directory=True)


@pytest.fixture(scope="module")
def clone(request, tmp_path_factory, standin):
    """A clone's state after `make demo`: the shipped golden sets and examples, and `results/` with the demo's
    runs (the MLOps ones by `harness demo --mlops-only`, the LLMOps subset run on the Bedrock stand-in, the
    report page by `harness report`)."""
    base = tmp_path_factory.mktemp("docs")
    root = base / "clone"
    _share_trained_model(request, root)
    (root / "golden_sets").mkdir(parents=True)
    for name in ("techcorp", "course", "redteam"):
        (root / "golden_sets" / name).symlink_to(ROOT / "golden_sets" / name)
    (root / "examples").symlink_to(ROOT / "examples")
    if REALDATA.is_dir():
        (base / "shared").symlink_to(REALDATA.parent)
    subset = ["--per-class", "1", "--qa-limit", "12"]  # the demo's subset (harness/cli/run.py, DEMO_SUBSET)
    with contextlib.chdir(root), _env(**AWS):
        for argv in (["demo", "--mlops-only"],
                     ["run", "--pipeline", "llmops", "--split", "test", *subset, "--out",
                      "results/demo-llmops-test-subset", "--no-progress", "--set", "llm.provider=bedrock",
                      "--set", "llm.model_id=claude-3-haiku", "--set", "embeddings.provider=bedrock",
                      "--set", f"llm.endpoint_url={standin.url}"],
                     ["report", "results/demo-mlops-test-subset", "results/demo-llmops-test-subset", "--format",
                      "html", "--out", "results/demo-report.html"]):
            code, out = _harness(argv)
            assert code == 0, f"preparing the demo's state: harness {' '.join(argv)}\n{out[-3000:]}"
    return root


def _page_ids(pages):
    return [str(p.relative_to(ROOT)) for p in pages]


RUN_PAGES = [p for p in PAGES if examples(p)]


@pytest.mark.slow
@pytest.mark.parametrize("page", RUN_PAGES, ids=_page_ids(RUN_PAGES))
def test_the_examples_of_a_page_run_as_written(page, clone, standin, tmp_path):
    """Issue 26, item 4: each example of the page, in order, in a copy of the demo's state, exits as the text
    says (0, or its `# exit N`); an example that stops working fails here, naming page and line."""
    if page.name == "guardrails.md" and page.parent.name == "reference":
        # its checks run the TechCorp guardrail, whose denied topics use the local extra's MiniLM embedder
        pytest.importorskip("sentence_transformers", reason="the guardrails page's examples need the 'local' extra")
    work = tmp_path / "clone"
    shutil.copytree(clone, work, symlinks=True)
    if (clone.parent / "shared").exists():
        (tmp_path / "shared").symlink_to((clone.parent / "shared").resolve())
    failures, ran, absent, skipped_blocks = [], 0, 0, set()
    with contextlib.chdir(work), _env(**AWS):
        for ex in examples(page):
            if not_run_reason(ex) or ex.block in skipped_blocks:
                continue
            if "../shared/realdata" in ex.text and not REALDATA.is_dir():
                absent += 1  # the public samples are absent here (tests/test_realdata.py skips likewise)
                skipped_blocks.add(ex.block)  # and so is what the block's later commands read
                continue
            code, out = _harness(_on_standin(ex.argv, standin.url))
            ran += 1
            if code != ex.expect:
                failures.append(f"{ex.page}:{ex.line}: exit {code}, the text says {ex.expect}: {ex.text}\n"
                                f"{out[-2000:]}")
    assert not failures, "\n\n".join(failures)
    if not ran and absent:
        pytest.skip(f"the public samples are not present at {REALDATA}: {absent} of its examples read them")
    assert ran or all(not_run_reason(ex) for ex in examples(page))


@pytest.mark.slow
def test_python_examples_run(clone, tmp_path):
    """The Python blocks of the docs run as written (the predictor interface's example)."""
    work = tmp_path / "clone"
    shutil.copytree(clone, work, symlinks=True)
    blocks = [(p, b) for p in PAGES for b in fenced_blocks(p.read_text()) if b.info == "python"]
    assert blocks
    with contextlib.chdir(work):
        for page, block in blocks:
            out = io.StringIO()
            with contextlib.redirect_stdout(out):
                exec(compile("\n".join(block.lines), f"{page.name}:{block.line}", "exec"), {"__name__": "__docs__"})
            assert out.getvalue().strip(), f"{page.name}:{block.line} printed nothing"
