"""What ``harness export mlflow`` writes, built from what the harness holds: one :class:`Entry` (params, metrics,
tags, artifacts, dataset) per harness run, per graded student and per comparison-database week, and the files it
reads for them (``gates.json``, a student's ``results.json``), typed. :mod:`harness.mlflow_export` writes them
to the tracker."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Mapping

from pydantic import ConfigDict, Field

from harness.config import StrictModel, strip_credentials
from harness.errors import HarnessInputError
from harness.files import dumps_json, read_json, validate

GATE_PREFIX = "gate."  # gate.status, gate.verdict, gate.criterion.<id>
MAX_GRADE = 10**6  # points a grade or a rubric line can carry, far beyond any rubric
_BAD_KEY = re.compile(r"[^\w.\- ]")  # MLflow keys: alphanumerics, _ - . and space ('/' would read as a path)
MAX_KEY = 250  # MLflow's longest key (mlflow.utils.validation.MAX_ENTITY_KEY_LENGTH)


# ---------------------------------------------------------------------------------------------- the files read
class _Read(StrictModel):
    model_config = ConfigDict(extra="ignore", allow_inf_nan=False)  # the harness writes more keys than are read


class CriterionStatus(_Read):
    id: str = Field(min_length=1, max_length=200, description="the criterion's id in the criteria file")
    status: str = Field(max_length=200, description="its status (met, target met, failed, not measurable)")


class GoNoGo(_Read):
    verdict: str = Field(max_length=50, description="GO, NO-GO or HOLD")


class GatesFile(_Read):
    """``gates.json`` as ``harness gates`` writes it: what the export tags."""
    criteria: list[CriterionStatus] = Field(default=[], max_length=10_000, description="each criterion's result")
    status: str = Field(max_length=10_000, description="the run's one gate status (pass, or fail naming criteria)")
    go_no_go: GoNoGo | None = Field(None, description="the go/no-go verdict over dated runs, when it was asked")


class GradedLine(_Read):
    name: str = Field(min_length=1, max_length=200, description="the rubric line")
    score: float = Field(ge=-MAX_GRADE, le=MAX_GRADE, description="points given (a penalty is negative)")
    max_score: float | None = Field(None, ge=0, le=MAX_GRADE, description="the line's maximum (none: a penalty)")


class GradedStatus(_Read):
    status: str = Field(max_length=50, description="graded, over budget, missing, invalid or error")


class StudentResult(_Read):
    """A student's ``gradescope/<id>/results.json`` (:func:`harness.grading.outputs.gradescope`): the grade and
    its lines; its texts (what the student is told) are not read."""
    score: float = Field(ge=-MAX_GRADE, le=MAX_GRADE, description="the student's grade")
    tests: list[GradedLine] = Field(default=[], max_length=1000, description="the rubric lines")
    extra_data: GradedStatus = Field(description="the grading status")


def mlflow_key(name: str) -> str:
    """A name as an MLflow metric, param or tag key (a class label or field name may hold any character).

    >>> mlflow_key("classification.per_class.credit/note.f1")
    'classification.per_class.credit_note.f1'
    """
    return _BAD_KEY.sub("_", name)[:MAX_KEY]


def _digest(*parts: Any) -> str:
    return hashlib.sha256(dumps_json(parts, sort_keys=True, default=str).encode()).hexdigest()


# ---------------------------------------------------------------------------------------------- an entry
@dataclass(frozen=True)
class Entry:
    """What one MLflow run holds: found by ``identity``, named ``name``."""
    identity: str
    name: str
    kind: str
    params: Mapping[str, str]
    metrics: Mapping[str, float]
    tags: Mapping[str, str]
    artifacts: Mapping[str, Path]  # artifact name -> local file
    dataset: Mapping[str, str] | None = None  # name, digest, source


# ---------------------------------------------------------------------------------------------- a harness run
def _flatten(value: Any, prefix: str) -> dict[str, str]:
    """Nested settings as dotted keys; a list or a scalar as its JSON text (a string as itself).

    >>> _flatten({"a": {"b": 1, "c": [1, 2]}, "d": "x", "e": None}, "config")
    {'config.a.b': '1', 'config.a.c': '[1, 2]', 'config.d': 'x', 'config.e': 'null'}
    """
    if isinstance(value, Mapping) and value:
        out: dict[str, str] = {}
        for k, v in value.items():
            out.update(_flatten(v, f"{prefix}.{k}"))
        return out
    return {prefix: value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)}


def run_params(run: Any) -> dict[str, str]:
    """A run's params: its config flattened, its prompts, pipeline and model version; values cut to MLflow's
    length limit (the whole config is the artifact ``config.json``)."""
    from mlflow.utils.validation import MAX_PARAM_VAL_LENGTH

    from harness.records import model_label

    predictor = run.run.get("predictor") or {}
    out = _flatten(strip_credentials(predictor.get("config") or {}), "config")
    for task, prompt in sorted(run.prompts.items()):
        for key in ("ref", "sha256"):
            if isinstance(prompt, Mapping) and prompt.get(key):
                out[f"prompt.{task}.{key}"] = str(prompt[key])
    out["pipeline"] = run.pipeline
    out["model_version"] = model_label(run.run)
    return {mlflow_key(k): v[:MAX_PARAM_VAL_LENGTH] for k, v in out.items()}


def _numbers(node: Any, prefix: str = "") -> Iterator[tuple[str, float]]:
    if isinstance(node, Mapping):
        for k, v in node.items():
            yield from _numbers(v, f"{prefix}.{k}" if prefix else str(k))
    elif isinstance(node, (int, float)) and not isinstance(node, bool):
        yield prefix, float(node)


def run_metrics(metrics: Mapping[str, Any]) -> dict[str, float]:
    """Every number of ``metrics.json`` the registry declares, under its registry name, and each interval of
    the ``ci`` section as ``<name>.ci_low`` / ``<name>.ci_high``.

    >>> run_metrics({"classification": {"accuracy": 0.9, "labels": 3, "per_class": {"a": {"f1": 1}}},
    ...              "ci": {"classification.accuracy": {"low": 0.8, "high": 0.95}}})
    {'classification.accuracy': 0.9, 'classification.per_class.a.f1': 1.0, 'classification.accuracy.ci_low': 0.8, 'classification.accuracy.ci_high': 0.95}
    """
    from metrics.registry import UnknownMetric, lookup

    def declared(name: str) -> bool:
        try:
            lookup(name)
        except UnknownMetric:
            return False
        return True

    out = {mlflow_key(name): v for name, v in _numbers({k: v for k, v in metrics.items() if k != "ci"})
           if declared(name)}
    for name, bounds in (metrics.get("ci") or {}).items():
        if declared(name) and isinstance(bounds, Mapping):
            for bound in ("low", "high"):
                v = bounds.get(bound)
                if isinstance(v, (int, float)) and not isinstance(v, bool):
                    out[mlflow_key(f"{name}.ci_{bound}")] = float(v)
    return out


def read_gates(path: Path) -> GatesFile | None:
    """``gates.json`` of a run (None when the run was never gated)."""
    if not path.is_file():
        return None
    return validate(GatesFile, read_json(path, "gates.json"), path=path)


def gate_tags(gates: GatesFile | None) -> dict[str, str]:
    if gates is None:
        return {}
    tags = {f"{GATE_PREFIX}status": gates.status[:5000]}
    if gates.go_no_go is not None:
        tags[f"{GATE_PREFIX}verdict"] = gates.go_no_go.verdict
    for c in gates.criteria:
        tags[mlflow_key(f"{GATE_PREFIX}criterion.{c.id}")] = c.status
    return tags


def run_identity(run: Any) -> str:
    """What a harness run is, for finding its MLflow run again: what ran (pipeline, config hash, model version,
    prompts), on which golden set, split and items, first started when. Judging, gating or scoring it again
    keeps it; another config, prompt or item set makes another run."""
    r = run.run
    return _digest(r.get("identity") or {}, (r.get("predictor") or {}).get("config_hash"), run.prompts,
                   r.get("golden", {}).get("sha256") if isinstance(r.get("golden"), Mapping) else None,
                   run.split, r.get("item_ids_sha256"), r.get("started_at"))


def run_entry(run: Any, tmp: Path) -> Entry:
    """The MLflow run of a harness run (``tmp``: where ``config.json`` is written for the upload)."""
    from mlflow.utils.validation import MAX_DATASET_DIGEST_SIZE

    from harness.store import GATES, METRICS, PREDICTIONS, RUN_JSON
    from harness.version import __version__

    golden = run.metrics.get("golden") or run.run.get("golden") or {}
    predictor = run.run.get("predictor") or {}
    tags = {"golden.name": golden.get("name"), "golden.version": golden.get("version"), "golden.split": run.split,
            "golden.sha256": run.golden_sha, "golden.item_set": run.run.get("item_ids_sha256"),
            "config_hash": predictor.get("config_hash"), "git_commit": run.run.get("git_commit"),
            "harness.version": __version__, "harness.run": run.id, "pipeline": run.pipeline,
            **gate_tags(read_gates(run.path / GATES))}
    config = tmp / "config.json"
    config.write_text(dumps_json(strip_credentials(predictor.get("config") or {}), indent=2, sort_keys=True) + "\n",
                      encoding="utf-8")
    artifacts = {name: run.path / name for name in (RUN_JSON, METRICS, GATES, PREDICTIONS, "report.html")
                 if (run.path / name).is_file()}
    dataset = None
    if run.golden_sha:
        dataset = {"name": f"{golden.get('name', 'golden')}@{golden.get('version', '?')}:{run.split}",
                   "digest": str(run.golden_sha)[:MAX_DATASET_DIGEST_SIZE],
                   "source": str(golden.get("path") or golden.get("name") or "golden")}
    return Entry(run_identity(run), run.id, "run", run_params(run), run_metrics(run.metrics),
                 {k: str(v) for k, v in tags.items() if v is not None}, {**artifacts, "config.json": config}, dataset)


def report_page_maker(run: Any) -> Any:
    """The report page's builder for a run without its own ``report.html`` (written only when uploaded)."""
    def make(tmp: Path) -> dict[str, Path]:
        if (run.path / "report.html").is_file():
            return {}
        from harness.gates import load_criteria
        from harness.pages import write_page
        from harness.pages.report import report_page

        html = report_page([run], load_criteria(None), None, command=f"harness export mlflow {run.id}")
        return {"report.html": write_page(tmp / "report.html", html)}

    return make


