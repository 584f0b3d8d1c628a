"""The HTML pages without a browser: what each page contains, what it must never contain, and its size
bound. The browser checks (console, rendering, clicks, screenshots) are in test_pages_browser.py."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from harness.pages import plots
from conftest import tiny_docs, write_golden
from test_gates import make_run

HOSTILE = '<script>window.__pwned = 1</script><img src=x onerror="window.__pwned=2">'


class _Tags(HTMLParser):
    """Every start tag with its attributes, and the text outside tags."""

    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)


def parse(html: str) -> _Tags:
    p = _Tags()
    p.feed(html)
    return p


def hostile_golden(tmp_path):
    docs = tiny_docs()
    for d in docs:
        if d["id"] == "d013":  # a test document the keyword predictor gets wrong (its first word is hostile)
            d["text"] = HOSTILE + "\n" + d["text"]
    return write_golden(tmp_path / "hostile", docs=docs)


@pytest.fixture
def two_runs(tmp_path):
    golden = hostile_golden(tmp_path)
    base = make_run(golden, tmp_path / "results" / "base", name="mlops")
    other = make_run(golden, tmp_path / "results" / "variant", name="llmops", fail_ids={"d012", "d013"})
    return base, other


def test_report_page_sections_and_escaping(two_runs, cli, tmp_path):
    base, other = two_runs
    out = tmp_path / "page" / "report.html"
    code, stdout, _ = cli("report", base, other, "--format", "html", "--out", out)
    assert code == 0 and str(out) in stdout
    html = out.read_text()
    doc = parse(html)
    ids = {a.get("id") for _, a in doc.tags}
    assert {"verdict", "audit", "headline", "classification", "extraction", "latency", "documents"} <= ids
    # the hostile document text is on the page only as text
    assert "<script>window.__pwned" not in html and "&lt;script&gt;window.__pwned = 1&lt;/script&gt;" in html
    assert not any(t == "img" for t, _ in doc.tags)
    scripts = [t for t, _ in doc.tags if t == "script"]
    assert len(scripts) == 1  # the page's own (sorting, filter), nothing from a document
    # self-contained: nothing to fetch when viewed, and a policy that forbids fetching
    for _, attrs in doc.tags:
        for key in ("src", "href"):
            assert not re.match(r"(?i)\s*(https?:)?//", attrs.get(key) or ""), attrs
    assert "default-src 'none'" in html
    # the verdict in words, the audit trail, the paired statistics in sentences
    text = " ".join(doc.text)
    assert "go/no-go" in text and re.search(r"gates\s+fail \(", text)  # the status `harness gates` exits on
    assert "not measurable" in text  # hallucination, cost etc. are not in these runs: said, never a pass
    assert "variant compared with base" in text and "McNemar p =" in text
    assert "64516225" not in text and "tiny" in text  # the runs' own golden set is named
    # the document table: flipped labels of the two runs, each with its text
    assert "label flip" in text and "d012" in text
    svgs = re.findall(r"<svg[^>]*role=\"img\"[^>]*aria-label=\"([^\"]+)\"", html)
    assert len(svgs) >= 4 and all(len(a) > 20 for a in svgs)


def test_report_page_of_one_run_lists_its_errors(tmp_path, cli):
    golden = hostile_golden(tmp_path)
    run = make_run(golden, tmp_path / "results" / "only", fail_ids={"d012"})
    code, stdout, _ = cli("report", run, "--format", "html")
    assert code == 0 and stdout.startswith("<!DOCTYPE html>")
    text = " ".join(parse(stdout).text)
    assert "only: evaluation report" in text and "wrong label" in text and "missed field" in text
    assert "paired" not in text.lower() or "compared with" not in text


def test_document_table_is_capped_with_a_note(two_runs):
    from harness import gates
    from harness.pages.report import report_page

    base, other = (gates.load_run(p) for p in two_runs)
    html = report_page([base, other], gates.load_criteria(), base, doc_limit=1)
    rows = re.findall(r"<tr data-kind=", html)
    assert len(rows) == 1
    assert "more rows not shown" in html and f"harness diff {base.path} {other.path} --format json" in html


def test_report_refuses_nothing_and_bad_baseline(two_runs, cli, tmp_path):
    code, _, err = cli("report", tmp_path / "nowhere", "--format", "html")
    assert code == 2 and "nowhere" in err
    base, other = two_runs
    code, _, err = cli("report", base, other, "--format", "html", "--baseline", tmp_path / "missing")
    assert code == 2 and "missing" in err


def test_leaderboard_page(two_runs, cli, tmp_path):
    base, _ = two_runs
    out = tmp_path / "lb.html"
    code, _, _ = cli("leaderboard", base.parent, "--format", "html", "--out", out)
    html = out.read_text()
    assert code == 0 and '<table class="sortable">' in html
    text = " ".join(parse(html).text)
    assert "Leaderboard: classification accuracy" in text and "higher is better" in text
    assert re.search(r"FAIL|pass", text)


def test_plots_are_svg_with_text_descriptions():
    svg, alt = plots.confusion(["a", "b"], [[3, 1], [0, 4]], "run-x")
    assert svg.startswith("<svg") and 'role="img"' in svg and "a as b: 1" in alt
    svg, alt = plots.latency_cdf({"r": [0.01 * i for i in range(1, 5001)]}, "document latency")
    # 5,000 samples drawn through a bounded number of points: the SVG does not grow with the run
    assert len(svg) < 60_000 and "P95" in alt
    svg, alt = plots.stacked_cost(["a", "b"], {"compute": [0.01, 0.02], "fixed": [0.1, 0.0]}, "USD per document")
    assert "$0.1100" in alt and "$0.0200" in alt
    svg, alt = plots.intervals(["accuracy"], {"a": [(0.9, 0.85, 0.95)], "b": [(None, None, None)]}, "headline")
    assert "accuracy 90.0%" in alt


def test_plots_are_deterministic():
    a = plots.bars(["x", "y"], {"r1": [0.2, 0.9], "r2": [None, 0.5]}, "accuracy per field")
    b = plots.bars(["x", "y"], {"r1": [0.2, 0.9], "r2": [None, 0.5]}, "accuracy per field")
    assert a == b and "r2: x -" in a[1]
