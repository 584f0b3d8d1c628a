"""CLI: score external predictions, config overrides and their errors, report."""

from __future__ import annotations

import json

import pytest
from sklearn.metrics import accuracy_score, f1_score

from harness.golden import load_golden_set


def _write(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_score_external_predictions(tiny_golden, tmp_path, cli):
    g = load_golden_set(tiny_golden)
    docs = g.items("test", kinds=("document",))
    preds = [{"id": d.id, "label": "receipt" if i == 0 else d.label, "fields": {"number": d.fields["number"]}}
             for i, d in enumerate(docs[:-1])]  # the last document is missing: unscored, not dropped
    preds.append({"id": "ghost", "label": "invoice"})
    code, out, err = cli("score", "--golden", tiny_golden, "--split", "test", "--predictions",
                         _write(tmp_path / "p.jsonl", preds), "--out", tmp_path / "s")
    assert code == 0, err
    m = json.loads((tmp_path / "s" / "metrics.json").read_text())
    # issue 26: the missing document counts as wrong, as a failed call does (the figure is over all 6, not 5)
    y_true = [d.label for d in docs]
    y_pred = [p["label"] for p in preds[:-1]] + ["<no prediction>"]
    assert m["classification"]["accuracy"] == pytest.approx(accuracy_score(y_true, y_pred))
    assert m["classification"]["macro_f1"] == pytest.approx(
        f1_score(y_true, y_pred, labels=list(g.manifest.labels), average="macro", zero_division=0))
    assert "note: 1 of 6 documents have no label prediction: counted wrong" in err
    assert "note: 1 QA items not scored: no prediction answers them" in err
    assert m["counts"]["by_task"]["classify"]["unscored"] == 1 and docs[-1].id in m["counts"]["unscored_ids"]
    assert m["counts"]["unknown_ids"] == ["ghost"] and "not in split" in err
    assert m["extraction"]["per_field"]["number"]["accuracy"] == pytest.approx(5 / 6)  # the missing one: wrong
    assert "classification accuracy" in out


@pytest.mark.parametrize("line,expect", [
    ('{"id": "d012", "label": 3}', "p.jsonl:2: label: Input should be a valid string (got 3)"),
    ('{"label": "invoice"}', "p.jsonl:2: id: Field required"),
    ('{"id": "d012", "label": "invoice"', "p.jsonl:2: broken JSON"),
    ('{"id": "d013", "label": "invoice"}', "p.jsonl:2: id: duplicate id 'd013' (first at line 1)"),
])
def test_score_bad_predictions_file(tiny_golden, tmp_path, cli, line, expect):
    path = tmp_path / "p.jsonl"
    path.write_text('{"id": "d013", "label": "invoice"}\n' + line + "\n")
    code, _, err = cli("score", "--golden", tiny_golden, "--split", "test", "--predictions", path,
                       "--out", tmp_path / "s")
    assert code == 2 and expect in err and "Traceback" not in err


@pytest.mark.parametrize("args,expect", [
    (["--set", "classifier.colour=red"], "classifier.colour: unknown setting"),
    (["--set", "classifier.max_depth=deep"], "classifier.max_depth: Input should be a valid integer"),
    (["--set", "classifier.max_features=20000"], "classifier.max_features: Input should be less than or equal"),
    (["--set", "nokeyvalue"], "--set expects key=value"),
    (["--split", "nosuch"], "unknown split 'nosuch'"),
    (["--pipeline", "quantum"], "unknown pipeline 'quantum'"),
])
def test_run_input_errors_exit_2(tiny_golden, tmp_path, cli, args, expect):
    base = ["run", "--pipeline", "mlops", "--golden", tiny_golden, "--split", "test", "--out", tmp_path / "r"]
    code, _, err = cli(*(base + args))
    assert code == 2, err
    assert expect in err and len(err.strip().splitlines()) == 1


def test_bad_config_file(tiny_golden, tmp_path, cli):
    cfg = tmp_path / "c.yaml"
    cfg.write_text("pipeline: mlops\nclassifier:\n  max_depth: [1\n")
    code, _, err = cli("run", "--pipeline", "mlops", "--golden", tiny_golden, "--out", tmp_path / "r",
                       "--config", cfg)
    assert code == 2 and "c.yaml:" in err and "invalid YAML" in err
