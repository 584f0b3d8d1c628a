"""The shapes of ``run.json`` and ``metrics.json`` as the run store reads them: the keys every reader relies on
are typed (a string where a section belongs is exit 2 naming the file and field); anything else is kept."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from harness.errors import HarnessInputError
from harness.files import validation_problem

def model_label(run_json: dict) -> str:
    """The model a run used, as pages and tables name it: the MLOps model's version, the LLM as
    ``provider/model_id``, else ``-``.

    >>> model_label({"predictor": {"llm": {"provider": "local", "model_id": "SmolLM2-135M-Instruct"}}})
    'local/SmolLM2-135M-Instruct'
    >>> model_label({"identity": {"model_version": "mlops-3f2a"}})
    'mlops-3f2a'
    """
    ident, pred = run_json.get("identity") or {}, run_json.get("predictor") or {}
    version = ident.get("model_version") or pred.get("model_version")
    if version:
        return str(version)
    llm = pred.get("llm") if isinstance(pred.get("llm"), dict) else {}
    if llm.get("model_id"):
        return f"{llm['provider']}/{llm['model_id']}" if llm.get("provider") else str(llm["model_id"])
    return "-"


class _Loose(BaseModel):
    model_config = ConfigDict(extra="allow", allow_inf_nan=False, strict=True)


class PromptRef(_Loose):
    ref: str | None = None
    sha256: str | None = None
    path: str | None = None


class PredictorRecord(_Loose):
    name: str
    config: dict[str, Any] = {}
    config_hash: str | None = None
    prompts: dict[str, PromptRef] = {}


class RunRecord(_Loose):
    """``run.json`` as every reader relies on it (other keys are kept as they are)."""
    predictor: PredictorRecord
    golden: dict[str, Any] | None = None
    split: str
    tasks: list[str] | None = None
    item_ids_sha256: str | None = None
    n_items: int | None = Field(None, ge=0)
    wall_s: float | None = Field(None, ge=0)
    started_at: str | None = None
    ended_at: str | None = None
    evaluated_on: str | None = None
    sessions: list[dict[str, Any]] = []


class TaskCountsRecord(_Loose):
    expected: int = Field(0, ge=0)


class CountsRecord(_Loose):
    by_task: dict[str, TaskCountsRecord] = {}


class LatencyRecord(_Loose):
    mean: float | None = Field(None, ge=0)
    n: int = Field(0, ge=0)


class UsageTotals(_Loose):
    input_tokens: int = Field(0, ge=0)
    output_tokens: int = Field(0, ge=0)
    embedding_tokens: int = Field(0, ge=0)


class MetricsRecord(_Loose):
    """``metrics.json``: sections are free-form mappings; the keys readers (gates, cost, reports) rely on are
    typed."""
    split: str | None = None
    golden: dict[str, Any] | None = None
    ci: dict[str, Any] = {}
    counts: CountsRecord = CountsRecord()
    latency: dict[str, LatencyRecord] = {}
    usage: UsageTotals | None = None


def checked(model: type[BaseModel], data: dict, path: Path) -> dict:
    try:
        model.model_validate(data)
    except ValidationError as exc:
        loc, problem = validation_problem(exc)
        raise HarnessInputError(problem, path=path, field=".".join(map(str, loc)) or None) from None
    return data
