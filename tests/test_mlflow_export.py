"""``harness export mlflow``: an MLOps run and an LLMOps run (Bedrock stand-in) of one golden split exported into a
temporary sqlite store and read back through MLflow's own client: the registry metrics, tags, dataset digest and
artifacts; a second export that changes nothing, and one after re-gating and re-judging that changes only what
changed; MLflow's ordering against the leaderboard's; a graded class and a shadow database; bad input."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import socket
from pathlib import Path

import pytest

pytest.importorskip("mlflow")
pytest.importorskip("langchain_aws")
pytest.importorskip("faiss")

from bedrock_standin import BedrockStandIn  # noqa: E402
from conftest import TECHCORP  # noqa: E402
from harness.cli import main  # noqa: E402
from harness.store import RunStore  # noqa: E402
from metrics import registry  # noqa: E402
from test_extras import harness, one_error_line  # noqa: E402
from test_llmops_bedrock import HAIKU, GoldResponder  # noqa: E402
from test_shadow_db import make_records, write_jsonl  # noqa: E402

SELECT = ["--golden", str(TECHCORP), "--split", "test", "--per-class", "1", "--qa-limit", "0", "--no-progress"]  # one item set
ARTIFACTS = {"run.json", "metrics.json", "gates.json", "predictions.jsonl", "config.json", "report.html"}
AWS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "testing",
       "AWS_EC2_METADATA_DISABLED": "true", "AWS_DEFAULT_REGION": "us-east-1"}


def _cli(*args) -> int:
    return main([str(a) for a in args])


@pytest.fixture(scope="module")
def store(tmp_path_factory, mlops_artifacts):
    """Both runs, gated, exported once into one sqlite store for the module (MLflow's migrations take seconds)."""
    root = tmp_path_factory.mktemp("mlflow")
    (root / "artifacts").symlink_to(mlops_artifacts, target_is_directory=True)
    runs = root / "runs"
    here = os.getcwd()
    os.chdir(root)
    try:
        with pytest.MonkeyPatch.context() as mp:
            for k, v in AWS.items():
                mp.setenv(k, v)
            mp.delenv(TRACKING_ENV_NAME, raising=False)
            assert _cli("run", "--pipeline", "mlops", *SELECT, "--out", runs / "mlops") == 0
            broken = [d.id for d in _documents()][:1]
            with BedrockStandIn(responder=GoldResponder(broken=broken), latency_s=0.001) as server:
                assert _cli("run", "--pipeline", "llmops", *SELECT, "--out", runs / "llmops",
                            "--set", "llm.provider=bedrock", "--set", f"llm.model_id={HAIKU}",
                            "--set", f"llm.endpoint_url={server.url}", "--set", "embeddings.provider=bedrock",
                            "--set", "llm.concurrency=4", "--set", f"cache.dir={root / 'cache'}",
                            "--set", f"index_dir={root / 'index'}") == 0
            for name in ("mlops", "llmops"):
                assert _cli("gates", runs / name, "--baseline", runs / "mlops", "--format", "json") in (0, 1)
            uri = f"sqlite:///{root / 'mlflow.db'}"
            assert _cli("export", "mlflow", runs / "mlops", runs / "llmops", "--tracking-uri", uri,
                        "--experiment", "pilot") == 0
    finally:
        os.chdir(here)
    from mlflow.tracking import MlflowClient

    client = MlflowClient(uri)
    return {"root": root, "runs": runs, "uri": uri, "client": client,
            "experiment": client.get_experiment_by_name("pilot").experiment_id}


TRACKING_ENV_NAME = "MLFLOW_TRACKING_URI"


def _documents():
    from harness.golden import load_golden_set

    return load_golden_set(TECHCORP).items("test", kinds=("document",))


def _mlflow_runs(store) -> dict:
    found = store["client"].search_runs([store["experiment"]], max_results=100)
    return {r.info.run_name: r for r in found}


def _declared_numbers(node, prefix=""):
    """Every number of a metrics.json mapping whose dotted name the registry declares (computed here, apart from
    the exporter)."""
    out = {}
    for k, v in node.items():
        name = f"{prefix}.{k}" if prefix else k
        if isinstance(v, dict):
            out.update(_declared_numbers(v, name))
        elif isinstance(v, (int, float)) and not isinstance(v, bool):
            try:
                registry.lookup(name)
            except registry.UnknownMetric:
                continue
            out[name] = v
    return out


def test_every_registry_metric_tag_dataset_and_artifact_is_in_mlflow(store):
    runs = _mlflow_runs(store)
    assert set(runs) == {"mlops", "llmops"}
    for name, mr in runs.items():
        path = store["runs"] / name
        m = json.loads((path / "metrics.json").read_text())
        run_json = json.loads((path / "run.json").read_text())
        gates = json.loads((path / "gates.json").read_text())
        expected = _declared_numbers({k: v for k, v in m.items() if k != "ci"})
        assert len(expected) > 40 and "cost.per_document" in expected
        assert any(".per_class." in k for k in expected) and any(".per_field." in k for k in expected)
        for key, value in expected.items():
            assert mr.data.metrics[key] == pytest.approx(value, abs=0), key
        intervals = {k: ci for k, ci in m["ci"].items() if isinstance(ci, dict) and k in expected}
        assert "classification.accuracy" in intervals
        for key, ci in intervals.items():
            assert mr.data.metrics[f"{key}.ci_low"] == ci["low"] and mr.data.metrics[f"{key}.ci_high"] == ci["high"]
        assert set(mr.data.metrics) == set(expected) | {f"{k}.ci_{b}" for k in intervals for b in ("low", "high")}
        tags = mr.data.tags
        assert tags["golden.name"] == m["golden"]["name"] and tags["golden.version"] == str(m["golden"]["version"])
        assert tags["golden.sha256"] == m["golden"]["sha256"] and tags["golden.split"] == "test"
        assert tags["golden.item_set"] == run_json["item_ids_sha256"]
        assert tags["config_hash"] == run_json["predictor"]["config_hash"]
        assert tags["git_commit"] == run_json["git_commit"]
        from harness.version import __version__

        assert tags["harness.version"] == __version__
        assert tags["gate.status"] == gates["status"] and tags["gate.verdict"] == gates["go_no_go"]["verdict"]
        assert {k[len("gate.criterion."):]: v for k, v in tags.items() if k.startswith("gate.criterion.")} == \
            {c["id"]: c["status"] for c in gates["criteria"]}
        params = mr.data.params
        assert params["pipeline"] == name and params["config.pipeline"] == name
        if name == "llmops":
            assert params["config.llm.model_id"] == HAIKU
            assert {params[f"prompt.{t}.sha256"] for t in run_json["predictor"]["prompts"]} == \
                {p["sha256"] for p in run_json["predictor"]["prompts"].values()}
        (ds,) = mr.inputs.dataset_inputs
        assert ds.dataset.digest == m["golden"]["sha256"][:36] and ds.dataset.name == f"techcorp@{m['golden']['version']}:test"
        listed = {f.path for f in store["client"].list_artifacts(mr.info.run_id)}
        assert listed == ARTIFACTS
        local = Path(store["client"].download_artifacts(mr.info.run_id, "metrics.json", str(store["root"] / name)))
        assert local.read_bytes() == (path / "metrics.json").read_bytes()
        config = json.loads(Path(store["client"].download_artifacts(mr.info.run_id, "config.json",
                                                                    str(store["root"] / name))).read_text())
        assert config == run_json["predictor"]["config"]


def test_search_runs_ranks_as_the_leaderboard(store, capsys):
    import mlflow

    metric = "extraction.accuracy"
    assert _cli("leaderboard", store["runs"], "--metric", metric, "--format", "csv") == 0
    board = [row["run"] for row in csv.DictReader(io.StringIO(capsys.readouterr().out))]
    mlflow.set_tracking_uri(store["uri"])
    try:
        found = mlflow.search_runs([store["experiment"]], order_by=[f"metrics.`{metric}` DESC"])
    finally:
        mlflow.set_tracking_uri(None)
    values = {r: json.loads((store["runs"] / r / "metrics.json").read_text())["extraction"]["accuracy"] for r in board}
    assert len(set(values.values())) == 2  # no tie: the order says something
    assert list(found["tags.mlflow.runName"]) == board


def test_a_second_export_changes_nothing_and_a_regated_rejudged_run_only_what_changed(store, tmp_path, capsys):
    client, runs = store["client"], store["runs"]
    before = _mlflow_runs(store)
    assert _cli("export", "mlflow", runs / "mlops", runs / "llmops", "--tracking-uri", store["uri"],
                "--experiment", "pilot") == 0
    assert capsys.readouterr().out.count("(unchanged)") == 2
    after = _mlflow_runs(store)
    assert {n: r.info.run_id for n, r in after.items()} == {n: r.info.run_id for n, r in before.items()}
    for n in after:
        assert (after[n].data.metrics, after[n].data.tags, after[n].data.params) == \
            (before[n].data.metrics, before[n].data.tags, before[n].data.params)
    llm = before["llmops"]
    assert all(len(client.get_metric_history(llm.info.run_id, k)) == 1 for k in llm.data.metrics)  # no new point
    # judged again (the store's writer, as harness judge writes its section) and gated on another file
    old = RunStore(runs / "llmops").read_metrics()
    RunStore(runs / "llmops").write_metrics({"summaries": {**old["summaries"], "faithfulness": 0.5}})
    assert _cli("gates", runs / "llmops", "--only", "classification_accuracy", "--format", "json") in (0, 1)
    capsys.readouterr()
    assert _cli("export", "mlflow", runs / "llmops", "--tracking-uri", store["uri"], "--experiment", "pilot") == 0
    out = capsys.readouterr().out
    assert "updated: 1 metrics" in out, out
    new = _mlflow_runs(store)["llmops"]
    assert new.info.run_id == llm.info.run_id and len(_mlflow_runs(store)) == 2
    assert new.data.metrics["summaries.faithfulness"] == 0.5
    assert [m.value for m in client.get_metric_history(new.info.run_id, "summaries.faithfulness")][-1] == 0.5
    changed = {k for k in new.data.metrics if new.data.metrics[k] != llm.data.metrics.get(k)}
    assert changed == {"summaries.faithfulness"}
    gates = json.loads((runs / "llmops" / "gates.json").read_text())
    assert {k for k in new.data.tags if k.startswith("gate.criterion.")} == \
        {f"gate.criterion.{c['id']}" for c in gates["criteria"]}  # the criteria no longer gated: removed
    local = Path(client.download_artifacts(new.info.run_id, "gates.json", str(tmp_path)))
    assert json.loads(local.read_text()) == gates


def test_grading_and_shadow_export_one_mlflow_run_per_student_and_week(store, tmp_path, capsys):
    out = tmp_path / "class"
    for sid, score, status in (("s1", 8.5, "graded"), ("s2", 0.0, "missing")):
        tests = [{"name": "accuracy", "score": score, "max_score": 10, "output": "hidden-split text",
                  "visibility": "visible"}] if status == "graded" else []
        (out / "gradescope" / sid).mkdir(parents=True)
        (out / "gradescope" / sid / "results.json").write_text(json.dumps(
            {"score": score, "output": f"status: {status}", "tests": tests, "extra_data": {"status": status,
                                                                                          "max_grade": 10}}))
    log, db = tmp_path / "results.jsonl", tmp_path / "cmp.sqlite"
    write_jsonl(log, make_records(docs_per_day=2, weeks=3))
    assert _cli("shadow", "ingest", log, "--db", db) == 0
    capsys.readouterr()
    assert _cli("export", "mlflow", "--grading", out, "--shadow", db, "--tracking-uri", store["uri"],
                "--experiment", "class") == 0
    client = store["client"]
    exp = client.get_experiment_by_name("class").experiment_id
    found = {r.info.run_name: r for r in client.search_runs([exp])}
    assert set(found) == {"s1", "s2", "shadow 2026-W02", "shadow 2026-W03", "shadow 2026-W04"}
    assert found["s1"].data.metrics == {"grade": 8.5, "line.accuracy": 8.5, "line.accuracy.max": 10.0}
    assert found["s2"].data.tags["grading.status"] == "missing"
    assert not any("hidden" in v for r in found.values() for v in r.data.tags.values())
    week = found["shadow 2026-W02"].data
    from harness.shadow import dashboard, judge
    from harness.shadow.db import database

    with database(db, create=False) as conn:
        row = dashboard.weekly(conn)[0]
        verdict = judge.judge_all(conn)["2026-W02"]
    assert week.metrics["mlops.classification_match"] == row.mlops.classification_match
    assert week.metrics["llmops.latency_p95"] == row.llmops.latency_p95
    assert week.tags["shadow.verdict"] == verdict.verdict
    assert week.tags["judge.classification_match"] == verdict.metric("Classification match").verdict
    assert _cli("export", "mlflow", "--grading", out, "--tracking-uri", store["uri"], "--experiment", "class") == 0
    assert len(client.search_runs([exp])) == 5


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_bad_input_is_one_line_and_credentials_are_never_printed(store, tmp_path, cli):
    not_a_run = tmp_path / "empty"
    not_a_run.mkdir()
    code, _, err = cli("export", "mlflow", not_a_run, "--tracking-uri", store["uri"])
    assert "not a run directory" in one_error_line(code, err) and str(not_a_run) in err
    secret = f"http://alice:s3cret@127.0.0.1:{_free_port()}"  # nothing listens there
    code, out, err = cli("export", "mlflow", store["runs"] / "mlops", "--tracking-uri", secret)
    assert "cannot reach the MLflow tracking store http://127.0.0.1:" in one_error_line(code, err)
    assert "s3cret" not in out + err and "alice" not in out + err
    assert "MLFLOW_HTTP_REQUEST_MAX_RETRIES" not in os.environ  # the probe's settings are put back
    # a server's run links (its URI, credentials included) are MLflow's own print: off while the harness exports
    from mlflow.environment_variables import MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT

    from harness.mlflow_export import session

    with session():
        assert MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT.get() is True
    assert "MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT" not in os.environ
    code, _, err = harness("export", "mlflow", store["runs"] / "mlops", blocked=["mlflow"], cwd=tmp_path)
    line = one_error_line(code, err)
    assert line.startswith("error: --tracking-uri: harness export mlflow needs the 'mlflow' extra"), line
    assert line.endswith("pip install 'docintel-harness[mlflow]'"), line


def test_default_store_is_mlflow_db_in_the_working_directory(store, tmp_path, monkeypatch):
    """No --tracking-uri and no MLFLOW_TRACKING_URI: sqlite:///mlflow.db where the command runs."""
    monkeypatch.delenv(TRACKING_ENV_NAME, raising=False)
    shutil.copy(store["root"] / "mlflow.db", tmp_path / "mlflow.db")  # the migrated store: no second migration
    monkeypatch.chdir(tmp_path)
    assert _cli("export", "mlflow", store["runs"] / "mlops", "--experiment", "pilot") == 0
    from mlflow.tracking import MlflowClient

    client = MlflowClient(f"sqlite:///{tmp_path / 'mlflow.db'}")
    exp = client.get_experiment_by_name("pilot").experiment_id
    assert len(client.search_runs([exp])) == 2  # found by its identity tag, not duplicated
