"""The layout's contracts: metric registry, run store as the one merging writer, scoring as a composer of
per-task scorers, task outputs passed explicitly between tasks."""

from __future__ import annotations

import dataclasses
import json

import pytest
from sklearn.metrics import balanced_accuracy_score

from harness import load_golden_set, run
from harness.errors import HarnessInputError
from harness.predictor import Output, Predictor
from harness.store import RunStore, load_run, merge_sections
from keyword_predictor import KeywordPredictor
from metrics import registry


@pytest.fixture
def golden(tiny_golden):
    return load_golden_set(tiny_golden)


def test_every_scored_figure_is_declared(golden, tmp_path):
    res = run(KeywordPredictor(), golden, "test", tmp_path / "r", config={}, config_hash="x")
    m = res.metrics

    def leaves(node, prefix):
        for k, v in node.items():
            if isinstance(v, dict):
                yield from leaves(v, f"{prefix}{k}.")
            elif isinstance(v, float):
                yield f"{prefix}{k}"

    names = [n for sec in ("classification", "extraction", "latency", "throughput") if sec in m
             for n in leaves(m[sec], sec + ".")]
    assert "classification.accuracy" in names and "latency.classify.p95" in names
    for name in names:
        assert registry.lookup(name).name  # raises UnknownMetric for an undeclared figure


def test_registry_answers_direction_title_and_unknowns():
    assert registry.higher_is_better("classification.per_class.invoice.f1") is True
    assert registry.higher_is_better("latency.document.p95") is False
    assert registry.lookup("extraction.per_field.total.accuracy").title_for("extraction.per_field.total.accuracy") \
        == "field total"
    with pytest.raises(registry.UnknownMetric):
        registry.lookup("classification.acuracy")
    with pytest.raises(registry.UnknownMetric):
        registry.higher_is_better("counts.items")  # a count has no better direction
    with pytest.raises(ValueError, match="higher is better: True"):
        registry.check_direction("classification.accuracy", False)
    names = [m.name for m in registry.METRICS]
    assert len(names) == len(set(names)), "one declaration per metric"


def test_derived_metric_matches_scikit_learn(golden, tmp_path):
    res = run(KeywordPredictor(fail_ids={"d013"}), golden, "test", tmp_path / "r", config={}, config_hash="x")
    preds = {p.id: p for p in RunStore(tmp_path / "r").predictions()}
    docs = golden.items("test", kinds=("document",))
    y_true = [d.label for d in docs]
    y_pred = [preds[d.id].label or docs[0].label * 2 for d in docs]  # a failed call: a label no document has
    assert res.metrics["classification"]["balanced_accuracy"] == pytest.approx(
        balanced_accuracy_score(y_true, y_pred))


def test_adding_a_metric_is_one_declaration(golden, tmp_path, monkeypatch):
    """The extension point ARCHITECTURE.md shows: a declaration with ``compute`` reaches metrics.json, the
    report table and the direction check without touching scoring, reports or gates."""
    from harness import report

    def error_rate(y_true, y_pred, labels):
        return sum(p != t for t, p in zip(y_true, y_pred)) / len(y_true) if y_true else None

    extra = registry.Metric("classification.error_rate", "classification error rate", "fraction", False, "classify",
                            headline=True, compute=error_rate)
    monkeypatch.setattr(registry, "METRICS", registry.METRICS + (extra,))
    res = run(KeywordPredictor(), golden, "test", tmp_path / "r", config={}, config_hash="x")
    acc = res.metrics["classification"]["accuracy"]
    assert res.metrics["classification"]["error_rate"] == pytest.approx(1 - acc)
    assert "classification error rate" in report.table(["r"], [res.metrics])
    assert registry.higher_is_better("classification.error_rate") is False


def test_metrics_sections_merge_and_survive_rescoring(golden, tmp_path):
    from harness.scoring import score_run

    out = tmp_path / "r"
    run(KeywordPredictor(), golden, "test", out, config={}, config_hash="x")
    store = RunStore(out)
    store.write_metrics({"grading": {"points": 7}, "ci": {"grading.points": {"low": 0, "high": 1}}})
    merged = score_run(out, golden)  # a later step rewrites the core sections
    assert merged["grading"] == {"points": 7} and "cost" in merged
    assert "grading.points" in merged["ci"] and "classification.accuracy" in merged["ci"]
    assert json.loads((out / "metrics.json").read_text()) == merged
    assert not [p.name for p in out.iterdir() if p.name.endswith(".tmp")]
    assert merge_sections({"a": {"x": 1}}, {"a": {"y": 2}}) == {"a": {"y": 2}}


def test_run_loads_typed_and_refuses_broken_files(golden, tmp_path):
    out = tmp_path / "r"
    run(KeywordPredictor(), golden, "test", out, config={}, config_hash="x")
    r = load_run(out)
    assert r.pipeline == "keyword" and r.split == "test" and r.golden_sha == golden.hash
    assert r.value("classification.accuracy") == r.metrics["classification"]["accuracy"]
    (out / "metrics.json").write_text("{broken", encoding="utf-8")
    with pytest.raises(HarnessInputError, match="metrics.json:1: broken JSON"):
        load_run(out)


