"""The harness on documents nobody here wrote (../shared/realdata); skipped when the folder is absent."""

from __future__ import annotations

import json
import random

import pytest
from sklearn.metrics import accuracy_score, f1_score, precision_recall_fscore_support

from golden_sets.importers import import_cuad, import_sroie
from harness.golden import load_golden_set
from metrics.normalize import normalize_value

pytestmark = pytest.mark.realdata


def test_cuad_score_reproduces_sklearn(realdata, tmp_path, cli):
    root = import_cuad(realdata / "cuad", tmp_path / "cuad")
    g = load_golden_set(root)
    assert len(g.manifest.labels) >= 20
    docs = g.items("test", kinds=("document",))
    rng = random.Random(7)
    preds = [{"id": d.id, "label": d.label if rng.random() < 0.6 else rng.choice(g.manifest.labels)} for d in docs]
    (tmp_path / "p.jsonl").write_text("".join(json.dumps(p) + "\n" for p in preds))
    code, _, err = cli("score", "--golden", root, "--split", "test", "--predictions", tmp_path / "p.jsonl",
                       "--out", tmp_path / "s")
    assert code == 0, err
    m = json.loads((tmp_path / "s" / "metrics.json").read_text())["classification"]
    y_true, y_pred, labels = [d.label for d in docs], [p["label"] for p in preds], list(g.manifest.labels)
    assert m["accuracy"] == pytest.approx(accuracy_score(y_true, y_pred))
    # macro F1 over the labels the sample holds or predicts: scikit-learn's own default (labels=None)
    assert m["macro_f1"] == pytest.approx(f1_score(y_true, y_pred, average="macro", zero_division=0))
    assert m["weighted_f1"] == pytest.approx(f1_score(y_true, y_pred, labels=labels, average="weighted",
                                                      zero_division=0))
    p, r, f, s = precision_recall_fscore_support(y_true, y_pred, labels=labels, zero_division=0)
    for i, lab in enumerate(labels):
        got = m["per_class"][lab]
        assert (got["precision"], got["recall"], got["f1"], got["support"]) == pytest.approx((p[i], r[i], f[i], s[i]))


def test_sroie_extraction_scoring(realdata, tmp_path, cli):
    root = import_sroie(realdata / "sroie", tmp_path / "sroie")
    g = load_golden_set(root)
    docs = g.items("test", kinds=("document",))
    assert docs and all(d.label == "receipt" for d in docs)
    # predictions in the receipts' own formats: dates as printed (d/m/y), totals with a currency prefix
    preds = []
    for i, d in enumerate(docs):
        f = d.fields
        date = f["date"] and "/".join(reversed(f["date"].split("-")))
        preds.append({"id": d.id, "fields": {"company": (f["company"] or "").lower() if i % 3 else "WRONG SDN BHD",
                                             "date": date, "total": f"RM {f['total']}" if f["total"] else None,
                                             "address": None}})
    (tmp_path / "p.jsonl").write_text("".join(json.dumps(p) + "\n" for p in preds))
    code, _, err = cli("score", "--golden", root, "--split", "test", "--predictions", tmp_path / "p.jsonl",
                       "--out", tmp_path / "s")
    assert code == 0, err
    m = json.loads((tmp_path / "s" / "metrics.json").read_text())["extraction"]
    n_company = sum(1 for d in docs if d.fields["company"])
    wrong_company = sum(1 for i, d in enumerate(docs) if d.fields["company"] and i % 3 == 0)
    assert m["per_field"]["company"]["accuracy"] == pytest.approx((n_company - wrong_company) / n_company)
    assert m["per_field"]["date"]["accuracy"] == 1.0 and m["per_field"]["total"]["accuracy"] == 1.0
    assert m["per_field"]["address"]["accuracy"] == 0.0


def test_mlops_learns_sroie_fields(realdata, tmp_path, cli):
    root = import_sroie(realdata / "sroie", tmp_path / "sroie")
    code, out, err = cli("run", "--pipeline", "mlops", "--golden", root, "--split", "test", "--out", tmp_path / "r",
                         "--set", "classifier.n_estimators=10", "--set", "extractor.n_estimators=40")
    assert code == 0, err
    m = json.loads((tmp_path / "r" / "metrics.json").read_text())
    assert m["classification"]["accuracy"] == 1.0  # one class
    # learned from 70 real receipts, no rule per template: the total and the date are mostly found
    assert m["extraction"]["per_field"]["total"]["accuracy"] > 0.4
    assert m["extraction"]["per_field"]["date"]["accuracy"] > 0.4
    assert normalize_value("12-01-19", "date", g_spec := load_golden_set(root).manifest.fields["date"]) \
        == "2019-01-12", g_spec
