"""The main job as a newcomer runs it (``harness demo``, which ``make demo`` calls), on a smaller subset: it ends
with the pilot criteria, the go/no-go verdict and a report page that opens cleanly in a browser.

Runs the real embedded models (SmolLM2 through llama.cpp, MiniLM + FAISS) on two documents and one question.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

pytest.importorskip("llama_cpp")
pytest.importorskip("sentence_transformers")

from test_pages_browser import SHOTS, Watched  # noqa: E402

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    import contextlib
    import io

    from harness.cli import main

    results = tmp_path_factory.mktemp("demo")
    out, err = io.StringIO(), io.StringIO()  # neither a terminal: progress comes as lines, as in a CI log
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["demo", "--results", str(results), "--subset-per-class", "1", "--subset-limit", "2",
                     "--subset-qa", "1"])
    return code, out.getvalue(), results, err.getvalue()


def test_demo_says_what_it_will_do_and_shows_progress_off_a_terminal(demo):
    """Issue 26, items 1 and 2: the plan and an estimate first; a progress line for every step (not a
    terminal); --subset-limit shrinks only the documents, --subset-qa alone the questions."""
    import json

    err = demo[3]
    assert err.startswith("harness demo: what it will do")
    assert re.search(r"estimate here: about \d+ (s|min)", err)
    assert "LLMOps (the embedded SmolLM2-135M-Instruct on this CPU) on the same subset: 2 documents and 1 questions" in err
    for step in ("mlops:test", "mlops:shift", "llmops:test"):
        assert re.search(rf"^{step}: \d+/\d+ items, starting$", err, re.M), step
        assert re.search(rf"^{step}: (\d+)/\1 items done in ", err, re.M), step
    assert "vector index over the run's" in err
    llm = json.loads((demo[2] / "demo-llmops-test-subset" / "run.json").read_text())
    assert llm["n_items"] == 3  # 2 documents + 1 QA item: the QA option is not cut by the document limit


def test_demo_ends_with_the_verdict_and_a_page(demo):
    code, out, results, _ = demo
    assert code == 0
    assert "Pilot success criteria and go/no-go" in out
    assert re.search(r"go/no-go for demo-llmops-test-subset against demo-mlops-test-subset: (GO|NO-GO|HOLD)", out)
    page = Path(re.search(r"report page \(open it in a browser\): (\S+)", out).group(1))
    assert page == (results / "demo-report.html").resolve() and page.is_file()
    html = page.read_text()
    assert 'id="verdict"' in html and "demo-llmops-test-subset compared with demo-mlops-test-subset" in html
    assert out.rstrip().splitlines()[-1].startswith("next: harness compare")


def test_demo_page_in_browser(demo, browser):
    _, _, results, _ = demo
    w = Watched(browser, results / "demo-report.html")
    page = w.page
    for section in ("verdict", "audit", "headline", "classification", "extraction", "latency", "cost"):
        assert page.locator(f"#{section}").is_visible(), section
    assert page.locator("#audit").inner_text().count("demo-") >= 2
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "demo-report.png"), full_page=True)
    w.check_clean()
