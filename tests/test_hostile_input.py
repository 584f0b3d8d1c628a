"""Hostile and careless input (issue 14): each case below hung, escaped, corrupted a run or printed a traceback
before; now it is exit 0 or exit 2 with one line naming the file (and line and field where there is one)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from conftest import tiny_docs, write_golden
from harness.errors import HarnessInputError

ROOT = Path(__file__).resolve().parents[1]
CRITERIA = ROOT / "harness" / "criteria" / "techcorp.yaml"
# nine levels of nine: 9^9 (387 million) strings once expanded, in well under a kilobyte
BOMB = "".join(f"{a}: &{a} [{', '.join([f'*{p}'] * 9) if p else ', '.join(['lol'] * 9)}]\n"
               for p, a in zip([None, *"abcdefgh"], "abcdefghi"))


def one_line_error(code: int, err: str) -> str:
    lines = [x for x in err.strip().splitlines() if x.startswith("error:")]
    assert code == 2 and len(lines) == 1 and "Traceback" not in err, (code, err)
    return lines[0]


@pytest.fixture
def scored(tiny_golden, tmp_path, cli):
    """A run directory made by ``harness score`` from perfect predictions on the tiny golden set."""
    docs = [d for d in tiny_docs() if d["split"] == "test"]
    preds = tmp_path / "p.jsonl"
    preds.write_text("".join(json.dumps({"id": d["id"], "label": d["label"], "fields": d["fields"]}) + "\n"
                             for d in docs))
    code, _, err = cli("score", "--golden", tiny_golden, "--split", "test", "--predictions", preds,
                       "--out", tmp_path / "runs" / "r1")
    assert code == 0, err
    return tmp_path / "runs" / "r1"


def test_the_bomb_really_is_one():
    assert len(BOMB) < 700
    data = yaml.safe_load(BOMB)  # PyYAML's safe loader accepts it: the expansion is what hangs
    assert len(data["i"]) == 9 and len(data["i"][0]) == 9


def test_billion_laughs_in_criteria_prompts_and_manifest(scored, tiny_golden, tmp_path, cli):
    crit = tmp_path / "bomb-criteria.yaml"
    crit.write_text(BOMB + "criteria:\n  - {id: x, title: *i, metric: classification.accuracy, "
                           "higher_is_better: true, target: 0.9, must_have: 0.8}\n")
    t0 = time.perf_counter()
    line = one_line_error(*cli("gates", scored, "--criteria", crit)[::2])
    assert str(crit) in line and "aliases" in line

    prompts = tmp_path / "prompts"
    shutil.copytree(ROOT / "pipelines" / "llmops" / "prompts", prompts)
    text = (prompts / "classify.yaml").read_text()
    (prompts / "classify.yaml").write_text(BOMB + text.replace("system: |", "system: *i\nold_system: |", 1))
    from pipelines.llmops.prompts import load_registry

    with pytest.raises(HarnessInputError, match="aliases"):
        load_registry(prompts)

    bad = tmp_path / "bomb-golden"
    shutil.copytree(tiny_golden, bad)
    manifest = (bad / "manifest.yaml").read_text()
    (bad / "manifest.yaml").write_text(BOMB + manifest.replace("description: test set", "description: *i"))
    line = one_line_error(*cli("golden", "verify", bad)[::2])
    assert "manifest.yaml" in line and "aliases" in line
    assert time.perf_counter() - t0 < 30  # refused before anything expands


def test_deep_nesting_and_oversized_yaml(tmp_path, cli, scored):
    deep = tmp_path / "deep.yaml"
    deep.write_text("criteria: " + "[" * 5000 + "]" * 5000 + "\n")
    assert "nested deeper" in one_line_error(*cli("gates", scored, "--criteria", deep)[::2])
    big = tmp_path / "big.yaml"
    big.write_text("name: x\n" + "# padding\n" * 500_000)
    assert "over the" in one_line_error(*cli("gates", scored, "--criteria", big)[::2])


def test_an_endless_jsonl_line_is_refused_before_it_is_read_whole(tiny_golden, tmp_path, cli):
    from harness.files import MAX_JSONL_LINE_BYTES

    docs = [d for d in tiny_docs() if d["split"] == "test"]
    path = tmp_path / "p.jsonl"
    with open(path, "wb") as fh:  # one good record, then a line with no end in sight (no newline at all)
        fh.write(json.dumps({"id": docs[0]["id"], "label": docs[0]["label"]}).encode() + b"\n")
        fh.write(b'{"id": "' + b"x" * (MAX_JSONL_LINE_BYTES + 10) + b'"}')
    line = one_line_error(*cli("score", "--golden", tiny_golden, "--split", "test", "--predictions", path,
                               "--out", tmp_path / "s")[::2])
    assert f"p.jsonl:2: line longer than {MAX_JSONL_LINE_BYTES:,} bytes" in line
    path.write_bytes(b'{"id": "' + b"x" * (MAX_JSONL_LINE_BYTES - 10) + b'"}\n')  # exactly the limit, newline aside
    code, _, err = cli("score", "--golden", tiny_golden, "--split", "test", "--predictions", path,
                       "--out", tmp_path / "s2")
    assert code == 0 and "longer than" not in err, err  # read (its id is no document's: nothing to score)


def _holder(run_dir: Path) -> subprocess.Popen:
    """Another process holding the run directory (as a running `harness run` does)."""
    code = ("import sys, time; sys.path.insert(0, %r)\n"
            "from harness.store import RunStore\n"
            "with RunStore(%r).writing('harness run --pipeline mlops --split test'):\n"
            "    print('held', flush=True); time.sleep(60)\n") % (str(ROOT), str(run_dir))
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "held"
    return proc


def test_a_second_writer_stops_at_once_and_a_killed_one_releases(scored, tiny_golden, tmp_path, cli):
    proc = _holder(scored)
    try:
        preds = tmp_path / "p.jsonl"
        t0 = time.perf_counter()
        line = one_line_error(*cli("score", "--golden", tiny_golden, "--split", "test", "--predictions", preds,
                                   "--out", scored)[::2])
        assert time.perf_counter() - t0 < 10
        assert "another process is writing" in line and f"pid {proc.pid}" in line and "harness run" in line
    finally:
        proc.kill()  # kill -9: the OS releases the lock
        proc.wait()
    code, _, err = cli("score", "--golden", tiny_golden, "--split", "test", "--predictions", preds, "--out", scored)
    assert code == 0, err


def test_a_resume_repairs_duplicate_records(tiny_golden, tmp_path, capsys):
    from harness.golden import load_golden_set
    from harness.runner import run
    from harness.store import RunStore
    from keyword_predictor import KeywordPredictor

    golden = load_golden_set(tiny_golden)
    out = tmp_path / "r"
    run(KeywordPredictor(), golden, "test", out, config={}, config_hash="k", progress=False)
    path = out / "predictions.jsonl"
    lines = path.read_text().splitlines()
    path.write_text("\n".join(lines + lines[:3]) + "\n")  # what two writers sharing the file left
    with pytest.raises(HarnessInputError, match="duplicate id"):
        RunStore(out).predictions()
    run(KeywordPredictor(), golden, "test", out, config={}, config_hash="k", progress=False)
    assert "3 duplicate record(s) dropped" in capsys.readouterr().err
    assert path.read_text().splitlines() == lines


def test_a_name_from_a_file_cannot_become_a_path(tiny_golden, tmp_path, cli):
    bad = tmp_path / "escape"
    shutil.copytree(tiny_golden, bad)
    m = yaml.safe_load((bad / "manifest.yaml").read_text())
    m["name"] = "../../../../tmp/x"
    (bad / "manifest.yaml").write_text(yaml.safe_dump(m))
    line = one_line_error(*cli("golden", "verify", bad)[::2])
    assert "name: '../../../../tmp/x' cannot be used as a name" in line
    code, _, err = cli("train", "mlops", "--golden", bad)
    assert "cannot be used as a name" in one_line_error(code, err)
    assert not Path("/tmp/x").exists() or Path("/tmp/x").stat().st_mtime < time.time() - 60


def _criteria(tmp_path: Path, change) -> Path:
    data = yaml.safe_load(CRITERIA.read_text())
    change(data)
    path = tmp_path / "criteria.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


@pytest.mark.parametrize("change,expect", [
    (lambda c: c["criteria"][0].update(target="abc"), "criteria[0].target: not a number"),
    (lambda c: c["go_no_go"]["go"].__setitem__(0, "accuracy"), "go_no_go.go[0]: Input should be a valid dictionary"),
    (lambda c: c["go_no_go"]["no_go"][1].update(value="high"), "go_no_go.no_go[1].value: Input should be a valid number"),
    (lambda c: c["go_no_go"].update(weeks=100000000), "go_no_go.weeks: Input should be less than or equal to 520"),
    (lambda c: c["rollback_triggers"][0].update(hours="abc"), "rollback_triggers[0].hours: Input should be a valid"),
    (lambda c: c["go_no_go"]["go"][0].pop("metric"), "go_no_go.go[0].metric: a 'weekly_vs_baseline' condition needs"),
    (lambda c: c["go_no_go"]["go"][0].update(kind="vibes"), "go_no_go.go[0].kind: unknown kind 'vibes'"),
])
def test_criteria_files_are_typed(scored, tmp_path, cli, change, expect):
    path = _criteria(tmp_path, change)
    line = one_line_error(*cli("gates", scored, "--criteria", path)[::2])
    assert expect in line and str(path) in line


def test_rollback_monitoring_values_must_be_numbers(tmp_path, cli):
    path = tmp_path / "monitoring.jsonl"
    path.write_text(json.dumps({"timestamp": "2026-11-01T00:00:00", "accuracy": "high", "baseline_accuracy": 0.9})
                    + "\n")
    line = one_line_error(*cli("rollback", path)[::2])
    assert f"{path}:1: accuracy: expected a number" in line


@pytest.mark.parametrize("change,expect", [
    (lambda m: m["fields"]["currency"].update(values=5), "fields.currency.values: Input should be a valid list"),
    (lambda m: m["fields"]["currency"].update(aliases=["USD"]), "fields.currency.aliases: Input should be a valid"),
    (lambda m: m.update(files={"../../etc/passwd": {"sha256": "0" * 64}}), "files."),
    (lambda m: m.update(labels="invoice"), "labels: Input should be a valid list"),
])
def test_manifests_are_typed(tiny_golden, tmp_path, cli, change, expect):
    bad = tmp_path / "bad"
    shutil.copytree(tiny_golden, bad)
    m = yaml.safe_load((bad / "manifest.yaml").read_text())
    change(m)
    (bad / "manifest.yaml").write_text(yaml.safe_dump(m))
    line = one_line_error(*cli("golden", "verify", bad)[::2])
    assert expect in line and "manifest.yaml:" in line  # with the line of the key


@pytest.mark.parametrize("record,expect", [
    ('{"id": "d012", "label": ' + "[" * 100_000 + "]" * 100_000 + "}", "invalid JSON: nested too deeply"),
    ('{"id": "d012", "tasks": {"classify": {"usage": {"input_tokens": "lots"}}}}',
     "tasks.classify.usage.input_tokens: Input should be a valid integer"),
    ('{"id": "d012", "tasks": {"classify": {"latency_s": "slow"}}}', "tasks.classify.latency_s: Input should be"),
    ('{"id": "d012", "tasks": {"classify": {"meta": [1]}}}', "tasks.classify.meta: Input should be a valid dict"),
    ('{"id": "d012", "tasks": {"classify": {"latency_s": NaN}}}', "NaN is not a number JSON allows"),
    ('{"id": "d012", "tasks": {"classify": {"latency_s": 1e999}}}', "too large for a number"),
    ('{"id": "d012", "tasks": {"classify": {"latency_s": -1}}}', "greater than or equal to 0"),
])
def test_prediction_records_are_typed(tiny_golden, tmp_path, cli, record, expect):
    path = tmp_path / "p.jsonl"
    path.write_text(record + "\n")
    line = one_line_error(*cli("score", "--golden", tiny_golden, "--split", "test", "--predictions", path,
                               "--out", tmp_path / "s")[::2])
    assert "p.jsonl:1: " in line and expect in line


def test_golden_money_must_be_finite(tmp_path, cli):
    docs = tiny_docs()
    docs[0]["fields"]["total"] = "NaN"
    root = write_golden(tmp_path / "g", docs=docs)
    assert "fields.total: expected a finite decimal amount" in one_line_error(*cli("golden", "verify", root)[::2])
    docs[0]["fields"]["total"] = "Infinity"
    root = write_golden(tmp_path / "g2", docs=docs)
    assert "finite" in one_line_error(*cli("golden", "verify", root)[::2])


@pytest.mark.parametrize("name,change,expect", [
    ("metrics.json", lambda p: p.write_text("{broken"), "metrics.json:1: broken JSON"),
    ("run.json", lambda p: p.write_text(json.dumps({**json.loads(p.read_text()), "predictor": "x"})),
     "run.json: predictor: Input should be a valid dictionary"),
    ("metrics.json", lambda p: p.write_text(json.dumps({**json.loads(p.read_text()), "split": 3})),
     "metrics.json: split: Input should be a valid string"),
    ("metrics.json", lambda p: p.write_text('{"a": NaN}'), "NaN is not a number JSON allows"),
])
def test_broken_run_directories(scored, cli, name, change, expect):
    change(scored / name)
    readers = [["gates", scored], ["leaderboard", scored.parent], ["compare", scored, scored],
               ["diff", scored, scored]]
    for args in readers + ([["report", scored]] if name == "metrics.json" else []):  # report reads metrics only
        line = one_line_error(*cli(*args)[::2])
        assert expect in line, (args, line)


def test_prompts_without_ref_still_report(scored, cli):
    run_json = json.loads((scored / "run.json").read_text())
    run_json["predictor"] = {"name": "llmops", "prompts": {"classify": {"sha256": "x"}}}
    (scored / "run.json").write_text(json.dumps(run_json))
    for args in (["report", scored], ["leaderboard", scored.parent]):
        code, _, err = cli(*args)
        assert code == 0 and "Traceback" not in err
    assert cli("gates", scored)[0] in (0, 1)


def test_llmops_batch_size_zero(tiny_golden, tmp_path, cli):
    line = one_line_error(*cli("run", "--pipeline", "llmops", "--golden", tiny_golden, "--split", "test",
                               "--out", tmp_path / "r", "--set", "batch_size=0")[::2])
    assert "batch_size: Input should be greater than or equal to 1" in line


def test_metrics_json_is_strict_json(scored):
    def refuse(name):
        raise ValueError(name)

    for name in ("metrics.json", "run.json", "predictions.jsonl"):
        for line in (scored / name).read_text().splitlines() if name.endswith("l") else [(scored / name).read_text()]:
            json.loads(line, parse_constant=refuse)


def test_a_bad_cache_entry_is_a_miss_said_once(tmp_path, capsys):
    from harness.models.cache import CallCache

    cache = CallCache(tmp_path / "cache")
    cache.put("ab" + "0" * 62, {"text": "ok", "input_tokens": 3, "output_tokens": 1, "latency_s": 0.1})
    assert cache.get("ab" + "0" * 62)["text"] == "ok"
    for i, bad in enumerate([{"text": 3, "input_tokens": 1, "output_tokens": 1},
                             {"text": "x", "input_tokens": "lots", "output_tokens": 1}, "{broken"]):
        key = "cd" + str(i) * 62
        path = tmp_path / "cache" / "cd" / f"{key}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(bad if isinstance(bad, str) else json.dumps(bad))
        assert cache.get(key) is None
    assert capsys.readouterr().err.count("ignoring an unreadable cache entry") == 1
    assert cache.rejected == 3 and cache.hits == 1


def test_a_garbage_vector_index_is_named(tmp_path):
    from pipelines.llmops.retrieval import VectorIndex

    d = tmp_path / "index"
    d.mkdir()
    (d / "index.faiss").write_bytes(b"\x00garbage" * 10)
    (d / "chunks.json").write_text("[]")
    (d / "meta.json").write_text("{}")
    with pytest.raises(HarnessInputError, match="unreadable index"):
        VectorIndex.load(d)
    (d / "chunks.json").write_text('[{"id": 1}]')
    with pytest.raises(HarnessInputError, match="unreadable index"):
        VectorIndex.load(d)


@pytest.fixture
def tiny_model(tiny_golden, tmp_path, cli):
    out = tmp_path / "model"
    code, _, err = cli("train", "mlops", "--golden", tiny_golden, "--out", out, "--set", "classifier.n_estimators=5",
                       "--set", "extractor.n_estimators=5")
    assert code == 0, err
    return out


def _reseal(model: Path) -> None:
    """What a careful forger does: recompute every checksum and the version digest after an edit."""
    import hashlib

    meta = json.loads((model / "artifact.json").read_text())
    meta["files"] = {n: hashlib.sha256((model / n).read_bytes()).hexdigest() for n in meta["files"]}
    digest = hashlib.sha256(json.dumps(meta["files"], sort_keys=True).encode()).hexdigest()
    meta["version"] = meta["version"].split("+")[0] + "+" + digest[:12]
    (model / "artifact.json").write_text(json.dumps(meta))


@pytest.mark.parametrize("craft,expect", [
    (lambda m: (m / "artifact.json").write_text(json.dumps({**json.loads((m / "artifact.json").read_text()),
                                                             "files": {}})), "not covered by the artifact's checksums"),
    (lambda m: (m / "artifact.json").write_text(json.dumps({**json.loads((m / "artifact.json").read_text()),
                                                             "version": "mlops-1.2.0+000000000000"})),
     "does not match the artifact's files"),
    (lambda m: ((m / "classifier.ubj").write_bytes(b"garbage" * 20), _reseal(m)), "not an XGBoost model"),
    (lambda m: ((m / "vectorizer.json").write_text(json.dumps({"vocabulary": {}, "idf": []})), _reseal(m)),
     "vectorizer.json: params: Field required"),
    (lambda m: (m / "field_number.ubj").write_bytes(b"x"), "checksum mismatch"),
    (lambda m: (m / "artifact.json").write_text('{"format": "1"}'), "artifact.json: format: Input should be a valid"),
])
def test_a_crafted_model_folder_is_refused(tiny_model, tiny_golden, tmp_path, cli, craft, expect):
    craft(tiny_model)
    line = one_line_error(*cli("run", "--pipeline", "mlops", "--golden", tiny_golden, "--split", "test",
                               "--out", tmp_path / "r", "--set", f"artifact_dir={tiny_model}")[::2])
    assert expect in line, line
