"""A parallel-run scenario (``harness shadow simulate --scenario FILE``): the traffic, how the shadow behaves,
and what changes over time. The shipped scenarios are in ``harness/shadow/scenarios/`` (``--scenario NAME``).

The stream's documents come from the TechCorp generator (deterministic by seed); the production pipeline is
the real MLOps model. The shadow is either the real LLMOps pipeline (``--shadow pipeline``: the embedded local
model or Bedrock, slow) or a **simulated model** whose quality, speed and token use are this file's figures
(``--shadow scenario``, the default: a month in seconds); the figures below say so wherever they are used.

Costs per document follow the case study's section 5 (``harness/cost/techcorp.yaml``): MLOps $4,200 a month
and LLMOps $12,500 a month over 50,000 documents.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Literal, Mapping

from pydantic import Field, model_validator

from harness.config import StrictModel
from harness.errors import HarnessInputError
from harness.files import read_yaml_mapping_doc, validate
from harness.paths import safe_name
from harness.shadow.records import MAX_COST_USD, MAX_LATENCY_S, MAX_TOKENS

SHIPPED = Path(__file__).with_name("scenarios")
MAX_DOCUMENTS = 1_000_000  # documents in all (weeks x 7 x docs_per_day): a year of TechCorp's 50,000 a month is 600,000
MAX_WEEKS = 104
MAX_DAYS = MAX_WEEKS * 7
MAX_FACTOR = 1000.0  # a price or latency multiplier
MAX_EVENTS = 500


class ShadowModel(StrictModel):
    """The simulated shadow model (``--shadow scenario``): what the scenario asserts about it."""
    accuracy: float = Field(0.98, ge=0, le=1, description="chance a document is classified right")
    field_accuracy: float = Field(0.93, ge=0, le=1, description="chance each gold field is extracted right")
    hallucination_rate: float = Field(0.01, ge=0, le=1, description="chance a document's output is flagged "
                                      "unsupported")
    latency_s: float = Field(3.5, gt=0, le=3600, description="median end-to-end time per document, seconds "
                             "(log-normal; the case study's LLMOps profile is 3-8 s, section 2; a drawn time over "
                             "a day is recorded as a day)")
    latency_spread: float = Field(0.2, ge=0, le=2, description="sigma of the log-normal processing time")
    input_tokens: int = Field(1800, ge=0, le=MAX_TOKENS, description="input tokens per document (prompt + "
                              "document)")
    output_tokens: int = Field(220, ge=0, le=MAX_TOKENS, description="output tokens per document")
    cost_per_doc: float = Field(0.25, ge=0, le=MAX_COST_USD, description="USD per document: $12,500 / 50,000 "
                                "(section 5)")
    error_rate: float = Field(0.002, ge=0, le=1, description="chance a call fails (timeout, invalid output)")
    model_version: str = Field("anthropic.claude-3-haiku-20240307-v1:0", description="recorded on every result")
    prompt_version: str = Field("classify@1,extract@1", description="recorded on every result")


class Production(StrictModel):
    """The production pipeline's figures that are not measured by running it: the MLOps model's own time is
    measured; the rest of its end-to-end path (OCR, queues) is the case study's latency profile."""
    cost_per_doc: float = Field(0.084, ge=0, le=MAX_COST_USD, description="USD per document: $4,200 / 50,000 "
                                "(section 5)")
    overhead_s: float = Field(2.3, ge=0, le=3600, description="end-to-end time beside the model, seconds: the case "
                              "study's MLOps latency profile 2.3 s +- 0.3 s (section 2)")
    overhead_sd: float = Field(0.3, ge=0, le=3600, description="its standard deviation, seconds")


