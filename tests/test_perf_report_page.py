"""Issue 32, row 2 (session of 2026-12-07): the report page of two month-sized runs built faster, the same
page. Each speed-up is checked against the form it replaces or against what it must leave unchanged."""

from __future__ import annotations

import gc

from test_pages import two_runs  # noqa: F401 - the fixture: two runs of a small golden set, one failing two


def test_the_page_is_built_without_a_collection_and_leaves_the_collector_on(two_runs):  # noqa: F811
    from harness import gates
    from harness.pages.report import report_page

    base, other = (gates.load_run(p) for p in two_runs)
    report_page([base, other], gates.load_criteria(), base)  # imports and caches warmed up
    collections = []

    def count(phase, info):
        if phase == "start":
            collections.append(info["generation"])

    criteria = gates.load_criteria()
    gc.collect()
    gc.callbacks.append(count)
    try:
        html = report_page([base, other], criteria, base)
        during = len(collections)
    finally:
        gc.callbacks.remove(count)
    assert "<svg" in html and "Documents" in html
    # no collection walked the runs' predictions while the page was built (82 before): at most the one young
    # generation's collection the build's allocations trigger as the collector comes back on
    assert during <= 1 and set(collections) <= {0}
    assert gc.isenabled()
