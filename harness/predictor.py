"""One interface for both pipelines.

A predictor declares the tasks it can do and turns a batch of golden-set items into one :class:`Output`
per item. It does not time itself: the runner measures wall time around each call and records it, with
the output, in an immutable :class:`Prediction`. A streaming predictor stamps ``first_token_at``
(``time.perf_counter()`` when the first token arrived) and the runner turns it into time to first token.

A failed item is an ``Output(error="...")``, never an exception that loses the batch; an exception from
``predict`` marks every item of that call as failed with the exception's message.

Tasks of one item run in a fixed order (classify, extract, summarize; answer for QA items). A task that
needs an earlier task's output (extraction uses the document type) receives it explicitly in ``upstream``:
one mapping per item, ``{task: output value}`` for that item's tasks already done in this run. A predictor
keeps no state between calls.
"""

from __future__ import annotations

import abc
from dataclasses import asdict, dataclass, field, fields
from typing import TYPE_CHECKING, Any, Callable, Literal, Mapping, Sequence

from pydantic import BaseModel, ConfigDict, Field

from harness.records import MAX_SECONDS, MAX_TOKENS

if TYPE_CHECKING:  # annotations only: a run's predictions load without the golden-set module
    from harness.golden import Item

Task = Literal["classify", "extract", "answer", "summarize"]
TASKS: tuple[str, ...] = ("classify", "extract", "answer", "summarize")
OUTPUT_KEY = {"classify": "label", "extract": "fields", "answer": "answer", "summarize": "summary"}


@dataclass(frozen=True)
class TokenUsage:
    input_tokens: int = 0
    output_tokens: int = 0
    embedding_tokens: int = 0  # tokens sent to an embedding model for this item (a question's retrieval query)

    def __add__(self, other: "TokenUsage") -> "TokenUsage":
        return TokenUsage(self.input_tokens + other.input_tokens, self.output_tokens + other.output_tokens,
                          self.embedding_tokens + other.embedding_tokens)