# ---------------------------------------------------------------------------------------------- a graded class
def student_entries(out: Path) -> list[Entry]:
    """One entry per student of a graded class's folder (``harness grade run --out OUT``): the grade and each
    rubric line as metrics, the status as a tag; no text of what the student is told."""
    from harness.paths import safe_name

    root = out / "gradescope"
    if not root.is_dir():
        raise HarnessInputError("not a graded class's folder (no gradescope/; harness grade run --out writes it)",
                                path=out)
    entries = []
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        sid = safe_name(folder.name, path=folder)
        path = folder / "results.json"
        res = validate(StudentResult, read_json(path, "results.json"), path=path)
        metrics = {"grade": res.score, **{mlflow_key(f"line.{t.name}"): t.score for t in res.tests}}
        metrics.update({mlflow_key(f"line.{t.name}.max"): t.max_score for t in res.tests if t.max_score is not None})
        entries.append(Entry(_digest("student", str(out.resolve()), sid), sid, "student", {}, metrics,
                             {"grading.class": out.resolve().name, "grading.student": sid,
                              "grading.status": res.extra_data.status}, {}))
    if not entries:
        raise HarnessInputError("no graded student in gradescope/", path=out)
    return entries


# ---------------------------------------------------------------------------------------------- a shadow database
def _figures(prefix: str, figures: Any) -> dict[str, float]:
    from dataclasses import asdict

    if figures is None:
        return {}
    return {f"{prefix}.{k}": float(v) for k, v in asdict(figures).items() if isinstance(v, (int, float))
            and not isinstance(v, bool)}


