"""The maturity file (``maturity.yaml``, the case study's section 3): its typed shape and its reader, read by
:mod:`harness.governance.maturity` and the evidence kinds (:mod:`harness.governance.evidence`)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator

from harness.config import StrictModel
from harness.errors import HarnessInputError
from harness.files import read_yaml_mapping_doc, validate

DEFAULT_MATURITY = Path(__file__).with_name("maturity.yaml")
MET, NOT_MET, NO_EVIDENCE = "met", "not met", "no evidence"
SIDES = ("llmops", "mlops")
DEFAULT_REPRODUCE = 2  # recorded calls made again (a real model call each)

EvidenceKind = Literal["prompt_versions", "token_usage", "reproduce", "guardrail_catch", "ab_compare", "trend",
                       "audit_chain", "guardrail_config", "golden_runs", "cost_sections", "human_review", "io_logging",
                       "gates", "go_no_go", "measured", "call_cache", "model_versions", "config_hashes",
                       "drift_monitoring", "none"]


# ---------------------------------------------------------------------------------------------- the file
class LevelSpec(StrictModel):
    """One maturity level as section 3 names it."""
    level: int = Field(ge=0, le=10, description="the level's number (0: manual/ad hoc)")
    title: str = Field(min_length=1, max_length=200, description="the level's name in the case study")
    cites: str = Field(min_length=1, max_length=500, description="where the case study defines it")


class SettingsSpec(StrictModel):
    """The harness's own thresholds where section 3 gives no figure."""
    min_trend_points: int = Field(3, ge=3, le=1000, description="dated runs or shadow weeks a trend needs (3 or "
                                  "more: a slope's t interval needs at least one degree of freedom)")
    confidence: float = Field(0.95, gt=0.5, lt=1, description="confidence of the slope and comparison intervals")
    min_catch_rate: float = Field(0.9, ge=0, le=1, description="'catch obvious violations': every evaluated "
                                  "guardrail policy's catch rate on the red-team set at least this")


class EntrySpec(StrictModel):
    """One indicator, characteristic or criterion of section 3 and the evidence kind that judges it."""
    id: str = Field(pattern=r"^[a-z][a-z0-9_]{0,63}$", description="identifier (lower case, digits, underscores)")
    side: Literal["llmops", "mlops"] = Field(description="which system it is judged on")
    level: int = Field(ge=1, le=10, description="the level it belongs to")
    required: bool = Field(description="true: the level needs it met (section 3's indicators and the MLOps "
                           "criteria); false: reported beside them (characteristics)")
    title: str = Field(min_length=1, max_length=300, description="what the case study says, shortened")
    cites: str = Field(min_length=1, max_length=500, description="where in section 3 it comes from")
    evidence: EvidenceKind = Field(description="the evidence kind that judges it (harness/governance/maturity.py, "
                                   "EVIDENCE); 'none': the harness holds no evidence of this")
    metric: str | None = Field(None, max_length=200, description="trend, measured: the metric (harness metrics)")
    shadow: Literal["hallucination_rate", "cost_per_doc", "error_rate", "latency_p95"] | None = Field(
        None, description="trend: the shadow database's weekly LLMOps figure of the same quantity")
    vary: Literal["prompts", "model"] | None = Field(None, description="ab_compare: what differs between the two "
                                                     "runs compared (prompt versions or model versions)")

    @model_validator(mode="after")
    def _keys_of_kind(self):
        if self.evidence in ("trend", "measured") and not self.metric:
            raise ValueError(f"evidence {self.evidence!r} needs a metric")
        if self.evidence == "ab_compare" and not self.vary:
            raise ValueError("evidence 'ab_compare' needs vary: prompts or model")
        return self


class MaturityFile(StrictModel):
    """``maturity.yaml``: levels, the harness's thresholds and the entries of section 3."""
    name: str = Field(min_length=1, max_length=100, description="name of this assessment")
    version: int | str = Field(1, description="bumped when the entries change")
    levels: list[LevelSpec] = Field(min_length=1, max_length=11, description="the levels, lowest first")
    settings: SettingsSpec = Field(SettingsSpec(), description="thresholds the case study does not state")
    entries: list[EntrySpec] = Field(min_length=1, max_length=500, description="what is judged")


@dataclass(frozen=True)
class Maturity:
    """A checked maturity file."""
    path: str
    spec: MaturityFile


def load_maturity(path: str | Path | None = None) -> Maturity:
    """Read and check a maturity file (default: the shipped one, section 3); exit 2 naming file, line, field."""
    from metrics import registry

    path = Path(path) if path else DEFAULT_MATURITY
    doc = read_yaml_mapping_doc(path, "maturity file")
    spec = validate(MaturityFile, doc.data, doc=doc)
    seen: set[str] = set()
    for i, e in enumerate(spec.entries):
        if e.id in seen:
            raise HarnessInputError(f"duplicate id {e.id!r}", path=path, line=doc.line(("entries", i, "id")),
                                    field=f"entries[{i}].id")
        seen.add(e.id)
        if e.metric:
            try:
                registry.lookup(e.metric)
            except registry.UnknownMetric as exc:
                raise HarnessInputError(f"{exc} (harness metrics lists them)", path=path,
                                        line=doc.line(("entries", i, "metric")), field=f"entries[{i}].metric") from None
    levels = [lv.level for lv in spec.levels]
    if levels != sorted(set(levels)) or levels[0] != 0:
        raise HarnessInputError("levels must start at 0 and rise", path=path, line=doc.line(("levels",)),
                                field="levels")
    for i, e in enumerate(spec.entries):
        if e.level not in levels:
            raise HarnessInputError(f"level {e.level} is not one of the file's levels ({levels})", path=path,
                                    line=doc.line(("entries", i, "level")), field=f"entries[{i}].level")
    return Maturity(str(path), spec)

