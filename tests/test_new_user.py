"""What a new user trips on (issue 13): scored runs compared, leaderboards over different item sets, the
demo's verdict."""

from __future__ import annotations

import json

from harness import load_golden_set, run
from keyword_predictor import KeywordPredictor


def _external(tmp_path, golden_dir, name, wrong=()):
    """A predictions file from 'production': the gold labels, except the ids in ``wrong``."""
    golden = load_golden_set(golden_dir)
    path = tmp_path / f"{name}.jsonl"
    with open(path, "w", encoding="utf-8") as fh:
        for d in golden.items("test", kinds=("document",)):
            fh.write(json.dumps({"id": d.id, "label": "receipt" if d.id in wrong else d.label}) + "\n")
    return path


def test_scored_runs_compare_and_diff_with_rows(tiny_golden, tmp_path, cli):
    a = _external(tmp_path, tiny_golden, "a")
    b = _external(tmp_path, tiny_golden, "b", wrong={"d012", "d015"})
    for name, path in (("ra", a), ("rb", b)):
        code, _, err = cli("score", "--golden", tiny_golden, "--split", "test", "--predictions", path,
                           "--out", tmp_path / name)
        assert code == 0, err
    assert (tmp_path / "ra" / "predictions.jsonl").is_file()
    run_json = json.loads((tmp_path / "ra" / "run.json").read_text())
    assert run_json["item_ids_sha256"] and run_json["scope"] == "split"
    code, out, err = cli("compare", tmp_path / "ra", tmp_path / "rb", "--format", "json")
    assert code == 0, err
    rows = {r["metric"]: r for r in json.loads(out)["rows"]}
    assert rows["classification.accuracy"]["n"] == 6 and rows["classification.accuracy"]["b_only_right"] == 0
    assert rows["classification.accuracy"]["a_only_right"] == 2  # d012 and d015 are invoices
    code, out, err = cli("diff", tmp_path / "ra", tmp_path / "rb")
    assert code == 0 and "label flips: 2 (0 fixed, 2 broken)" in out, out + err


def test_a_comparison_with_no_rows_is_an_error(tiny_golden, tmp_path, cli):
    """Two runs with no item in common: exit 2 with the reason, never an empty table and exit 0."""
    golden = load_golden_set(tiny_golden)
    run(KeywordPredictor(), golden, "test", tmp_path / "x", config={}, config_hash="x", limit=2)
    p = KeywordPredictor()
    p.name = "other"
    ids = [it.id for it in golden.items("test")]
    path = tmp_path / "late.jsonl"
    path.write_text("".join(json.dumps({"id": i, "label": "invoice"}) + "\n" for i in ids[4:6]))
    assert cli("score", "--golden", tiny_golden, "--split", "test", "--predictions", path, "--out",
               tmp_path / "y")[0] == 0
    for command in ("compare", "diff"):
        code, out, err = cli(command, tmp_path / "x", tmp_path / "y")
        assert code == 2 and "no item" in err, (command, out, err)


def test_leaderboard_refuses_or_groups_different_item_sets(tiny_golden, tmp_path, cli):
    golden = load_golden_set(tiny_golden)
    results = tmp_path / "results"
    run(KeywordPredictor(), golden, "test", results / "full", config={}, config_hash="x")
    run(KeywordPredictor(), golden, "test", results / "subset", config={}, config_hash="x", limit=3)
    code, out, err = cli("leaderboard", results)
    assert code == 2 and "different item sets" in err, out + err
    code, out, err = cli("leaderboard", results, "--items", "all")
    assert code == 0, err
    headings = [line for line in out.splitlines() if line.startswith("### item set")]
    assert len(headings) == 2 and {"(n = 7)", "(n = 3)"} == {h[h.index("("):] for h in headings}
    assert all("| n |" in line for line in out.splitlines() if line.startswith("| rank"))
    full_sha = json.loads((results / "full" / "run.json").read_text())["item_ids_sha256"]
    code, out, err = cli("leaderboard", results, "--items", full_sha[:10], "--format", "csv")
    assert code == 0 and len(out.strip().splitlines()) == 2 and ",full," in out, out + err
