"""Metrics: normalisers, scikit-learn agreement, definitions, empty-input policy, directions."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, precision_recall_fscore_support

from metrics import (classification_scores, extraction_scores, higher_is_better, latency_summary, normalize_value,
                     throughput)


@pytest.mark.parametrize("text,order,iso", [
    ("2024-03-05", "mdy", "2024-03-05"), ("03/05/2024", "mdy", "2024-03-05"), ("03/05/2024", "dmy", "2024-05-03"),
    ("25/12/2023", "mdy", "2023-12-25"), ("05.03.2024", "mdy", "2024-03-05"), ("March 5, 2024", "mdy", "2024-03-05"),
    ("5 March 2024", "mdy", "2024-03-05"), ("05-Mar-2024", "mdy", "2024-03-05"), ("Mar 5 2024", "mdy", "2024-03-05"),
    ("12-01-19", "dmy", "2019-01-12"), ("1st April 2025", "mdy", "2025-04-01"), ("Sept. 9, 2022", "mdy", "2022-09-09"),
])
def test_dates(text, order, iso):
    assert normalize_value(text, "date", SimpleNamespace(date_order=order)) == iso


def test_unparseable_date_stays_a_string():
    assert normalize_value("sometime in May", "date") == "sometime in may"
    assert normalize_value("2024-02-30", "date") == "2024-02-30"  # not a calendar date: kept, never equal to ISO


@pytest.mark.parametrize("text,value", [
    ("USD 1,234.50", "1234.50"), ("$1,234.5", "1234.50"), ("1.234,50 EUR", "1234.50"), ("EUR 1 234,50", "1234.50"),
    ("1234.50 USD", "1234.50"), ("£0.99", "0.99"), ("(12.00)", "-12.00"), ("-7", "-7.00"), ("1,234", "1234.00"),
    ("12,5", "12.50"), ("CHF 1'234.00", "1234.00"), ("33.90", "33.90"), (42, "42.00"),
])
def test_money(text, value):
    assert normalize_value(text, "money") == value


@pytest.mark.parametrize("text", ["9" * 40, "USD 123456789012345678901234567890.12"])
def test_money_too_large_to_round_is_compared_as_text(text):
    """A model's output once crashed a whole grading run here (decimal.InvalidOperation)."""
    assert normalize_value(text, "money") == normalize_value(text, "string")


def test_strings_enums_lists():
    assert normalize_value("  Acme   LTD. ", "string") == "acme ltd"
    spec = SimpleNamespace(values=["USD", "Net 30"], aliases={"USD": ["$"], "Net 30": ["30 days net"]})
    assert normalize_value("$", "enum", spec) == "USD"
    assert normalize_value("30 Days  Net", "enum", spec) == "Net 30"
    assert normalize_value("NET30", "enum", spec) == "Net 30"
    assert normalize_value(["B-2", "a-1", "b-2"], "list") == ("a-1", "b-2")
    assert normalize_value("", "string") is None and normalize_value([], "list") is None


def test_classification_agrees_with_sklearn():
    rng = np.random.default_rng(0)
    labels = ["a", "b", "c", "d"]
    y_true = list(rng.choice(labels, 300))
    y_pred = [t if rng.random() < 0.7 else str(rng.choice(labels[:3])) for t in y_true]  # "d" under-predicted
    r = classification_scores(y_true, y_pred, labels=labels)
    assert r.accuracy == pytest.approx(accuracy_score(y_true, y_pred))
    assert r.macro_f1 == pytest.approx(f1_score(y_true, y_pred, labels=labels, average="macro", zero_division=0))
    assert r.weighted_f1 == pytest.approx(f1_score(y_true, y_pred, labels=labels, average="weighted",
                                                   zero_division=0))
    p, rec, f, s = precision_recall_fscore_support(y_true, y_pred, labels=labels, zero_division=0)
    for i, lab in enumerate(labels):
        assert (r.per_class[lab].precision, r.per_class[lab].recall, r.per_class[lab].f1, r.per_class[lab].support) \
            == pytest.approx((p[i], rec[i], f[i], s[i]))
    assert np.array_equal(np.array(r.confusion_matrix), confusion_matrix(y_true, y_pred, labels=labels))


