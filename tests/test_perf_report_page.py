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

    from metrics.resamples import _indices, resampled_percentiles

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

    from metrics.resamples import _count_blocks, _picked_ranks

    rng = np.random.default_rng(4)
    n = 3000
    order = np.argsort(rng.normal(size=n), kind="stable")
    ranks = np.array([1400, 2849, 2850, 2969])
    for _, counts in _count_blocks(n, 100, 7):
        whole = _picked_ranks(counts, order, ranks, 0)  # every row summed from the bottom
        for first in (1, 1000, 2500, 2849, 2999):  # from the top: below the ranks, and above (counted again)
            assert (_picked_ranks(counts, order, ranks, first) == whole).all(), first


def test_field_outcomes_equal_normalising_every_value_one_by_one():
    from harness.golden import load_golden_set
    from metrics.extraction import outcome_columns_of_runs
    from metrics.normalize import normalize_value
    from conftest import ROOT

    golden = load_golden_set(ROOT / "golden_sets" / "techcorp")
    docs = golden.items("test", kinds=("document",))[:120]
    schema = golden.manifest.fields
    gold = [d.fields for d in docs]
    # the gold values as they are (strings and lists of strings the same as gold), reordered lists, lists of
    # numbers, blank strings and values from the next document
    odd = ([2, 1], [1.0], ["  "], " ", "", 0, 0.0, -0.0, ["B", "a"])
    runs = [[dict(d.fields) for d in docs],
            [{k: (list(reversed(v)) if isinstance(v, list) else odd[(i + j) % len(odd)] if (i + j) % 3 == 0 else v)
              for j, (k, v) in enumerate(d.fields.items())} for i, d in enumerate(docs)],
            [None if i % 5 == 0 else dict(docs[(i + 1) % len(docs)].fields) for i in range(len(docs))]]

    def outcome(g, p, spec):
        gn, pn = normalize_value(g, spec.type, spec), normalize_value(p, spec.type, spec)
        return ("empty" if pn is None else "spurious") if gn is None else ("correct" if pn == gn else "wrong")

    got = outcome_columns_of_runs(gold, runs, schema)
    for run, columns in zip(runs, got):
        assert columns == {name: [outcome(g.get(name), (p or {}).get(name), spec) for g, p in zip(gold, run)]
                           for name, spec in schema.items()}


def test_plots_drawn_in_a_second_process_are_the_plots_drawn_here():
    import os

    import pytest

    from harness.pages import plots
    from harness.pages.figures import Figures

    if (os.cpu_count() or 1) < 2:
        pytest.skip("one core: the plots are always drawn here")
    calls = [("bars", (["a", "b"], {"r1": [0.5, None], "r2": [0.25, 1.0]}, "accuracy"), {}),
             ("latency_cdf", ({"r1": [0.01 * (i % 97 + 1) for i in range(5000)], "r2": [0.2, 0.3]}, "doc latency"), {}),
             ("confusion", (["x", "y"], [[3, 1], [0, 4]], "r1"), {})]
    with Figures() as beside:
        drawn = [beside.add(name, *args, **kwargs) for name, args, kwargs in calls]
        beside.start(beside=True)
        assert beside._proc is not None  # a second process is drawing them
        given = beside._out
        beside.finish()
    assert not os.path.exists(given)  # the plots' numbers handed over in a file, removed once drawn
    here = plots.draw_calls(calls)
    assert [(str(p.svg), p.alt) for p in drawn] == [(svg, alt) for svg, alt in here]
    assert str(drawn[1].svg).startswith("<svg") and "doc latency" in drawn[1].alt


def test_a_plot_the_second_process_cannot_draw_is_drawn_here_with_its_own_error():
    import pytest

    from harness.pages.figures import Figures

    with Figures() as figures:
        figures.add("bars", ["a"], {"r": [0.5]}, "ok")
        figures.add("no_such_plot")
        figures.start(beside=True)
        with pytest.raises(KeyError, match="no_such_plot"):
            figures.finish()
