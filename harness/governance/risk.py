"""The system a governance record is about and its risk class (the case study's section 4): ``governance.yaml``
(:class:`GovernanceFile`, the TechCorp analysis shipped) and the section's conditions checked against a run
(:func:`classify`). :mod:`harness.governance.audit` writes the records."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal, Mapping

from pydantic import Field, model_validator

from harness.config import StrictModel
from harness.errors import HarnessInputError
from harness.files import read_yaml_mapping_doc, validate

DEFAULT_GOVERNANCE = Path(__file__).with_name("governance.yaml")
HIGH, POSSIBLY_HIGH, LIMITED = "high risk", "possibly high risk", "limited risk"



# ---------------------------------------------------------------------------------------------- governance.yaml
class ConditionSpec(StrictModel):
    """One of section 4's "could be high risk if" conditions and how it is checked."""
    id: str = Field(pattern=r"^[a-z][a-z0-9_]{0,63}$", description="identifier")
    text: str = Field(min_length=1, max_length=500, description="the condition as the case study states it")
    check: Literal["declared", "denied_topic", "human_review"] = Field(
        description="declared: the team's statement (declared); denied_topic: ruled out when the run's guardrail "
        "denies a topic whose name holds `topic`; human_review: ruled out when the run's guardrail flags "
        "unsupported answers for human review")
    declared: bool | None = Field(None, description="declared: whether the condition holds, as the team states it")
    topic: str | None = Field(None, min_length=1, max_length=100, description="denied_topic: a word of the "
                              "topic's name (case-insensitive)")

    @model_validator(mode="after")
    def _keys(self):
        if self.check == "declared" and self.declared is None:
            raise ValueError("check 'declared' needs declared: true or false")
        if self.check == "denied_topic" and not self.topic:
            raise ValueError("check 'denied_topic' needs a topic")
        return self


class SystemSpec(StrictModel):
    """One system (a pipeline) as the team describes it."""
    name: str = Field(min_length=1, max_length=200, description="the system's name")
    intended_purpose: str = Field(min_length=1, max_length=2000, description="what it is for (Art. 12(2))")
    proposed_class: Literal["limited", "minimal", "high"] = Field(description="the class when no high-risk "
                                                                  "condition holds")
    reasoning: list[str] = Field([], max_length=50, description="why, as the analysis states it")
    requirements: list[str] = Field([], max_length=50, description="requirements at the proposed class")
    requirements_if_high_risk: list[str] = Field([], max_length=50, description="requirements when high risk")
    high_risk_conditions: list[ConditionSpec] = Field([], max_length=50, description="conditions that make it "
                                                      "high risk")
    human_oversight: list[str] = Field([], max_length=50, description="the human-oversight rules in force")


class GovernanceFile(StrictModel):
    """``governance.yaml``: the organisation, the retention period and each system."""
    name: str = Field(min_length=1, max_length=100, description="name of this file")
    organisation: str = Field(min_length=1, max_length=200, description="who runs the systems")
    retention_days: int = Field(183, ge=183, le=36500, description="days records and logs are kept (Art. 19: at "
                                "least six months, 183 days)")
    systems: dict[str, SystemSpec] = Field(min_length=1, description="pipeline name (as runs record it) -> system")
    path: str = Field("", exclude=True, description="where it was read from (set by load_governance)")


def load_governance(path: str | Path | None = None) -> GovernanceFile:
    """Read and check a governance file (default: the case study's TechCorp analysis)."""
    path = Path(path) if path else DEFAULT_GOVERNANCE
    doc = read_yaml_mapping_doc(path, "governance file")
    return validate(GovernanceFile, doc.data, doc=doc).model_copy(update={"path": str(path)})


# ---------------------------------------------------------------------------------------------- risk class
def run_guardrail(run) -> tuple[Any | None, str]:
    """The run's guardrail configuration and how it was found (None: the run ran without one)."""
    from harness.guardrails.config import load_guardrail_config

    g = run.run.get("predictor", {}).get("guardrails")
    path = g.get("config") if isinstance(g, Mapping) else None
    if not path:
        return None, f"{run.id} ran without a guardrail"
    try:
        return load_guardrail_config(path), path
    except HarnessInputError as exc:
        return None, f"{run.id}'s guardrail configuration cannot be read ({exc})"


def check_condition(cond: ConditionSpec, run, governance_path: str) -> dict:
    """One condition against the run: ``holds`` True / False / None (not ruled out) and the evidence."""
    if cond.check == "declared":
        return {"id": cond.id, "text": cond.text, "holds": cond.declared,
                "evidence": f"declared {'true' if cond.declared else 'false'} in {Path(governance_path).name}"}
    cfg, where = run_guardrail(run)
    if cfg is None:
        return {"id": cond.id, "text": cond.text, "holds": None, "evidence": f"not ruled out: {where}"}
    name = Path(cfg.path).name
    if cond.check == "denied_topic":
        denied = [t.name for t in cfg.topicPolicyConfig.topicsConfig  # every topic of the file is denied
                  if (cond.topic or "").lower() in t.name.lower()]
        if denied:
            return {"id": cond.id, "text": cond.text, "holds": False,
                    "evidence": f"ruled out: {name} denies the topic {denied[0]!r}"}
        return {"id": cond.id, "text": cond.text, "holds": None,
                "evidence": f"not ruled out: {name} denies no topic named like {cond.topic!r}"}
    h = cfg.harnessPolicies.hallucinationCheck
    if h.enabled and h.action in ("WARN", "BLOCK"):
        return {"id": cond.id, "text": cond.text, "holds": False,
                "evidence": f"ruled out: {name} hallucinationCheck {h.action} (unsupported answers: confidence "
                            "warning, human review requested)"}
    return {"id": cond.id, "text": cond.text, "holds": None,
            "evidence": f"not ruled out: {name} has the hallucination check off"}


def classify(system: SystemSpec, run, governance_path: str) -> dict:
    """The risk class of the run's system: high when a condition holds, possibly high when one is not ruled
    out, else the proposed class; with the reason and the requirements that follow."""
    conds = [check_condition(c, run, governance_path) for c in system.high_risk_conditions]
    holding = [c for c in conds if c["holds"] is True]
    open_ = [c for c in conds if c["holds"] is None]
    if holding:
        klass, reason = HIGH, "holds: " + "; ".join(c["text"] for c in holding)
    elif open_:
        klass, reason = POSSIBLY_HIGH, "not ruled out: " + "; ".join(c["text"] for c in open_)
    else:
        klass = f"{system.proposed_class} risk"
        reason = ("no high-risk condition holds (" + "; ".join(c["evidence"] for c in conds) + ")" if conds
                  else "; ".join(system.reasoning) or "the proposed classification")
    reqs = system.requirements_if_high_risk if klass in (HIGH, POSSIBLY_HIGH) and system.requirements_if_high_risk \
        else system.requirements
    return {"class": klass, "reason": reason, "conditions": conds, "reasoning": list(system.reasoning),
            "requirements": list(reqs)}