def week_entries(db: Path) -> list[Entry]:
    """One entry per ISO week of a comparison database: both pipelines' figures (``mlops.*``, ``llmops.*``), the
    agreement, and each judged metric (its values, p-value; its verdict and the week's as tags)."""
    from harness.shadow.dashboard import weekly
    from harness.shadow.db import database
    from harness.shadow.judge import judge_all

    with database(db, create=False) as conn:
        rows, verdicts = weekly(conn), judge_all(conn)
    where = str(db.resolve())
    entries = []
    for row in rows:
        metrics = {**_figures("mlops", row.mlops), **_figures("llmops", row.llmops)}
        for key in ("label_agreement", "field_agreement", "n_label_pairs", "n_field_pairs"):
            if getattr(row, key) is not None:
                metrics[key] = float(getattr(row, key))
        tags = {"shadow.week": row.period, "shadow.db": db.name}
        verdict = verdicts.get(row.period)
        if verdict is not None:
            tags["shadow.verdict"] = verdict.verdict
            if verdict.score is not None:
                metrics["judge.score"] = float(verdict.score)
            for m in verdict.metrics:
                slug = mlflow_key(m.metric.lower().replace(" ", "_"))
                tags[f"judge.{slug}"] = m.verdict
                for field in ("mlops", "llmops", "delta", "p_value", "value"):
                    v = getattr(m, field)
                    if v is not None:
                        metrics[f"judge.{slug}.{field}"] = float(v)
        entries.append(Entry(_digest("shadow-week", where, row.period), f"shadow {row.period}", "shadow-week", {},
                             metrics, tags, {}))
    if not entries:
        raise HarnessInputError("the comparison database holds no week", path=db)
    return entries