class Event(StrictModel):
    """A change during the run; it applies from its week (or day) on, for ``days`` days when given."""
    kind: Literal["new_template_family", "price_change", "version_change", "outage", "pii_burst",
                  "latency_degradation", "quality_change"] = Field(description="what changes")
    week: int | None = Field(None, ge=1, le=MAX_WEEKS, description="first week (1 = the first week of the stream)")
    day: int | None = Field(None, ge=1, le=MAX_DAYS, description="first day (1 = the stream's first day); instead "
                            "of week")
    days: int | None = Field(None, ge=1, le=MAX_DAYS, description="how many days it lasts (default: to the end; an "
                             "outage: 1)")
    hours: float = Field(0, ge=0, le=24, description="outage: hours the pipeline is down that day, from 09:00")
    pipeline: Literal["mlops", "llmops"] = Field("llmops", description="outage, latency_degradation: which one")
    factor: float = Field(1.0, gt=0, le=MAX_FACTOR, description="price_change: cost multiplier; "
                          "latency_degradation: latency multiplier")
    share: float = Field(0.0, ge=0, le=1, description="pii_burst: share of documents carrying PII; "
                         "new_template_family: share of documents from the held-out template families")
    exposed_share: float = Field(0.0, ge=0, le=1, description="pii_burst: share of those PII documents whose PII "
                                 "the shadow lets through unmasked (a PII exposure)")
    accuracy: float | None = Field(None, ge=0, le=1, description="version_change/quality_change: the shadow's "
                                   "new classification accuracy")
    field_accuracy: float | None = Field(None, ge=0, le=1, description="version_change/quality_change: new field "
                                         "accuracy")
    hallucination_rate: float | None = Field(None, ge=0, le=1, description="version/quality change: new rate")
    prompt_version: str | None = Field(None, description="version_change: the new prompt version recorded")
    model_version: str | None = Field(None, description="version_change: the new model version recorded")

    @model_validator(mode="after")
    def _when(self):
        if (self.week is None) == (self.day is None):
            raise ValueError("give week or day")
        return self

    def first_day(self) -> int:
        return self.day if self.day is not None else (self.week - 1) * 7 + 1

    def active(self, day: int) -> bool:
        start = self.first_day()
        length = self.days or (1 if self.kind == "outage" else None)
        return day >= start and (length is None or day < start + length)


class ScenarioFile(StrictModel):
    """A scenario (see the module docstring)."""
    name: str = Field(description="scenario name (a safe name)")
    description: str = Field("", description="what it shows")
    seed: int = Field(0, ge=-(2**63), le=2**63 - 1, description="the stream's seed: the same seed gives the same "
                      "documents and outcomes")
    start: date = Field(date(2027, 1, 4), description="first day of the stream (a Monday: week 1 starts here)")
    weeks: int = Field(8, ge=1, le=MAX_WEEKS, description="weeks of traffic (weeks x 7 x docs_per_day at most "
                       f"{MAX_DOCUMENTS:,} documents)")
    docs_per_day: int = Field(40, ge=1, le=100_000, description="documents a day (office hours 08:00-18:00 UTC)")
    shadow: ShadowModel = Field(ShadowModel(), description="the simulated shadow model (--shadow scenario)")
    production: Production = Field(Production(), description="the production pipeline's cost")
    feedback: float | None = Field(None, ge=1, le=5, description="users' weekly feedback score of the shadow's "
                                   "answers (go/no-go 'user feedback > 4/5'); none: not collected")
    audit: bool | None = Field(None, description="audit requirements satisfied (go/no-go); none: not audited")
    events: list[Event] = Field([], max_length=MAX_EVENTS, description="changes over time")
    expect: dict[str, str] = Field({}, description="what the scenario must show (decision, cutover): checked by "
                                   "the tests, printed by simulate")


@dataclass(frozen=True)
class Scenario:
    spec: ScenarioFile
    path: Path
    sha256: str

    @property
    def name(self) -> str:
        return self.spec.name