@dataclass(frozen=True)
class Output:
    """What a predictor returns for one item and one task."""
    value: Any = None  # label (str) | fields (dict) | answer (str) | summary (str)
    contexts: tuple[str, ...] | None = None  # passages an answer was grounded on
    usage: TokenUsage | None = None
    first_token_at: float | None = None  # time.perf_counter() at the first streamed token
    error: str | None = None
    meta: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class TaskResult:
    """How one task went for one item: measured by the runner."""
    latency_s: float | None = None
    ttft_s: float | None = None
    usage: TokenUsage | None = None
    error: str | None = None
    batch_size: int = 1
    meta: Mapping[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict:
        """The record in ``predictions.jsonl``: the fields that are set (``error`` always)."""
        d = {}
        for k in _TASK_RESULT_FIELDS:
            v = getattr(self, k)
            if k == "usage" and v is not None:
                v = asdict(v)
            elif k == "meta" and v:
                v = asdict(self)["meta"]  # a deep copy, as for every value before
            if v not in (None, {}) or k == "error":
                d[k] = v
        return d

    @property
    def model_latency_s(self) -> float | None:
        """The call's latency: for a call served from the cache, the latency measured when it was made."""
        return self.meta.get("original_latency_s") if self.meta.get("cache_hit") else self.latency_s

    @property
    def model_ttft_s(self) -> float | None:
        return self.meta.get("original_ttft_s") if self.meta.get("cache_hit") else self.ttft_s


_TASK_RESULT_FIELDS = tuple(f.name for f in fields(TaskResult))


def document_latency(prediction: "Prediction", tasks: Sequence[str] = ("classify", "extract")) -> float | None:
    """What a caller waits for one document: the sum of its task latencies (None if any is missing)."""
    vals = [prediction.tasks[t].model_latency_s for t in tasks if t in prediction.tasks]
    return sum(vals) if vals and len(vals) == len(tasks) and all(v is not None for v in vals) else None


@dataclass(frozen=True)
class Prediction:
    """One line of ``predictions.jsonl``: the outputs for one item and how each task went."""
    id: str
    label: str | None = None
    fields: Mapping[str, Any] | None = None
    answer: str | None = None
    contexts: tuple[str, ...] | None = None
    summary: str | None = None
    tasks: Mapping[str, TaskResult] = field(default_factory=dict)

    def has(self, task: str) -> bool:
        """Whether this prediction speaks to ``task`` (an output or a recorded attempt)."""
        return task in self.tasks or getattr(self, OUTPUT_KEY[task]) is not None

    def error(self, task: str) -> str | None:
        result = self.tasks.get(task)
        return result.error if result else None

    def to_json(self) -> dict:
        out: dict[str, Any] = {"id": self.id}
        for key in ("label", "fields", "answer", "contexts", "summary"):
            value = getattr(self, key)
            if value is not None:
                out[key] = list(value) if key == "contexts" else value
        if self.tasks:
            out["tasks"] = {name: r.to_json() for name, r in self.tasks.items()}
        return out

    @classmethod
    def from_json(cls, obj: Mapping[str, Any]) -> "Prediction":
        """Read a line in the runner's shape or the plain external shape (``id`` + outputs); the line is
        checked against :class:`PredictionRecord` first (``pydantic.ValidationError`` names the field)."""
        rec = PredictionRecord.model_validate(obj)
        tasks = {name: TaskResult(latency_s=d.latency_s, ttft_s=d.ttft_s,
                                  usage=TokenUsage(**d.usage.model_dump()) if d.usage else None, error=d.error,
                                  batch_size=d.batch_size,
                                  # the keys the line has (extra keys included); none: no dump to make
                                  meta=d.meta.model_dump(exclude_unset=True) if d.meta.model_fields_set else {})
                 for name, d in rec.tasks.items()}
        return cls(id=rec.id, label=rec.label, fields=rec.fields, answer=rec.answer,
                   contexts=tuple(rec.contexts) if rec.contexts is not None else None, summary=rec.summary,
                   tasks=tasks)


class _Record(BaseModel):
    model_config = ConfigDict(allow_inf_nan=False, extra="ignore", strict=True)


class UsageRecord(_Record):
    input_tokens: int = Field(0, ge=0, le=MAX_TOKENS)
    output_tokens: int = Field(0, ge=0, le=MAX_TOKENS)
    embedding_tokens: int = Field(0, ge=0, le=MAX_TOKENS)


class MetaRecord(_Record):
    """A task's ``meta``: free-form, with the keys scoring reads typed."""
    model_config = ConfigDict(allow_inf_nan=False, extra="allow", strict=True)
    cache_hit: bool = False
    original_latency_s: float | None = Field(None, ge=0, le=MAX_SECONDS)
    original_ttft_s: float | None = Field(None, ge=0, le=MAX_SECONDS)


class TaskRecord(_Record):
    latency_s: float | None = Field(None, ge=0, le=MAX_SECONDS)
    ttft_s: float | None = Field(None, ge=0, le=MAX_SECONDS)
    usage: UsageRecord | None = None
    error: str | None = None
    batch_size: int = Field(1, ge=1)
    meta: MetaRecord = Field(default_factory=MetaRecord)  # a fresh one, not a deep copy of a default


class PredictionRecord(_Record):
    """One line of a predictions file as the harness accepts it (the run store's shape or an external one)."""
    id: str
    label: str | None = None
    fields: dict[str, Any] | None = None
    answer: str | None = None
    contexts: list[str] | None = None
    summary: str | None = None
    tasks: dict[Task, TaskRecord] = {}


class Predictor(abc.ABC):
    """Base class of a pipeline as the runner sees it.

    Subclasses set ``name`` and ``capabilities`` and implement :meth:`predict`. :meth:`config` returns the
    resolved settings recorded (and hashed) in ``run.json``; :meth:`describe` adds anything else worth
    recording, such as a model artifact version.
    """

    name: str = "predictor"
    capabilities: frozenset[str] = frozenset()

    @abc.abstractmethod
    def predict(self, items: Sequence[Item], task: str,
                upstream: Sequence[Mapping[str, Any]] | None = None) -> Sequence[Output]:
        """One output per item, in order. ``upstream[i]`` holds the outputs of item i's earlier tasks
        (e.g. ``{"classify": "invoice"}``); None or a missing key means that task did not run or failed."""

    def config(self) -> dict:
        return {}

    def describe(self) -> dict:
        return {}

    def tasks_for(self, item: Item) -> list[str]:
        """The tasks this predictor runs on ``item``, in a fixed order."""
        if item.kind == "qa":
            wanted = ["answer"]
        else:
            wanted = ["classify", "extract"] + (["summarize"] if item.summary is not None else [])
        return [t for t in wanted if t in self.capabilities]

    def prepare(self, items: Sequence[Item]) -> None:
        """Called once before the clock starts (build indexes, warm models); default: nothing."""

    def for_repeat(self, repeat: int) -> "Predictor":
        """This predictor for repeat ``repeat`` (2, 3, ...) of a run (``harness run --repeats``): it must make
        fresh calls (no cache) and may sample differently (its own seed). Default: itself (a deterministic
        predictor repeats itself). The runner closes only the original."""
        return self

    def in_processes(self) -> tuple[Callable[[], "Predictor"], int] | None:
        """(a picklable function that builds this same predictor, how many processes) when the runner may spread
        this predictor's batches over processes: a CPU-bound predictor whose outputs for a batch are the same in
        whichever process it runs, so that the Python work around its models uses every core. The runner calls
        the function once in this process and once in each worker process it starts (one fewer than the count),
        and closes what it built here. A fresh run of a whole split starts its workers before it builds the items
        and calls :meth:`prepare`, so the function builds from what is saved (the model folder), never from what
        ``prepare`` sets up. None (the default): every batch runs in this process through this predictor."""
        return None

    def close(self) -> None:
        """Release models and threads; the runner calls it when a run ends."""

    def __enter__(self) -> "Predictor":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
