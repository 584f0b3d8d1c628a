"""MLOps pipeline end to end on the TechCorp golden set (real scikit-learn and XGBoost, small settings)."""

from __future__ import annotations

import json

import pytest

from conftest import TECHCORP

SMALL = ["--set", "classifier.n_estimators=25", "--set", "extractor.n_estimators=25"]


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    from harness.cli import main

    out = tmp_path_factory.mktemp("model") / "mlops"
    assert main(["train", "mlops", "--golden", str(TECHCORP), "--out", str(out)] + SMALL) == 0
    return out


def test_artifact_has_no_pickle(model_dir):
    names = sorted(p.name for p in model_dir.iterdir())
    assert "artifact.json" in names and "classifier.ubj" in names and "vectorizer.json" in names
    assert all(n.endswith((".json", ".ubj")) for n in names)
    for p in model_dir.iterdir():
        assert not p.read_bytes().startswith(b"\x80"), f"{p.name} looks like a pickle"
    meta = json.loads((model_dir / "artifact.json").read_text())
    assert meta["version"].startswith("mlops-1.2.0+") and meta["golden"]["name"] == "techcorp"
    assert len(json.loads((model_dir / "vectorizer.json").read_text())["vocabulary"]) <= 10000


def test_run_test_and_shift(model_dir, tmp_path, cli):
    results = {}
    for split in ("test", "shift"):
        code, out, err = cli("run", "--pipeline", "mlops", "--golden", TECHCORP, "--split", split, "--limit", 150,
                             "--out", tmp_path / split, "--set", f"artifact_dir={model_dir}", *SMALL)
        assert code == 0, err
        assert "classification accuracy" in out
        results[split] = json.loads((tmp_path / split / "metrics.json").read_text())
        run_json = json.loads((tmp_path / split / "run.json").read_text())
        assert run_json["predictor"]["model_version"] == json.loads(
            (model_dir / "artifact.json").read_text())["version"]
    test, shift = results["test"], results["shift"]
    assert test["classification"]["accuracy"] > 0.9 and test["extraction"]["accuracy"] > 0.85
    for key in ("macro_f1", "weighted_f1", "per_class", "confusion_matrix"):
        assert key in test["classification"]
    assert {"p50", "p95", "p99"} <= set(test["latency"]["extract"])
    # held-out templates: the classic pipeline visibly overfits them
    assert shift["classification"]["accuracy"] < test["classification"]["accuracy"] - 0.1
    assert shift["extraction"]["accuracy"] < test["extraction"]["accuracy"] - 0.1


def test_mismatched_or_tampered_artifact(model_dir, tmp_path, cli):
    base = ["run", "--pipeline", "mlops", "--golden", TECHCORP, "--limit", 3, "--out", tmp_path / "r",
            "--set", f"artifact_dir={model_dir}"]
    code, _, err = cli(*base)  # default settings differ from the small ones it was trained with
    assert code == 2 and "trained with other settings" in err
    copy = tmp_path / "copy"
    copy.mkdir()
    for p in model_dir.iterdir():
        (copy / p.name).write_bytes(p.read_bytes())
    (copy / "extractor.json").write_text((copy / "extractor.json").read_text().replace("0.5", "0.1"))
    code, _, err = cli("run", "--pipeline", "mlops", "--golden", TECHCORP, "--limit", 3, "--out", tmp_path / "r2",
                       "--set", f"artifact_dir={copy}", *SMALL)
    assert code == 2 and "extractor.json: artifact file missing or modified" in err
