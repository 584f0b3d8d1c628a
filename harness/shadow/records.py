"""The shadow run's result record: one JSON object per line, one line per document processed by one pipeline.

This is what ``harness shadow ingest LOG.jsonl`` reads and what the traffic simulator writes. During the
parallel run (case study section 6, Phase 2) MLOps serves production and LLMOps runs in shadow on the same
traffic, so a document normally has two lines, one per pipeline, with the same ``doc_id``.

==================  =========================================  ===============================================
key                 type                                        meaning
==================  =========================================  ===============================================
doc_id              str (required)                              the document's id, shared by both pipelines
pipeline            ``mlops`` | ``llmops`` (required)           which pipeline produced this line
role                ``production`` | ``shadow`` | ``canary``    how the pipeline served this document
received_at         ISO 8601 with a time zone (required)        when the document arrived (day and ISO week are
                                                                taken from it in UTC)
latency_s           float 0-86,400 (required)                   this pipeline's processing time for the document
label               str | null                                  predicted class (null: none, e.g. an error)
fields              {name: str | [str] | null} | null           extracted fields
error               str | null                                  the error, if processing failed
input_tokens,       int 0-10,000,000, default 0                 model tokens used
output_tokens
cost_usd            float 0-10,000 | null                       cost of this document on this pipeline (USD)
model_version,      str | null                                  what produced the answer
prompt_version
hallucinated        bool | null                                 an answer/summary flagged unsupported (null: not
                                                                checked)
guardrail_events    [{policy, action, exposed}], default []     guardrail interventions; ``exposed: true`` means
                                                                PII or data left the system unmasked (a "PII
                                                                exposure")
available           bool, default true                          false: the pipeline was down and did not process
                                                                the document
gold_label,         str | null, {name: value} | null            the truth, in a simulation or a labelled sample;
gold_fields                                                     absent in production traffic
==================  =========================================  ===============================================

Any other key is refused, as are wrong types (``"1"`` for a number, ``1`` for a boolean), a ``received_at``
without a time zone or whose UTC day is after :data:`LAST_DAY`, NaN, and numbers outside their bounds
(:data:`MAX_LATENCY_S`, :data:`MAX_TOKENS`, :data:`MAX_COST_USD`: far beyond any real document, and small
enough that a database's sums over millions of rows stay exact); the error names ``file:line: field`` and the
bound.

>>> r = ResultRecord.model_validate({"doc_id": "d1", "pipeline": "llmops", "role": "shadow",
...     "received_at": "2026-01-14T09:30:00+01:00", "latency_s": 2.5, "label": "invoice"})
>>> r.label, r.available, r.guardrail_events
('invoice', True, [])
"""

from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Any, Literal

from pydantic import AwareDatetime, ConfigDict, Field, field_validator

from harness.config import StrictModel

PIPELINES = ("mlops", "llmops")
MAX_LATENCY_S = 86_400.0  # a day: a document's processing time
MAX_TOKENS = 10_000_000  # a document's model tokens (50x the largest context windows)
MAX_COST_USD = 10_000.0  # a document's cost
LAST_DAY = date(9999, 11, 30)  # the last UTC day of a record: its ISO week and a ramp after it fit in the calendar
FieldValue = str | list[str] | None


class GuardrailEvent(StrictModel):
    """One guardrail intervention on a document."""

    model_config = ConfigDict(strict=True)  # merged with StrictModel's: unknown keys refused, no NaN
    policy: str = Field(description="the policy that acted, e.g. pii, injection, topic:<name>")
    action: str = Field(description="what it did, e.g. masked, blocked, logged")
    exposed: bool = Field(False, description="true: PII or data left the system unmasked (a PII exposure)")


class ResultRecord(StrictModel):
    """One document processed (or not, when down) by one pipeline; see the module docstring."""

    model_config = ConfigDict(strict=True)  # "1" is not a number, 1 is not a boolean
    doc_id: str = Field(min_length=1, max_length=500, description="the document's id, shared by both pipelines")
    pipeline: Literal["mlops", "llmops"] = Field(description="which pipeline produced this record")
    role: Literal["production", "shadow", "canary"] = Field(
        description="how the pipeline served the document: production, shadow (result not used) or canary")
    received_at: AwareDatetime = Field(strict=False, description="when the document arrived: ISO 8601 with a "
                                       "time zone; its UTC day and ISO week place it on the dashboard")
    latency_s: float = Field(ge=0, le=MAX_LATENCY_S, description="this pipeline's processing time for this "
                             "document, seconds (at most a day)")
    label: str | None = Field(None, description="predicted class; null when none (an error, down)")
    fields: dict[str, FieldValue] | None = Field(None, description="extracted fields: name -> text, list or null")
    error: str | None = Field(None, description="the error when processing failed, else null")
    input_tokens: int = Field(0, ge=0, le=MAX_TOKENS, description="model input tokens used for this document")
    output_tokens: int = Field(0, ge=0, le=MAX_TOKENS, description="model output tokens used for this document")
    cost_usd: float | None = Field(None, ge=0, le=MAX_COST_USD, description="cost of this document on this "
                                   "pipeline (USD); null when not known")
    model_version: str | None = Field(None, description="model (or artifact) version that produced the result")
    prompt_version: str | None = Field(None, description="prompt version (LLMOps)")
    hallucinated: bool | None = Field(None, description="an answer or summary flagged unsupported; null: not "
                                      "checked")
    guardrail_events: list[GuardrailEvent] = Field(default_factory=list, description="guardrail interventions on this document")
    available: bool = Field(True, description="false: the pipeline was down and did not process the document")
    gold_label: str | None = Field(None, description="true class (simulation or labelled sample), else null")
    gold_fields: dict[str, FieldValue] | None = Field(None, description="true field values (simulation or "
                                                      "labelled sample), else null")

    @field_validator("received_at", mode="before")
    @classmethod
    def _iso_text(cls, value: Any) -> Any:
        if not isinstance(value, (str, datetime)):
            raise ValueError("must be an ISO 8601 date and time with a time zone, e.g. 2026-01-14T09:30:00Z")
        return value

    @field_validator("received_at")
    @classmethod
    def _in_utc_range(cls, value: datetime) -> datetime:
        try:
            day = value.astimezone(timezone.utc).date()
        except OverflowError:
            day = None
        if day is None or day > LAST_DAY:
            raise ValueError(f"must fall on 0001-01-01 .. {LAST_DAY} in UTC, the days the comparison database "
                             "takes (its ISO week and a cutover ramp after it must fit in the calendar)")
        return value

    @property
    def failed(self) -> bool:
        """Counted in the error rate: an error, or the pipeline was down."""
        return self.error is not None or not self.available

    @property
    def pii_exposures(self) -> int:
        return sum(1 for e in self.guardrail_events if e.exposed) if self.guardrail_events else 0