def test_classification_failed_predictions_count_as_wrong():
    r = classification_scores(["a", "b", "a", "b"], ["a", None, "a", "zzz"], labels=["a", "b"])
    assert r.accuracy == 0.5 and r.per_class["b"].recall == 0.0
    assert r.per_class["b"].precision == 0.0  # never predicted: zero_division policy
    # "b" has no support: its recall is the zero_division value
    assert classification_scores(["a"], ["b"], labels=["a", "b"], zero_division=1.0).per_class["b"].recall == 1.0


def test_empty_inputs_are_not_measurable():
    assert classification_scores([], []).accuracy is None
    e = extraction_scores([], [], {"x": SimpleNamespace(type="string")})
    assert e.accuracy is None and e.spurious_rate is None
    assert latency_summary([]).p95 is None and throughput(5, 0) is None


def test_extraction_definitions():
    schema = {"n": SimpleNamespace(type="string"), "d": SimpleNamespace(type="date", date_order="mdy"),
              "m": SimpleNamespace(type="money")}
    gold = [{"n": "A-1", "d": "2024-01-02", "m": None}, {"n": "B-2", "d": None, "m": "5.00"}]
    pred = [{"n": "a-1", "d": "01/02/2024", "m": "3.00"}, {"n": "B-3", "d": None, "m": "$5"}]
    r = extraction_scores(gold, pred, schema)
    # gold values: A-1 (right), 2024-01-02 (right), B-2 (wrong), 5.00 (right) -> 3/4
    assert (r.n_gold, r.n_correct, r.accuracy) == (4, 3, 0.75)
    # null gold: m in doc 1 (value predicted: spurious), d in doc 2 (none predicted)
    assert (r.n_null_gold, r.n_spurious, r.spurious_rate) == (2, 1, 0.5)
    assert r.per_field["n"].accuracy == 0.5 and r.per_field["m"].spurious_rate == 1.0
    assert r.per_field["d"].spurious_rate == 0.0
    missing = extraction_scores(gold, [None, None], schema)
    assert missing.accuracy == 0.0 and missing.spurious_rate == 0.0


def test_latency_matches_numpy():
    values = list(np.random.default_rng(1).exponential(0.2, 1000))
    s = latency_summary(values)
    assert (s.p50, s.p95, s.p99) == pytest.approx(tuple(np.percentile(values, [50, 95, 99])))
    assert s.mean == pytest.approx(np.mean(values)) and s.n == 1000
    assert throughput(100, 4.0) == 25.0


def test_results_are_immutable():
    r = classification_scores(["a"], ["a"])
    with pytest.raises(AttributeError):
        r.accuracy = 0.1


def test_every_metric_declares_direction():
    assert higher_is_better("classification.accuracy") and higher_is_better("extraction.per_field.x.accuracy")
    assert not higher_is_better("extraction.spurious_rate") and not higher_is_better("latency.extract.p95")
    with pytest.raises(KeyError):
        higher_is_better("made.up")


def test_row_wise_bootstrap_statistic_gives_the_same_interval():
    """The vectorised path (``by_row``) the latency intervals use is the per-resample statistic, exactly."""
    import numpy as np

    from metrics.statistics import bootstrap_statistic_ci

    values = list(np.random.default_rng(3).exponential(size=501))
    for q in (50, 95):
        slow = bootstrap_statistic_ci(values, lambda a, q=q: float(np.percentile(a, q)), n_resamples=500)
        fast = bootstrap_statistic_ci(values, lambda a, q=q: float(np.percentile(a, q)), n_resamples=500,
                                      by_row=lambda m, q=q: np.percentile(m, q, axis=1))
        assert slow == fast