def test_old_run_directory_still_loads(tmp_path):
    """A run directory as `harness score` wrote it before the layout change."""
    d = tmp_path / "old"
    d.mkdir()
    (d / "run.json").write_text(json.dumps({"predictor": {"name": "external", "predictions": "p.jsonl"},
                                            "golden": {"name": "g", "sha256": "abc"}, "split": "test",
                                            "scored_at": "2026-11-20T10:00:00+00:00", "tasks": ["classify"]}))
    (d / "metrics.json").write_text(json.dumps({"schema_version": 1, "golden": {"sha256": "abc"}, "split": "test",
                                                "classification": {"accuracy": 0.9}, "counts": {"items": 10}}))
    r = load_run(d)
    assert r.value("classification.accuracy") == 0.9 and r.evaluated_on.isoformat() == "2026-11-20"


class _Recorder(Predictor):
    """Records what extract receives from classify."""
    name = "recorder"
    capabilities = frozenset({"classify", "extract"})

    def __init__(self, fail_classify=()):
        self.fail_classify = set(fail_classify)
        self.seen: list = []

    def predict(self, items, task, upstream=None):
        if task == "classify":
            return [Output(error="boom") if it.id in self.fail_classify else Output(value=it.label) for it in items]
        self.seen.extend((it.id, dict(u)) for it, u in zip(items, upstream))
        return [Output(value={}) for _ in items]


@pytest.mark.parametrize("batch_size,concurrency", [(1, 1), (3, 1), (1, 2)])
def test_extract_receives_the_classify_output_explicitly(golden, tmp_path, batch_size, concurrency):
    pred = _Recorder(fail_classify={"d013"})
    run(pred, golden, "test", tmp_path / "r", config={}, config_hash="x", batch_size=batch_size,
        concurrency=concurrency)
    by_id = dict(pred.seen)
    docs = {d.id: d for d in golden.items("test", kinds=("document",))}
    assert set(by_id) == set(docs)
    for doc_id, up in by_id.items():
        assert up == ({} if doc_id == "d013" else {"classify": docs[doc_id].label})
    assert not hasattr(pred, "_labels") and not hasattr(pred, "_last_labels")


def test_run_result_is_a_value(golden, tmp_path):
    res = run(KeywordPredictor(), golden, "test", tmp_path / "r", config={}, config_hash="x")
    with pytest.raises(dataclasses.FrozenInstanceError):
        res.metrics = {}  # type: ignore[misc]


def test_harness_imports_no_pipeline_outside_the_registry():
    """Data flows one way: pipelines import harness, never the reverse (harness/pipelines.py registers them
    by name, through importlib)."""
    import ast

    from conftest import ROOT

    offenders = []
    for path in (ROOT / "harness").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [node.module] if isinstance(node, ast.ImportFrom) and node.module else \
                [a.name for a in node.names] if isinstance(node, ast.Import) else []
            offenders += [f"{path.relative_to(ROOT)}: {n}" for n in names if n.split(".")[0] == "pipelines"]
    assert offenders == []


def _settings_models():
    from harness.judge import JudgeSettings
    from harness.pipelines import REGISTRY, config_model

    return [JudgeSettings] + [config_model(name) for name in REGISTRY]


def test_every_settings_key_is_documented():
    from pydantic import BaseModel

    from harness.config import StrictModel

    def walk(model, prefix=""):
        assert issubclass(model, StrictModel), f"{model.__name__} does not use the one strict base"
        for name, field in model.model_fields.items():
            assert field.description, f"{prefix}{name} of {model.__name__} has no description"
            if isinstance(field.annotation, type) and issubclass(field.annotation, BaseModel):
                walk(field.annotation, f"{prefix}{name}.")

    for model in _settings_models():
        walk(model)


def test_harness_config_and_metrics_commands(cli):
    code, out, _ = cli("config", "llmops")
    assert code == 0 and "retrieval.top_k" in out and "passages retrieved per question" in out
    code, out, _ = cli("config", "judge", "--format", "json")
    assert code == 0 and any(r["key"] == "judge.provider" for r in json.loads(out))
    assert cli("config", "nope")[0] == 2
    code, out, _ = cli("metrics", "--match", "classification.*")
    assert code == 0 and "classification.accuracy" in out and "classification.balanced_accuracy" in out


