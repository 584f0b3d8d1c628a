"""The offline guardrail engine: one configuration (:mod:`harness.guardrails.config`) applied to a text on the
model's input or output, returning an assessment in the shape of Bedrock's ``ApplyGuardrail`` response, so
offline and Bedrock results read, count and cost the same way.

Policies and how each is evaluated offline:

==========================  =======================================================  ==================
policy (Bedrock key)        offline implementation                                   source
==========================  =======================================================  ==================
sensitiveInformationPolicy  Presidio pattern recognizers (:mod:`.pii`); ANONYMIZE     input and output
                            masks as ``{TYPE}``, BLOCK stops the item; regexes on
                            RE2 (:mod:`.regexes`)
topicPolicy                 MiniLM similarity, calibrated thresholds (:mod:`.topics`)  input and output
wordPolicy                  whole-word, case-insensitive match (:mod:`.words`)        input and output
contentPolicy PROMPT_ATTACK rules + classifier (:mod:`.injection`)                    input
contextualGroundingPolicy   the offline hallucination detector over the passages     output (answers)
contentPolicy HATE/...      no offline model: "not evaluated offline", never passed  -
==========================  =======================================================  ==================

The assessment keeps what matched (``match``) as Bedrock does; :meth:`Assessment.events` is the form that
may be stored (types and actions, never the matched text), so masked PII never reaches a run directory.

A check that cannot be finished within its bound (a regex on Python's engine past its time budget, a word check
past its look-up bound) blocks the text (fails closed) and says why in ``warnings``, naming the pattern or the
bound: a guardrail that gives up never lets the text through unchecked.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Sequence

from harness.files import read_json
from harness.guardrails import pii
from harness.guardrails.config import GuardrailConfig
from harness.guardrails.regexes import BUDGET_S, compile_pattern, replace_spans
from harness.guardrails.words import WordMatcher

Source = Literal["INPUT", "OUTPUT"]
CALIBRATION = Path(__file__).resolve().parent / "calibration.json"
DEFAULT_INJECTION_THRESHOLD = 0.5  # used until `harness guardrails calibrate` has written calibration.json
DEFAULT_TOPIC_THRESHOLD = 0.5
TEXT_UNIT = 1000  # characters per Bedrock text unit
POLICIES = frozenset({"pii", "topics", "words", "injection", "grounding"})


def text_units(text: str) -> int:
    """Bedrock bills guardrails per text unit of up to 1,000 characters.

    >>> text_units(""), text_units("x" * 1000), text_units("x" * 1001)
    (0, 1, 2)
    """
    return math.ceil(len(text) / TEXT_UNIT)


@dataclass(frozen=True)
class Assessment:
    """One guardrail check, as ``ApplyGuardrail`` reports it (:meth:`to_bedrock`)."""
    source: Source
    action: Literal["NONE", "GUARDRAIL_INTERVENED"]
    text: str  # the text to pass on (masked where PII was anonymized; the blocked message if blocked)
    blocked: bool
    policies: dict  # one ``assessments`` entry: topicPolicy, contentPolicy, sensitiveInformationPolicy, ...
    usage: dict  # text units per policy, the keys of Bedrock's GuardrailUsage
    latency_ms: int
    warnings: tuple[str, ...] = ()  # flags that do not intervene (grounding WARN: "review"); why a check failed closed
    not_evaluated: tuple[str, ...] = ()  # configured policies with no offline implementation

    def to_bedrock(self) -> dict:
        return {"action": self.action, "outputs": [{"text": self.text}] if self.action != "NONE" else [],
                "usage": dict(self.usage),
                "assessments": [{**self.policies, "invocationMetrics": {
                    "guardrailProcessingLatency": self.latency_ms, "usage": dict(self.usage)}}]}

    def fired(self) -> set[str]:
        """The policies that fired, by kind: ``pii``, ``injection``, ``topic:<name>``, ``content:<type>``,
        ``word``, ``regex:<name>``, ``grounding``."""
        p = self.policies
        out = {f"topic:{t['name']}" for t in p.get("topicPolicy", {}).get("topics", [])}
        for f in p.get("contentPolicy", {}).get("filters", []):
            out.add("injection" if f["type"] == "PROMPT_ATTACK" else f"content:{f['type']}")
        if p.get("sensitiveInformationPolicy", {}).get("piiEntities"):
            out.add("pii")
        out |= {f"regex:{r['name']}" for r in p.get("sensitiveInformationPolicy", {}).get("regexes", [])}
        if p.get("wordPolicy", {}).get("customWords"):
            out.add("word")
        if any(f["action"] != "NONE" or f["score"] < f["threshold"]
               for f in p.get("contextualGroundingPolicy", {}).get("filters", [])):
            out.add("grounding")
        return out

    def events(self) -> dict:
        """What may be stored: action, which policies fired with their action, never the matched text."""
        p = self.policies
        pii_found = [{"type": e["type"], "action": e["action"]}
                     for e in p.get("sensitiveInformationPolicy", {}).get("piiEntities", [])]
        return {"source": self.source, "action": self.action, "blocked": self.blocked,
                "fired": sorted(self.fired()), "pii": pii_found, "warnings": list(self.warnings),
                "usage": dict(self.usage), "latency_ms": self.latency_ms}


def _usage(**units: int) -> dict:
    keys = ("topicPolicyUnits", "contentPolicyUnits", "wordPolicyUnits", "sensitiveInformationPolicyUnits",
            "sensitiveInformationPolicyFreeUnits", "contextualGroundingPolicyUnits")
    return {k: int(units.get(k, 0)) for k in keys}


def _over_budget(r) -> str:
    return (f"regex {r.name!r} ({r.pattern!r}) ran past its {BUDGET_S:g} s budget on Python's engine: "
            "blocked (fails closed)")


def load_calibration(name: str, path: Path = CALIBRATION) -> dict:
    """The thresholds ``harness guardrails calibrate`` chose for the guardrail configuration called ``name``
    (empty for a configuration not calibrated yet)."""
    data = read_json(path, "guardrail calibration") if path.is_file() else {}
    found = (data.get("guardrails") or {}).get(name) if isinstance(data, dict) else None
    return found if isinstance(found, dict) else {}


@dataclass
class OfflineGuardrail:
    """The configuration applied offline. Stateless between calls (safe to share across threads once the
    models are loaded; the embedder serialises its own calls)."""
    config: GuardrailConfig
    calibration: dict | None = None  # None: this configuration's entry in calibration.json
    words: WordMatcher = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if self.calibration is None:
            self.calibration = load_calibration(self.config.name)
        self.words = WordMatcher([w.text for w in self.config.wordPolicyConfig.wordsConfig])

    # -- thresholds
    def topic_threshold(self, name: str) -> tuple[float, str]:
        topics = self.calibration.get("topics", {})
        if name in topics:
            return float(topics[name]["threshold"]), "calibrated"
        if topics:
            vals = sorted(float(t["threshold"]) for t in topics.values())
            return vals[len(vals) // 2], "median of the calibrated topics"
        return DEFAULT_TOPIC_THRESHOLD, "default (not calibrated)"

    def injection_threshold(self) -> float:
        cfg = self.config.harnessPolicies.promptInjection.threshold
        if cfg is not None:
            return cfg
        return float(self.calibration.get("injection", {}).get("threshold", DEFAULT_INJECTION_THRESHOLD))

    def not_evaluated(self, source: Source) -> list[str]:
        key = "inputStrength" if source == "INPUT" else "outputStrength"
        out = [f"content:{f.type}" for f in self.config.contentPolicyConfig.filtersConfig
               if f.type != "PROMPT_ATTACK" and getattr(f, key) != "NONE"]
        types = [e.bedrock_type for e in self.config.sensitiveInformationPolicyConfig.piiEntitiesConfig
                 if e.action != "NONE"]
        out += [f"pii:{t}" for t in pii.offline_types(types)[1]]
        if self.config.harnessPolicies.rateLimit:
            out.append("rate limit")
        return out

    # -- masking of stored text
    def masks_pii(self) -> bool:
        return any(e.action != "NONE" for e in self.config.sensitiveInformationPolicyConfig.piiEntitiesConfig)

    def mask_all(self, text: str) -> str:
        """``text`` with every configured PII type masked (BLOCK types too): for text that is stored or indexed
        rather than sent, where blocking has no meaning."""
        types = [e.bedrock_type for e in self.config.sensitiveInformationPolicyConfig.piiEntitiesConfig
                 if e.action != "NONE"]
        return pii.mask(text, pii.find(text, types))

    # -- one check
    def apply(self, text: str, source: Source, passages: Sequence[str] | None = None,
              only: frozenset[str] | None = None) -> Assessment:
        """Check ``text`` on the model's input (``INPUT``) or output (``OUTPUT``; ``passages``: what an answer
        must be grounded in, for the grounding check). ``only`` restricts the check to some policies
        (:data:`POLICIES`); None: every configured one."""
        on = POLICIES if only is None else only
        t0 = time.perf_counter()
        cfg = self.config
        policies: dict = {}
        blocked = False
        masked = text
        units = text_units(text)
        usage = {}
        warnings: list[str] = []

        # sensitive information: PII entities and regexes
        entities = {e.bedrock_type: e.action for e in cfg.sensitiveInformationPolicyConfig.piiEntitiesConfig
                    if e.action != "NONE"}
        regexes = cfg.sensitiveInformationPolicyConfig.regexesConfig
        if (entities or regexes) and "pii" in on:
            usage["sensitiveInformationPolicyUnits"] = units
            findings = pii.find(text, list(entities))
            found = [{"match": text[f.start:f.end], "type": f.type,
                      "action": "BLOCKED" if entities[f.type] == "BLOCK" else "ANONYMIZED"} for f in findings]
            rx_found, rx_spans = [], {}
            for r in regexes:
                spans = rx_spans[r.name, r.pattern] = compile_pattern(r.pattern).spans(text)
                if spans is None:
                    rx_found.append({"name": r.name, "match": "", "regex": r.pattern, "action": "BLOCKED"})
                    warnings.append(_over_budget(r))
                    continue
                rx_found += [{"name": r.name, "match": text[a:b], "regex": r.pattern,
                              "action": "BLOCKED" if r.action == "BLOCK" else "ANONYMIZED"} for a, b in spans]
            if found or rx_found:
                policies["sensitiveInformationPolicy"] = {"piiEntities": found, "regexes": rx_found}
            blocked |= any(x["action"] == "BLOCKED" for x in found + rx_found)
            masked = pii.mask(text, [f for f in findings if entities[f.type] == "ANONYMIZE"])
            for r in regexes:
                if r.action == "ANONYMIZE" and not blocked:
                    spans = rx_spans[r.name, r.pattern] if masked == text else compile_pattern(r.pattern).spans(masked)
                    if spans is None:
                        blocked = True
                        warnings.append(_over_budget(r))
                        break
                    masked = replace_spans(masked, spans, "{" + r.name + "}")

        # denied topics
        topics = cfg.topicPolicyConfig.topicsConfig
        if topics and "topics" in on:
            from harness.guardrails.topics import score

            usage["topicPolicyUnits"] = units
            hits = []
            for s in score(text, [(t.name, (t.definition, *t.examples)) for t in topics]):
                threshold, _ = self.topic_threshold(s.name)
                if s.score >= threshold:
                    hits.append({"name": s.name, "type": "DENY", "action": "BLOCKED"})
            if hits:
                policies["topicPolicy"] = {"topics": hits}
                blocked = True

        # words
        if self.words.words and "words" in on:
            usage["wordPolicyUnits"] = units
            checked = self.words.check(text)
            hit = [{"match": w, "action": "BLOCKED"} for w in checked.found]
            if checked.over_budget:
                hit.append({"match": "", "action": "BLOCKED"})
                warnings.append(f"word policy not checked ({checked.over_budget}): blocked (fails closed)")
            if hit:
                policies["wordPolicy"] = {"customWords": hit}
                blocked = True

        # prompt attack (input only)
        inj = cfg.harnessPolicies.promptInjection
        if source == "INPUT" and inj.enabled and inj.action != "NONE" and "injection" in on:
            from harness.guardrails.injection import detect

            usage["contentPolicyUnits"] = units
            verdict = detect(text, self.injection_threshold())
            if verdict.detected:
                conf = "HIGH" if verdict.score >= 0.9 else "MEDIUM" if verdict.score >= 0.7 else "LOW"
                policies["contentPolicy"] = {"filters": [{"type": "PROMPT_ATTACK", "confidence": conf,
                                                          "filterStrength": "HIGH", "action": "BLOCKED",
                                                          "rules": list(verdict.rules)}]}
                blocked = True

        # grounding of an answer in its passages (output only)
        hal = cfg.harnessPolicies.hallucinationCheck
        grounding = [f for f in cfg.contextualGroundingPolicyConfig.filtersConfig if f.type == "GROUNDING"]
        if source == "OUTPUT" and passages is not None and (hal.enabled or grounding) and "grounding" in on:
            from metrics.hallucination import detect as detect_claims

            usage["contextualGroundingPolicyUnits"] = units + text_units("".join(passages))
            faith = detect_claims(text, list(passages)).faithfulness
            threshold = grounding[0].threshold if grounding else hal.min_faithfulness
            block = (bool(grounding) or hal.action == "BLOCK")
            score_ = 1.0 if faith is None else faith
            below = score_ < threshold
            policies["contextualGroundingPolicy"] = {"filters": [{
                "type": "GROUNDING", "threshold": threshold, "score": round(score_, 4),
                "action": "BLOCKED" if below and block else "NONE"}]}
            if below and block:
                blocked = True
            elif below and hal.action == "WARN":
                warnings.append("unsupported claims: confidence warning, human review requested")

        intervened = blocked or masked != text
        out_text = (cfg.blockedInputMessaging if source == "INPUT" else cfg.blockedOutputsMessaging) if blocked \
            else masked
        return Assessment(source=source, action="GUARDRAIL_INTERVENED" if intervened else "NONE", text=out_text,
                          blocked=blocked, policies=policies, usage=_usage(**usage),
                          latency_ms=int(round((time.perf_counter() - t0) * 1000)), warnings=tuple(warnings),
                          not_evaluated=tuple(self.not_evaluated(source)))