def test_percentile_intervals_from_draw_counts_equal_sorting_each_resample():
    """The latency intervals read each resample's order statistics off running draw counts instead of sorting
    the resample: the same intervals as np.percentile of every resample, to the last bit, over a sweep of sizes
    and percentiles (where numpy's rounding of the position matters), ties, None values left out, a sample with
    a NaN (NaN intervals, as numpy gives), several sizes in one call."""
    import numpy as np

    from metrics.statistics import bootstrap_percentile_cis, bootstrap_statistic_ci

    def bits(ci):
        return tuple(float(x).hex() if x is not None else None for x in (ci.estimate, ci.low, ci.high)) + (ci.n,)

    rng = np.random.default_rng(5)
    qs = (0, 1, 5, 10, 12.5, 25, 50, 90, 95, 99, 99.9, 100)
    samples = {f"n{n}": list(np.round(rng.exponential(size=n), 1)) for n in [*range(1, 41), 64, 233, 501]}
    samples.update({"ties": list(rng.integers(0, 4, size=301) / 8), "none": [None, *rng.normal(size=37), None],
                    "nan": [1.0, float("nan"), 2.0, 3.0, 4.0], "empty": [None],
                    "six": [0.1, 0.2, 0.3, 0.7, 1.1, 2.9]})
    fast = bootstrap_percentile_cis(samples, qs, n_resamples=60, seed=2)
    assert list(fast) == list(samples)
    for name, values in samples.items():
        for q in qs:
            slow = bootstrap_statistic_ci(values, lambda a, q=q: float(np.percentile(a, q)), n_resamples=60, seed=2,
                                          by_row=lambda m, q=q: np.percentile(m, q, axis=1))
            assert bits(fast[name][q]) == bits(slow), (name, q)
    assert np.isnan(fast["nan"][50].low) and np.isnan(fast["nan"][0].high)


def test_classification_and_ratio_intervals_share_their_resamples():
    """Every interval of a run comes from one set of resamples: the accuracy interval of the classification
    bootstrap is bootstrap_ci of per-item correctness, exactly, and its F1 intervals are those of the F1
    recomputed item by item on each of those resamples (a class the sample has but a resample leaves out is
    left out of that resample's macro average)."""
    import numpy as np

    from metrics.resamples import _indices
    from metrics.statistics import bootstrap_ci, classification_bootstrap

    labels = [f"c{i}" for i in range(5)]
    y_true = [f"c{i % 5}" for i in range(40)]
    y_pred = [t if i % 7 else "c0" for i, t in enumerate(y_true)]
    y_pred[3], y_pred[4] = None, "c9"  # a failed call and a label outside the set: wrong
    cls = classification_bootstrap(y_true, y_pred, labels, n_resamples=400, seed=1)
    ratio = bootstrap_ci([int(t == p) for t, p in zip(y_true, y_pred)], n_resamples=400, seed=1)
    assert (cls["accuracy"].low, cls["accuracy"].high) == (ratio.low, ratio.high)
    assert cls["accuracy"].low < cls["accuracy"].estimate < cls["accuracy"].high

    def f1s(idx):
        out, sup = {}, {}
        for lab in labels:
            tp = sum(y_true[i] == lab and y_pred[i] == lab for i in idx)
            fp = sum(y_true[i] != lab and y_pred[i] == lab for i in idx)
            fn = sum(y_true[i] == lab and y_pred[i] != lab for i in idx)
            out[lab] = 2 * tp / (2 * tp + fp + fn) if 2 * tp + fp + fn else None
            sup[lab] = tp + fn
        return out, sup

    rows = [f1s(idx) for idx in _indices(len(y_true), 400, 1).tolist()]
    macro = [np.mean([v for v in f.values() if v is not None]) for f, _ in rows]
    weighted = [sum((v or 0.0) * s[k] for k, v in f.items()) / sum(s.values()) for f, s in rows]
    per_c2 = [f["c2"] or 0.0 for f, _ in rows]
    for name, values in (("macro_f1", macro), ("weighted_f1", weighted), ("per_class.c2.f1", per_c2)):
        low, high = np.quantile(values, [0.025, 0.975])
        assert (cls[name].low, cls[name].high) == pytest.approx((low, high), abs=1e-12), name


def test_macro_f1_interval_of_a_small_sample_contains_its_estimate():
    """A resample that leaves a class out has no F1 for it: left out of the macro average, not counted as 0
    (which put the demo subset's interval, [50 %, 83 %], below its own estimate of 100 %)."""
    from metrics.statistics import classification_bootstrap

    labels = [f"c{i}" for i in range(12)]
    ci = classification_bootstrap(labels, labels, labels, n_resamples=500)["macro_f1"]
    assert ci.estimate == 1.0 and ci.low == 1.0 and ci.high == 1.0
    y_pred = labels[:8] + ["c0"] * 4  # four classes wrong
    ci = classification_bootstrap(labels, y_pred, labels, n_resamples=500)["macro_f1"]
    assert ci.low <= ci.estimate <= ci.high