def test_criteria_file_is_checked_against_the_registry(tmp_path, cli):
    import yaml

    from harness import gates

    base = {"criteria": [{"id": "a", "metric": "classification.acuracy", "higher_is_better": True, "target": 0.9,
                          "must_have": 0.8}]}
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(base))
    with pytest.raises(HarnessInputError, match=r"criteria\[0\].metric: unknown metric 'classification.acuracy'"):
        gates.load_criteria(path)
    base["criteria"][0].update(metric="counts.items")
    path.write_text(yaml.safe_dump(base))
    with pytest.raises(HarnessInputError, match="no better direction"):
        gates.load_criteria(path)
    path.write_text(yaml.safe_dump({"regression": {"tolerance": {"latency.document.p59": 0.1}}}))
    with pytest.raises(HarnessInputError, match=r"regression.tolerance.latency.document.p59: unknown metric"):
        gates.load_criteria(path)
    path.write_text(yaml.safe_dump({"go_no_go": {"go": [{"id": "x", "kind": "threshold", "metric": "cost.per_doc",
                                                         "op": "<", "value": 1}]}}))
    with pytest.raises(HarnessInputError, match=r"go_no_go.go\[0\].metric: unknown metric"):
        gates.load_criteria(path)
    gates.load_criteria()  # the shipped file passes


def test_gates_json_is_written_through_the_store(golden, tmp_path, cli):
    out = tmp_path / "r"
    run(KeywordPredictor(), golden, "test", out, config={}, config_hash="x")
    code, _, _ = cli("gates", out)
    assert code in (0, 1)
    data = json.loads((out / "gates.json").read_text())
    assert data["run"] == "r" and data["criteria"] and not list(out.glob(".*.tmp"))


def test_markdown_and_csv_cells_are_escaped():
    from harness.render import table

    import re

    row = table(["a", "b"], [["x|y", "<script>"]], "md").splitlines()[2]
    assert [c.strip() for c in re.split(r"(?<!\\)\|", row)[1:-1]] == ["x\\|y", "&lt;script&gt;"]  # 2 cells, not 3
    csv_out = table(["a"], [["=HYPERLINK(1)"], ["-3"], ["@x"], ["\t=1+1"], ["\r=1+1"]], "csv")
    assert "'=HYPERLINK(1)" in csv_out and "\n-3" in csv_out and "'@x" in csv_out
    assert "'\t=1+1" in csv_out and "'\r=1+1" in csv_out  # OWASP: tab and CR start a formula too


def test_credentials_in_urls_never_reach_run_json(golden, tmp_path):
    from harness.config import strip_credentials

    secret = "http://AKIAEXAMPLE:wJalrXUtnFEMI@127.0.0.1:9/bedrock"
    run(KeywordPredictor(), golden, "test", tmp_path / "r", config={"llm": {"endpoint_url": secret}},
        config_hash="x")
    text = (tmp_path / "r" / "run.json").read_text()
    assert "wJalrXUtnFEMI" not in text and "AKIAEXAMPLE" not in text and "http://127.0.0.1:9/bedrock" in text
    assert strip_credentials(["ftp://u@h/x", "mail@example.com", 3]) == ["ftp://h/x", "mail@example.com", 3]


def _import_graph() -> dict[str, set[str]]:
    """Module -> the harness modules it imports, from every ``import``/``from`` statement in ``harness/`` (those
    at the top and those inside functions alike: a function-level import only hides a circle, it does not end
    it)."""
    import ast

    from conftest import ROOT

    files = {}
    for path in (ROOT / "harness").rglob("*.py"):
        parts = path.relative_to(ROOT).with_suffix("").parts
        files[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path

    def module_of(name: str) -> str | None:
        while name and name not in files:
            name = name.rpartition(".")[0]
        return name or None

    graph: dict[str, set[str]] = {}
    for module, path in files.items():
        package = module if path.name == "__init__.py" else module.rpartition(".")[0]
        graph[module] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:  # relative: from the package, one level up per extra dot
                    up = package.split(".")[:len(package.split(".")) - (node.level - 1)]
                    base = ".".join(up + ([base] if base else []))
                names = [base] + [f"{base}.{a.name}" for a in node.names]  # a name may be a submodule
            else:
                continue
            graph[module] |= {t for t in map(module_of, (n for n in names if n.split(".")[0] == "harness"))
                              if t and t != module}
    return graph


def _circles(graph: dict[str, set[str]]) -> list[frozenset[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    out: list[frozenset[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = set()
            while True:
                w = stack.pop()
                component.add(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(frozenset(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


ALLOWED_CIRCLES: set = set()  # none: every job has one home, data flows one way


def test_harness_modules_import_one_way():
    """Data flows one way (ARCHITECTURE.md): no two harness modules import each other, directly or round a
    circle, at the top or inside a function."""
    graph = _import_graph()
    assert "harness.cli.cost_run" in graph["harness.cli.cost"]  # the graph sees function-level imports too
    circles = [sorted(c) for c in _circles(graph) if c not in ALLOWED_CIRCLES]
    assert circles == []
    # the finder finds a circle when there is one
    assert _circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [frozenset("abc")]


def test_each_criteria_kind_has_its_judge():
    """A criteria file's kinds (checked at load, harness.gates.criteria) and the functions that judge them
    (go_no_go, rollback) name the same kinds."""
    from harness.gates import criteria, go_no_go, rollback

    assert set(criteria.CONDITION_KEYS) == set(go_no_go.KINDS)
    assert set(criteria.TRIGGER_KEYS) == set(rollback.KINDS)
