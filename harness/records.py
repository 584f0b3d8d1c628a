"""The shapes of ``run.json`` and ``metrics.json`` as the run store reads them: the keys every reader relies on
are typed (a string where a section belongs is exit 2 naming the file and field); anything else is kept.

Counts, tokens and seconds a run records are bounded where they are read (:data:`MAX_ITEMS`,
:data:`MAX_TOKENS`, :data:`MAX_SECONDS`; ``predictions.jsonl`` lines too, :class:`harness.predictor.TaskRecord`):
far beyond any real run, they keep what the cost step and the reports compute from them finite."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from harness.errors import HarnessInputError
from harness.files import validation_problem

MAX_ITEMS = 10**9  # items, documents or calls a run counts
MAX_TOKENS = 10**12  # tokens a call or a whole run records (a month at 50,000 documents of 100K tokens: 5 x 10^9)
MAX_SECONDS = 10**6  # seconds one call or one task's mean latency takes (11.6 days)
MIN_WALL_S = 1e-6  # a run's wall time is 0 (not measured) or at least the clock's microsecond; items / less is inf


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


def prompt_sha256(id: str, version: int, system: str, user: str) -> str:
    """The hash a run records of a prompt template (``run.json`` predictor.prompts.*.sha256): its id, version and
    both messages, canonical JSON. The prompt registry computes it, the maturity check recomputes it from the file.

    >>> prompt_sha256("classify", 1, "", "Classify: $text")[:12]
    '0108b8ea89ae'
    """
    import hashlib
    import json

    canon = json.dumps({"id": id, "version": version, "system": system, "user": user}, sort_keys=True,
                       ensure_ascii=False)
    return hashlib.sha256(canon.encode("utf-8")).hexdigest()


class _Loose(BaseModel):
    model_config = ConfigDict(extra="allow", allow_inf_nan=False, strict=True)


class PromptRef(_Loose):
    ref: str | None = None
    sha256: str | None = None
    path: str | None = None


class IndexRecord(_Loose):
    """The retrieval index a run built (the cost step prices its embedding tokens per document)."""
    n_documents: int | None = Field(None, ge=0, le=MAX_ITEMS)
    embedding_tokens: int | None = Field(None, ge=0, le=MAX_TOKENS)


class PredictorRecord(_Loose):
    name: str
    config: dict[str, Any] = {}
    config_hash: str | None = None
    prompts: dict[str, PromptRef] = {}
    index: IndexRecord | None = None


class RunRecord(_Loose):
    """``run.json`` as every reader relies on it (other keys are kept as they are)."""
    predictor: PredictorRecord
    golden: dict[str, Any] | None = None
    split: str
    tasks: list[str] | None = None
    item_ids_sha256: str | None = None
    n_items: int | None = Field(None, ge=0, le=MAX_ITEMS)
    wall_s: float | None = Field(None, ge=0, le=1000 * MAX_SECONDS)
    started_at: str | None = None
    ended_at: str | None = None
    evaluated_on: str | None = None
    sessions: list[dict[str, Any]] = []

    @field_validator("wall_s")
    @classmethod
    def _measurable(cls, v: float | None) -> float | None:
        if v is not None and 0 < v < MIN_WALL_S:
            raise ValueError(f"a wall time is 0 or at least {MIN_WALL_S:g} s")
        return v


class TaskCountsRecord(_Loose):
    expected: int = Field(0, ge=0, le=MAX_ITEMS)


class CountsRecord(_Loose):
    by_task: dict[str, TaskCountsRecord] = {}


class LatencyRecord(_Loose):
    mean: float | None = Field(None, ge=0, le=MAX_SECONDS)
    n: int = Field(0, ge=0, le=MAX_ITEMS)


class UsageTotals(_Loose):
    input_tokens: int = Field(0, ge=0, le=MAX_TOKENS)
    output_tokens: int = Field(0, ge=0, le=MAX_TOKENS)
    embedding_tokens: int = Field(0, ge=0, le=MAX_TOKENS)


class CostRecord(_Loose):
    """The ``cost`` section (:mod:`harness.cost.run_cost`): the figures ``harness cost --run`` re-reads."""
    per_document: float | None = Field(None, ge=0)


class MetricsRecord(_Loose):
    """``metrics.json``: sections are free-form mappings; the keys readers (gates, cost, reports) rely on are
    typed."""
    split: str | None = None
    golden: dict[str, Any] | None = None
    ci: dict[str, Any] = {}
    counts: CountsRecord = CountsRecord()
    latency: dict[str, LatencyRecord] = {}
    usage: UsageTotals | None = None
    cost: CostRecord | None = None


def checked(model: type[BaseModel], data: dict, path: Path) -> dict:
    try:
        model.model_validate(data)
    except ValidationError as exc:
        loc, problem = validation_problem(exc)
        raise HarnessInputError(problem, path=path, field=".".join(map(str, loc)) or None) from None
    return data