def test_extraction_outcomes_equal_normalising_each_value():
    """outcome_columns skips normalising a predicted string equal to its gold string; every other value is
    normalised, because == is looser than normalising (0.0 == -0.0, [1] == [1.0], [True] == [1])."""
    from decimal import Decimal

    from metrics.extraction import outcome_columns

    schema = {"s": SimpleNamespace(type="string"), "m": SimpleNamespace(type="money"),
              "l": SimpleNamespace(type="list"), "d": SimpleNamespace(type="date", date_order="mdy")}
    pairs = [({"s": 0.0, "m": 0.0, "l": [1], "d": "03/04/2024"}, {"s": -0.0, "m": -0.0, "l": [1.0], "d": "03/04/2024"}),
             ({"s": "ACME", "m": "$1,200.00", "l": [True, "A"], "d": "2024-03-04"},
              {"s": "ACME", "m": "1200", "l": [1, "A"], "d": "March 4, 2024"}),
             ({"s": "Acme ", "m": Decimal("1.0"), "l": ["b", "a"], "d": None},
              {"s": "acme", "m": Decimal("1.00"), "l": ["a", "b"], "d": "x"}),
             ({"s": None, "m": None, "l": None, "d": None}, None)]
    got = outcome_columns([g for g, _ in pairs], [p for _, p in pairs], schema)
    for name, spec in schema.items():
        want = []
        for g, p in pairs:
            gv, pv = normalize_value(g.get(name), spec.type, spec), normalize_value((p or {}).get(name), spec.type, spec)
            want.append(("empty" if pv is None else "spurious") if gv is None else ("correct" if pv == gv else "wrong"))
        assert got[name] == want, name
    assert got["s"][0] == "wrong" and got["s"][1] == "correct" and got["l"][0] == "wrong"


def test_blank_ascii_is_normalising_to_none_for_every_field_type():
    """outcome_columns tells an ASCII gold string that normalises to None (empty) without normalising it
    (blank_ascii): the same answer as normalize_value for each field type, over every ASCII character, every
    pair of them and random strings rich in punctuation and whitespace."""
    import random
    import string

    from metrics.normalize import blank_ascii

    ascii_chars = [chr(i) for i in range(128)]
    rng = random.Random(5)
    alphabet = string.punctuation + string.whitespace + "\x1c\x1d\x1e\x1f" + "aZ09"
    texts = ascii_chars + [a + b for a in ascii_chars for b in ascii_chars]
    texts += ["".join(rng.choice(alphabet) for _ in range(rng.randrange(1, 9))) for _ in range(3000)]
    specs = {"string": None, "date": SimpleNamespace(type="date", date_order="dmy"), "money": None,
             "enum": SimpleNamespace(type="enum", values=["net 30", "-"], aliases={"net 30": ["n30", "--"]}),
             "list": None}
    for t in texts:
        for field_type, spec in specs.items():
            assert blank_ascii(t) == (normalize_value(t, field_type, spec) is None), (t, field_type)


def test_extraction_outcomes_of_blank_gold_strings_equal_normalising_each_value():
    """The pairs outcome_columns tells without normalising (an equal string, a value not predicted) against
    gold strings that are blank, ASCII or not, in every field type: the outcome of normalising both."""
    from metrics.extraction import outcome_columns

    golds = ["", " ", " . ", ";,", "\u3000", "\uff0e", "\u00a0x", "a", "Ω", "1.0", "n/a", None, [], ["  "]]
    preds = [None, *golds, "x", ["a"]]
    schema = {t: SimpleNamespace(type=t, values=["a"], aliases={}, date_order="mdy")
              for t in ("string", "date", "money", "enum", "list")}
    pairs = [(g, p) for g in golds for p in preds]
    got = outcome_columns([{t: g for t in schema} for g, _ in pairs], [{t: p for t in schema} for _, p in pairs],
                          schema)
    for name, spec in schema.items():
        want = []
        for g, p in pairs:
            gv, pv = normalize_value(g, spec.type, spec), normalize_value(p, spec.type, spec)
            want.append(("empty" if pv is None else "spurious") if gv is None else ("correct" if pv == gv else "wrong"))
        assert got[name] == want, name
