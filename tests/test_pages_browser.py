"""The pages opened in a real headless browser (Debian's chromium, driven by Playwright): no console errors, no
network request, the sections present, a document's ``<script>`` shown as text and never run, sorting and the
filter working, printable to PDF; screenshots written to ``.test-artifacts/screenshots/`` for a person to look at.

``make test`` installs chromium where it can (as root, with apt-get); elsewhere these tests are skipped with
the reason.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import ROOT
from test_gates import make_run
from test_pages import HOSTILE, hostile_golden

SHOTS = ROOT / ".test-artifacts" / "screenshots"
class Watched:
    """A page with its console errors, uncaught exceptions and every request it made."""

    def __init__(self, browser, path: Path, width: int = 1280):
        self.page = browser.new_page(viewport={"width": width, "height": 900})
        self.errors: list[str] = []
        self.requests: list[str] = []
        self.page.on("console", lambda m: self.errors.append(f"console {m.type}: {m.text}")
                     if m.type in ("error", "warning") else None)
        self.page.on("pageerror", lambda e: self.errors.append(f"uncaught: {e}"))
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.page.goto(path.resolve().as_uri())
        self.page.wait_for_load_state("load")

    def check_clean(self):
        assert self.errors == []
        assert all(u.startswith(("file:", "data:")) for u in self.requests), self.requests
        self.check_layout()

    def check_layout(self):
        """Issue 26: no table runs wider than the page (nothing hidden to the right, no scrolling box needed) and
        no plot's legend covers its axes (a legend sits outside them, so every bar, marker and curve shows)."""
        problems = self.page.evaluate("""() => {
          const out = [];
          const width = document.documentElement.clientWidth;
          for (const t of document.querySelectorAll('table')) {
            const r = t.getBoundingClientRect();
            const box = t.closest('.scroll');
            if (r.right > width + 1 || (box && box.scrollWidth > box.clientWidth + 1))
              out.push(`table "${(t.querySelector('th') || t).textContent.trim().slice(0, 40)}" is ${Math.round(
                box ? box.scrollWidth : r.width)} px wide in ${Math.round(box ? box.clientWidth : width)} px`);
          }
          const area = (a, b) => Math.max(0, Math.min(a.right, b.right) - Math.max(a.left, b.left)) *
                                 Math.max(0, Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top));
          for (const svg of document.querySelectorAll('svg')) {
            const axes = [...svg.querySelectorAll('g[id^="axes_"]')].map(
              g => g.querySelector(':scope > g[id^="patch_"]')).filter(Boolean).map(p => p.getBoundingClientRect());
            for (const leg of svg.querySelectorAll('g[id^="legend_"]')) {
              const l = leg.getBoundingClientRect();
              if (axes.some(a => area(a, l) > 1))
                out.push(`a legend covers the axes of "${(svg.getAttribute('aria-label') || '').slice(0, 60)}"`);
            }
          }
          return out;
        }""")
        assert problems == [], problems


@pytest.fixture
def report(tmp_path, cli):
    golden = hostile_golden(tmp_path)
    base = make_run(golden, tmp_path / "results" / "mlops-base", name="mlops")
    other = make_run(golden, tmp_path / "results" / "llmops-variant", name="llmops", fail_ids={"d012", "d013"})
    out = tmp_path / "report.html"
    code, _, _ = cli("report", base, other, "--format", "html", "--out", out)
    assert code == 0
    return out


def test_report_in_browser(browser, report):
    w = Watched(browser, report)
    page = w.page
    for section in ("verdict", "audit", "headline", "classification", "extraction", "latency", "documents"):
        assert page.locator(f"#{section}").is_visible(), section
    assert page.locator("#verdict .status").first.inner_text() in ("GO", "NO-GO", "HOLD")
    # the hostile document: shown as text once its row is opened, never run
    row = page.locator("#doc-table tbody tr", has_text="d013").first
    row.locator("summary").click()
    assert HOSTILE.split("<img")[0] in row.locator("pre").inner_text()
    assert page.evaluate("window.__pwned === undefined")
    assert page.locator("#documents img").count() == 0
    # sorting: a click on a heading orders the rows and says so
    header = page.locator("#doc-table thead th", has_text="id")
    header.click()
    assert header.get_attribute("aria-sort") == "ascending"
    ids = page.locator("#doc-table tbody tr td:nth-child(2)").all_inner_texts()
    assert ids == sorted(ids)
    header.click()
    assert page.locator("#doc-table tbody tr td:nth-child(2)").all_inner_texts() == sorted(ids, reverse=True)
    # the filter: rows without the text hidden, the count said
    page.fill("#documents input[type=search]", "d012")
    visible = page.locator("#doc-table tbody tr:not(.hidden)")
    assert visible.count() >= 1 and all("d012" in t for t in visible.all_inner_texts())
    assert page.locator("#documents .shown").inner_text() == f"{visible.count()} shown"
    page.fill("#documents input[type=search]", "")
    # every figure is drawn and has a name for screen readers
    figures = page.locator("figure svg[role=img]")
    assert figures.count() >= 4
    for i in range(figures.count()):
        box = figures.nth(i).bounding_box()
        assert box and box["width"] > 200 and box["height"] > 80
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "report-top.png"))
    page.screenshot(path=str(SHOTS / "report-full.png"), full_page=True)
    assert (SHOTS / "report-full.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # printable: the browser's own PDF of the page
    pdf = page.pdf(format="A4")
    assert pdf[:5] == b"%PDF-" and len(pdf) > 20_000
    w.check_clean()


def test_report_on_a_laptop_screen(browser, report):
    w = Watched(browser, report, width=1024)
    page = w.page
    # nothing wider than the window except inside the scrolling table boxes
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0
    w.check_clean()


def test_leaderboard_in_browser(browser, report, cli, tmp_path):
    import json

    # a long prompt variant (four tasks, ids of 60 characters): it wraps, errors and cost stay on screen
    run_json = tmp_path / "results" / "llmops-variant" / "run.json"
    record = json.loads(run_json.read_text())
    record["predictor"]["prompts"] = {t: {"ref": f"{t}-{'with-worked-examples-' * 3}v@7", "sha256": "ab" * 32}
                                      for t in ("classify", "extract", "answer", "summarize")}
    run_json.write_text(json.dumps(record))
    out = tmp_path / "leaderboard.html"
    code, _, _ = cli("leaderboard", tmp_path / "results", "--format", "html", "--out", out)
    assert code == 0
    w = Watched(browser, out)
    page = w.page
    assert page.locator("table.sortable tbody tr").count() == 2
    gates = page.locator("table.sortable tbody .status").all_inner_texts()
    assert all(g.startswith(("pass", "fail (")) for g in gates)  # the status `harness gates` exits on
    page.locator("th", has_text="run").click()
    assert page.locator("table.sortable tbody tr td:nth-child(2)").all_inner_texts() == ["llmops-variant", "mlops-base"]
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "leaderboard.png"), full_page=True)
    w.check_clean()
