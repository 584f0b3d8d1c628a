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
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(["demo", "--results", str(results), "--subset-per-class", "1", "--subset-limit", "2",
                     "--subset-qa", "1"])
    return code, out.getvalue(), results


def test_demo_ends_with_the_verdict_and_a_page(demo):
    code, out, results = demo
    assert code == 0
    assert "Pilot success criteria and go/no-go" in out
    assert re.search(r"go/no-go for demo-llmops-test-subset against demo-mlops-test-subset: (GO|NO-GO|HOLD)", out)
    page = Path(re.search(r"report page \(open it in a browser\): (\S+)", out).group(1))
    assert page == (results / "demo-report.html").resolve() and page.is_file()
    html = page.read_text()
    assert 'id="verdict"' in html and "demo-llmops-test-subset compared with demo-mlops-test-subset" in html
    assert out.rstrip().splitlines()[-1].startswith("next: harness compare")


def test_demo_page_in_browser(demo, browser):
    _, _, results = demo
    w = Watched(browser, results / "demo-report.html")
    page = w.page
    for section in ("verdict", "audit", "headline", "classification", "extraction", "latency", "cost"):
        assert page.locator(f"#{section}").is_visible(), section
    assert page.locator("#audit").inner_text().count("demo-") >= 2
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "demo-report.png"), full_page=True)
    w.check_clean()
