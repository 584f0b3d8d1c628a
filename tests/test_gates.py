"""Gates, go/no-go over dated runs, rollback triggers, statistics (against scipy), compare, diff, leaderboard
and the pytest plugin, on real runs of a small rule-based predictor."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
import yaml
from scipy import stats

from harness import load_golden_set, run
from keyword_predictor import KeywordPredictor
from metrics.statistics import bootstrap_ci, mcnemar_exact, paired_bootstrap_ci

pytest_plugins = ["pytester"]

CRITERIA = {
    "name": "tiny",
    "criteria": [
        {"id": "acc", "title": "Accuracy", "metric": "classification.accuracy", "higher_is_better": True,
         "target": 0.95, "must_have": 0.80},
        {"id": "ext", "title": "Number field", "metric": "extraction.per_field.number.accuracy",
         "higher_is_better": True, "target": 0.9, "must_have": 0.5},
    ],
    "go_no_go": {"weeks": 4, "go": [{"id": "acc_4w", "kind": "weekly_vs_baseline",
                                     "metric": "classification.accuracy", "op": ">="}],
                 "no_go": [{"id": "below", "kind": "vs_baseline", "metric": "classification.accuracy", "op": "<"}]},
    "rollback_triggers": [
        {"id": "acc24", "kind": "sustained", "field": "accuracy", "below_field": "baseline_accuracy", "margin": 0.05,
         "hours": 24},
        {"id": "hal4", "kind": "window_mean", "field": "hallucination_rate", "op": ">", "value": 0.10, "hours": 4},
        {"id": "down1", "kind": "sustained_false", "field": "available", "hours": 1},
        {"id": "pii", "kind": "any_true", "field": "pii_exposure"},
        {"id": "cost", "kind": "sustained_ratio", "field": "cost", "of_field": "projected_cost", "factor": 2.0,
         "hours": 168},
    ],
    "regression": {"tolerance": {"classification.accuracy": 0.01}},
}


@pytest.fixture
def criteria_file(tmp_path):
    path = tmp_path / "criteria.yaml"
    path.write_text(yaml.safe_dump(CRITERIA))
    return path


def make_run(golden_dir, out, name="keyword", fail_ids=(), split="test", date="2026-11-20"):
    p = KeywordPredictor(fail_ids=fail_ids)
    p.name = name
    run(p, load_golden_set(golden_dir), split, out, config=p.config(), config_hash=name, progress=False,
        extra={"evaluated_on": date})
    return out


# ---------------------------------------------------------------------------------------------- statistics
def test_mcnemar_matches_scipy_binomtest():
    rng = np.random.default_rng(3)
    a = rng.random(400) < 0.7
    b = np.where(rng.random(400) < 0.2, ~a, a)
    r = mcnemar_exact(a, b)
    expected = stats.binomtest(min(r.a_only, r.b_only), r.a_only + r.b_only, 0.5).pvalue
    assert r.p_value == pytest.approx(expected)
    assert r.a_only + r.b_only + r.both_right + r.both_wrong == 400
    assert mcnemar_exact([1, 0], [1, 0]).p_value == 1.0


def test_bootstrap_matches_scipy():
    rng = np.random.default_rng(5)
    a = (rng.random(500) < 0.8).astype(float)
    b = (rng.random(500) < 0.85).astype(float)
    ours = paired_bootstrap_ci(a, b, n_resamples=4000, seed=1)
    ref = stats.bootstrap((a, b), lambda x, y: np.mean(y) - np.mean(x), paired=True, vectorized=False,
                          n_resamples=4000, method="percentile", random_state=1).confidence_interval
    assert ours.low == pytest.approx(ref.low, abs=0.01) and ours.high == pytest.approx(ref.high, abs=0.01)
    one = bootstrap_ci(a, n_resamples=4000, seed=2)
    ref1 = stats.bootstrap((a,), np.mean, n_resamples=4000, method="percentile", random_state=2).confidence_interval
    assert one.low == pytest.approx(ref1.low, abs=0.01) and one.high == pytest.approx(ref1.high, abs=0.01)
    assert paired_bootstrap_ci(a, b, seed=9) == paired_bootstrap_ci(a, b, seed=9)  # seeded: same every run


# ---------------------------------------------------------------------------------------------- gates
def test_gates_statuses_and_exit_codes(tiny_golden, tmp_path, criteria_file, cli):
    good = make_run(tiny_golden, tmp_path / "good")
    code, out, _ = cli("gates", good, "--criteria", criteria_file)
    assert code == 0 and "target met" in out
    bad = make_run(tiny_golden, tmp_path / "bad", fail_ids={"d012", "d013"})  # 4/6 right: below the must-have
    code, out, _ = cli("gates", bad, "--criteria", criteria_file, "--baseline", good)
    assert code == 1
    g = json.loads((bad / "gates.json").read_text())
    status = {c["id"]: c["status"] for c in g["criteria"]}
    assert status == {"acc": "failed", "ext": "must-have met"}
    assert g["go_no_go"]["verdict"] == "NO-GO"  # accuracy below the baseline


def test_not_measurable_never_passes(tiny_golden, tmp_path, cli):
    good = make_run(tiny_golden, tmp_path / "good")
    code, out, _ = cli("gates", good)  # the TechCorp criteria: hallucination, cost, ratings are not measured here
    assert code == 1 and "not measurable" in out
    code, _, _ = cli("gates", good, "--only", "classification_accuracy,field_extraction_accuracy")
    assert code == 1  # tiny extraction misses the 'total' field: below the must-have
    code, _, err = cli("gates", good, "--only", "nope")
    assert code == 2 and "unknown criterion" in err


def test_ratings_and_audit_inputs(tiny_golden, tmp_path, criteria_file, cli):
    good = make_run(tiny_golden, tmp_path / "good")
    ratings = tmp_path / "ratings.csv"
    ratings.write_text("user,rating\na,5\nb,4\nc,5\n")
    code, out, _ = cli("gates", good, "--ratings", ratings, "--only", "user_satisfaction")
    assert code == 0 and "4.667" in out
    ratings.write_text("user,rating\na,5\nb,nine\n")
    code, _, err = cli("gates", good, "--ratings", ratings)
    assert code == 2 and "ratings.csv:3: rating: not a number" in err
    audit = tmp_path / "audit.yaml"
    audit.write_text("items:\n  - {id: logging, satisfied: true}\n  - {id: retention, satisfied: false}\n")
    code, out, _ = cli("gates", good, "--audit", audit)
    assert "unsatisfied: retention; needs every item satisfied; not met" in out


@pytest.mark.parametrize("bad,expect", [
    ({"higher_is_better": False}, "contradicts the metric's declared direction"),
    ({"target": 0.5, "must_have": 0.9}, "less demanding than the must-have"),
    ({"metric": None}, "needs a metric"),
])
def test_bad_criteria_file(tiny_golden, tmp_path, cli, bad, expect):
    crit = json.loads(json.dumps(CRITERIA))
    crit["criteria"][0].update(bad)
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(crit))
    good = make_run(tiny_golden, tmp_path / "good")
    code, _, err = cli("gates", good, "--criteria", path)
    assert code == 2 and expect in err and "criteria[0]" in err


def test_four_consecutive_weeks(tiny_golden, tmp_path, criteria_file, cli):
    hist = tmp_path / "history"
    dates = ["2026-10-30", "2026-11-06", "2026-11-13", "2026-11-20"]
    for d in dates:
        make_run(tiny_golden, hist / f"llm-{d}", name="llm", date=d)
        make_run(tiny_golden, hist / f"ml-{d}", name="ml", date=d)
    latest, base = hist / "llm-2026-11-20", hist / "ml-2026-11-20"
    code, out, _ = cli("gates", latest, "--baseline", base, "--history", hist, "--criteria", criteria_file)
    g = json.loads((latest / "gates.json").read_text())
    assert g["go_no_go"]["verdict"] == "GO" and "held 2026-W44..2026-W47; needs classification.accuracy >= the " \
        "baseline's in each of 4 consecutive weeks; met" in out
    assert [w["week"] for w in g["go_no_go"]["weeks"]] == ["2026-W44", "2026-W45", "2026-W46", "2026-W47"]
    shutil.rmtree(hist / "llm-2026-10-30")  # three weeks of history: too short
    cli("gates", latest, "--baseline", base, "--history", hist, "--criteria", criteria_file)
    g = json.loads((latest / "gates.json").read_text())
    assert g["go_no_go"]["verdict"] == "HOLD" and "3 of 4" in g["go_no_go"]["go"][0]["detail"]
    make_run(tiny_golden, hist / "llm-2026-11-06b", name="llm", date="2026-11-07", fail_ids={"d012", "d013"})
    make_run(tiny_golden, hist / "llm-2026-10-30", name="llm", date="2026-10-30")
    cli("gates", latest, "--baseline", base, "--history", hist, "--criteria", criteria_file)
    g = json.loads((latest / "gates.json").read_text())
    assert g["go_no_go"]["go"][0]["holds"] is False and "2026-W45" in g["go_no_go"]["go"][0]["detail"]


def test_rollback_triggers_with_windows(tmp_path, criteria_file, cli):
    recs = []
    for h in range(0, 60, 2):  # 2-hourly records over 60 hours
        ts = f"2026-11-{1 + h // 24:02d}T{h % 24:02d}:00:00"
        recs.append({"timestamp": ts, "accuracy": 0.80 if 10 <= h <= 40 else 0.95, "baseline_accuracy": 0.94,
                     "hallucination_rate": 0.3 if h in (20, 22) else 0.01, "available": not (30 <= h <= 32),
                     "cost": 10, "projected_cost": 10})
    path = tmp_path / "mon.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in recs))
    code, out, _ = cli("rollback", path, "--criteria", criteria_file, "--format", "json")
    assert code == 1
    fired = {t["id"]: t for t in json.loads(out)}
    assert fired["acc24"]["fired"] and fired["acc24"]["window"] == ["2026-11-01T10:00:00", "2026-11-02T18:00:00"]
    assert fired["hal4"]["fired"] and fired["hal4"]["window"][1] == "2026-11-01T20:00:00"
    assert fired["down1"]["fired"] and fired["down1"]["window"] == ["2026-11-02T06:00:00", "2026-11-02T10:00:00"]
    assert not fired["pii"]["fired"] and not fired["cost"]["fired"]


# ---------------------------------------------------------------------------------------------- compare etc.
def test_compare_diff_and_refusals(tiny_golden, tmp_path, cli):
    a = make_run(tiny_golden, tmp_path / "a")
    b = make_run(tiny_golden, tmp_path / "b", fail_ids={"d012", "d015"})
    code, out, _ = cli("compare", a, b, "--format", "json")
    assert code == 0
    rows = {r["metric"]: r for r in json.loads(out)["rows"]}
    acc = rows["classification.accuracy"]
    assert (acc["a_only_right"], acc["b_only_right"], acc["n"]) == (2, 0, 6)
    assert acc["difference"] == pytest.approx(-2 / 6) and acc["ci_low"] <= acc["difference"] <= acc["ci_high"]
    assert acc["mcnemar_p"] == pytest.approx(stats.binomtest(0, 2, 0.5).pvalue)
    code, out, _ = cli("diff", a, b, "--format", "json")
    d = json.loads(out)
    assert {f["id"] for f in d["label_flips"]} == {"d012", "d015"}
    assert d["metric_deltas"]["classification.accuracy"]["delta"] == pytest.approx(-2 / 6)
    other = make_run(tiny_golden, tmp_path / "train", split="train")
    code, _, err = cli("compare", a, other)
    assert code == 2 and "different splits" in err


def test_leaderboard_ranks_and_refuses_mixed_golden_sets(tiny_golden, tmp_path, cli):
    res = tmp_path / "results"
    make_run(tiny_golden, res / "best")
    make_run(tiny_golden, res / "worse", fail_ids={"d012"})
    code, out, _ = cli("leaderboard", res, "--format", "csv", "--criteria", tmp_path / "none.yaml")
    assert code == 2  # criteria file missing: named
    crit = tmp_path / "c.yaml"
    crit.write_text(yaml.safe_dump(CRITERIA))
    code, out, _ = cli("leaderboard", res, "--format", "csv", "--criteria", crit)
    lines = out.strip().splitlines()
    assert lines[1].startswith("1,best") and lines[2].startswith("2,worse")
    make_run(tiny_golden, res / "train-run", split="train")
    code, _, err = cli("leaderboard", res, "--criteria", crit)
    assert code == 2 and "cannot share a leaderboard" in err
    code, out, _ = cli("leaderboard", res, "--split", "test", "--format", "html", "--criteria", crit)
    assert code == 0 and "<table class=\"sortable\">" in out and "<!DOCTYPE html>" in out


# ---------------------------------------------------------------------------------------------- plugin
def test_pytest_plugin_gates(tiny_golden, tmp_path, criteria_file, pytester):
    good = make_run(tiny_golden, tmp_path / "good")
    bad = make_run(tiny_golden, tmp_path / "bad", fail_ids={"d012", "d015"})
    res = pytester.runpytest_subprocess("--harness-run", str(good), "--harness-baseline", str(good),
                                       "--harness-criteria", str(criteria_file), "--harness-only")
    res.assert_outcomes(passed=3)
    res = pytester.runpytest_subprocess("--harness-run", str(bad), "--harness-baseline", str(good),
                                       "--harness-criteria", str(criteria_file), "--harness-only")
    res.assert_outcomes(passed=1, failed=2)
    text = res.stdout.str()
    assert "Accuracy: failed" in text and "observed: 0.666" in text and ">= 0.95 / >= 0.8" in text
    assert "classification.accuracy regressed" in text and "d012: None -> None" not in text
    assert "documents that flipped from right to wrong: 2" in text and "d015" in text


def test_pytest_plugin_fixtures(tiny_golden, tmp_path, criteria_file, pytester):
    good = make_run(tiny_golden, tmp_path / "good")
    pytester.makepyfile(test_mine="""
        def test_accuracy(harness_run, harness_gate_results):
            assert harness_run.value("classification.accuracy") == 1.0
            assert harness_gate_results["acc"].status == "target met"
    """)
    res = pytester.runpytest_subprocess("--harness-run", str(good), "--harness-criteria", str(criteria_file))
    res.assert_outcomes(passed=3)  # the user's test + two criteria
