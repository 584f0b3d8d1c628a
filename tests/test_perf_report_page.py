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


def test_p95_of_each_resample_from_the_top_rows_equals_numpy_to_the_bit():
    import numpy as np

    from metrics.statistics import _indices, resampled_percentiles

    rng = np.random.default_rng(11)
    n = 5000  # large enough that the running counts start well above the bottom row
    a, b = rng.lognormal(size=n), np.round(rng.normal(size=n), 1) + 5
    got = resampled_percentiles({"a": a, "b": b}, [95, 99], n_resamples=70, seed=2)
    idx = _indices(n, 70, 2)
    for name, values in (("a", a), ("b", b)):
        want = np.column_stack([np.percentile(values[idx], q, axis=1) for q in (95, 99)])
        assert got[name].tobytes() == want.tobytes(), name


def test_picked_ranks_are_the_same_from_any_starting_row():
    import numpy as np

    from metrics.statistics import _count_blocks, _picked_ranks

    rng = np.random.default_rng(4)
    n = 3000
    order = np.argsort(rng.normal(size=n), kind="stable")
    ranks = np.array([1400, 2849, 2850, 2969])
    for _, counts in _count_blocks(n, 100, 7):
        whole = _picked_ranks(counts, order, ranks, 0)  # every row summed from the bottom
        for first in (1, 1000, 2500, 2849, 2999):  # from the top: below the ranks, and above (counted again)
            assert (_picked_ranks(counts, order, ranks, first) == whole).all(), first