def load_scenario(name_or_path: str | Path, changes: Mapping[str, Any] | None = None) -> Scenario:
    """A shipped scenario by name (``clean-go``) or a scenario file, with ``changes`` (command-line overrides such
    as ``{"weeks": 2}``) applied before it is checked; exit 2 naming file, line and field."""
    import hashlib

    p = Path(name_or_path)
    if not p.suffix and not p.exists():
        p = SHIPPED / f"{name_or_path}.yaml"
        if not p.is_file():
            known = ", ".join(sorted(x.stem for x in SHIPPED.glob("*.yaml")))
            raise HarnessInputError(f"no scenario {str(name_or_path)!r} (shipped: {known}; or give a file)",
                                    field="--scenario")
    changes = dict(changes or {})
    doc = read_yaml_mapping_doc(p, "scenario file")
    for key, value in changes.items():
        try:
            ScenarioFile.model_validate({**doc.data, key: value})
        except ValueError as e:
            problems = [err for err in getattr(e, "errors", lambda: [])() if err.get("loc", ("",))[0] == key]
            if problems:
                raise HarnessInputError(problems[0].get("msg", str(e)), field=f"--{key.replace('_', '-')}") from None
    spec = validate(ScenarioFile, {**doc.data, **changes}, doc=doc)
    safe_name(spec.name, path=p, line=doc.line(("name",)), field="name")
    if spec.start.weekday() != 0:
        raise HarnessInputError("start must be a Monday (weeks run Monday to Sunday)", path=p,
                                line=doc.line(("start",)), field="start")
    _check_cost(spec, p, doc, changes)
    for i, e in enumerate(spec.events):
        if e.first_day() > spec.weeks * 7:
            raise HarnessInputError(f"starts on day {e.first_day()}, after the stream's {spec.weeks * 7} days"
                                    + (f" (--weeks {spec.weeks})" if "weeks" in changes else ""),
                                    path=p, line=doc.line(("events", i)), field=f"events[{i}]")
    sha = hashlib.sha256(doc.raw + repr(sorted(changes.items())).encode() if changes else doc.raw).hexdigest()
    return Scenario(spec, p, sha)


def _check_cost(spec: ScenarioFile, path: Path, doc, changes: Mapping[str, Any]) -> None:
    """What the scenario asks for, checked before anything is generated or written: at most
    :data:`MAX_DOCUMENTS` documents in all, every day of the stream on a calendar day the comparison database
    takes (:data:`~harness.shadow.records.LAST_DAY`), and price changes that cannot stack a document's cost past
    the result record's bound."""
    from harness.shadow.records import LAST_DAY

    flags = [f"--{k.replace('_', '-')}" for k in ("weeks", "docs_per_day") if k in changes]
    total = spec.weeks * 7 * spec.docs_per_day
    if total > MAX_DOCUMENTS:
        raise HarnessInputError(
            f"{spec.weeks} weeks x 7 days x {spec.docs_per_day:,} documents a day is {total:,} documents; at most "
            f"{MAX_DOCUMENTS:,} (a year of TechCorp's 50,000 a month is 600,000): ask for fewer weeks or documents "
            "a day", path=path, line=None if flags else doc.line(("docs_per_day",)) or doc.line(("weeks",)),
            field=" and ".join(flags) if flags else "docs_per_day")
    if (LAST_DAY - spec.start).days < spec.weeks * 7 - 1:
        raise HarnessInputError(f"a stream of {spec.weeks} weeks from {spec.start} ends after {LAST_DAY}, the last "
                                "day a comparison database takes", path=path, line=doc.line(("start",)),
                                field="start")
    worst = spec.shadow.cost_per_doc * math.prod(e.factor for e in spec.events if e.kind == "price_change")
    if worst > MAX_COST_USD:
        raise HarnessInputError(f"the price changes together multiply the shadow's ${spec.shadow.cost_per_doc:g} a "
                                f"document up to ${worst:,.2f}, over the ${MAX_COST_USD:,.0f} a result may cost",
                                path=path, line=doc.line(("events",)), field="events")
