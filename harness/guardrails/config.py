"""A guardrail configuration: Bedrock's guardrail JSON (the ``CreateGuardrail`` request shape), read and checked.

The shipped default, ``harness/guardrails/techcorp.json``, is the case study's file verbatim
(``../shared/case-study/expanded-sections.md``, section 4, "Guardrail Configuration Example (Bedrock)"). Any
file in that shape works. Two deviations of the case study's file from the Bedrock API are accepted and
reported (:attr:`GuardrailConfig.notes`), never silently changed:

* a denied topic says ``"action": "BLOCK"`` where the API has ``"type": "DENY"`` (both read as a denied topic);
* the PII type ``"SSN"`` where the API's name is ``US_SOCIAL_SECURITY_NUMBER`` (read as that).

The case study's rows without a Bedrock key (section 4's input and output tables: prompt injection "pattern
matching + classifier", rate limiting, the hallucination check "citation verification against source docs",
confidence warning) are configured under ``harnessPolicies``, a key of this project that is never sent to AWS;
when it is absent, the defaults below follow those tables.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from harness.files import read_json, validate

DEFAULT_GUARDRAILS = Path(__file__).resolve().parent / "techcorp.json"
# names accepted for guardrails.config besides a path: the case study's file, and the same with topic examples
SHIPPED = {"techcorp": DEFAULT_GUARDRAILS,
           "techcorp-with-examples": Path(__file__).resolve().parent / "techcorp-with-examples.json"}

Strength = Literal["NONE", "LOW", "MEDIUM", "HIGH"]
ContentType = Literal["HATE", "INSULTS", "SEXUAL", "VIOLENCE", "MISCONDUCT", "PROMPT_ATTACK"]
PiiAction = Literal["BLOCK", "ANONYMIZE", "NONE"]
# Bedrock's PII entity types (the API's names); "SSN" is the case study's spelling of US_SOCIAL_SECURITY_NUMBER
PII_TYPES = ("ADDRESS", "AGE", "AWS_ACCESS_KEY", "AWS_SECRET_KEY", "CA_HEALTH_NUMBER", "CA_SOCIAL_INSURANCE_NUMBER",
             "CREDIT_DEBIT_CARD_CVV", "CREDIT_DEBIT_CARD_EXPIRY", "CREDIT_DEBIT_CARD_NUMBER", "DRIVER_ID", "EMAIL",
             "INTERNATIONAL_BANK_ACCOUNT_NUMBER", "IP_ADDRESS", "LICENSE_PLATE", "MAC_ADDRESS", "NAME", "PASSWORD",
             "PHONE", "PIN", "SWIFT_CODE", "UK_NATIONAL_HEALTH_SERVICE_NUMBER", "UK_NATIONAL_INSURANCE_NUMBER",
             "UK_UNIQUE_TAXPAYER_REFERENCE_NUMBER", "URL", "USERNAME", "US_BANK_ACCOUNT_NUMBER",
             "US_BANK_ROUTING_NUMBER", "US_INDIVIDUAL_TAX_IDENTIFICATION_NUMBER", "US_PASSPORT_NUMBER",
             "US_SOCIAL_SECURITY_NUMBER", "VEHICLE_IDENTIFICATION_NUMBER")
ALIASES = {"SSN": "US_SOCIAL_SECURITY_NUMBER"}

# Bedrock's own limits, applied at load (Amazon Bedrock API reference, CreateGuardrail request types):
# GuardrailRegexConfig: name 1-100 characters, pattern 1-500, description 1-1000
#   (https://docs.aws.amazon.com/bedrock/latest/APIReference/API_GuardrailRegexConfig.html);
# GuardrailSensitiveInformationPolicyConfig.regexesConfig: at most 10 regexes
#   (https://docs.aws.amazon.com/bedrock/latest/APIReference/API_GuardrailSensitiveInformationPolicyConfig.html);
# GuardrailWordConfig.text: 1-100 characters
#   (https://docs.aws.amazon.com/bedrock/latest/APIReference/API_GuardrailWordConfig.html);
# GuardrailWordPolicyConfig.wordsConfig: at most 10,000 words
#   (https://docs.aws.amazon.com/bedrock/latest/APIReference/API_GuardrailWordPolicyConfig.html).
MAX_REGEXES = 10
MAX_PATTERN_CHARS = 500
MAX_WORDS = 10_000
MAX_WORD_CHARS = 100


def _at_most(items: list, limit: int, what: str) -> list:
    if len(items) > limit:
        raise ValueError(f"{len(items):,} {what}: Bedrock allows at most {limit:,}")
    return items


class _Bedrock(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class ContentFilter(_Bedrock):
    type: ContentType
    inputStrength: Strength = "NONE"
    outputStrength: Strength = "NONE"


class ContentPolicy(_Bedrock):
    filtersConfig: list[ContentFilter] = []


class PiiEntity(_Bedrock):
    type: str
    action: PiiAction

    @model_validator(mode="after")
    def _known(self) -> "PiiEntity":
        name = ALIASES.get(self.type, self.type)
        if name not in PII_TYPES:
            raise ValueError(f"unknown PII entity type {self.type!r} (Bedrock's types: {', '.join(PII_TYPES)})")
        return self

    @property
    def bedrock_type(self) -> str:
        return ALIASES.get(self.type, self.type)


class RegexEntity(_Bedrock):
    name: str = Field(min_length=1, max_length=100)
    pattern: str = Field(min_length=1, max_length=MAX_PATTERN_CHARS)
    action: PiiAction
    description: str = Field("", max_length=1000)

    @field_validator("pattern")
    @classmethod
    def _compiles(cls, value: str) -> str:
        from harness.guardrails.regexes import compile_pattern

        compile_pattern(value)  # ValueError naming the problem; cached for the engine
        return value


class SensitiveInformationPolicy(_Bedrock):
    piiEntitiesConfig: list[PiiEntity] = []
    regexesConfig: list[RegexEntity] = []

    @field_validator("regexesConfig", mode="before")
    @classmethod
    def _regex_count(cls, value):
        return _at_most(value, MAX_REGEXES, "regexes") if isinstance(value, list) else value


class Topic(_Bedrock):
    name: str = Field(min_length=1, max_length=100)
    definition: str = Field(min_length=1, max_length=1000)
    examples: list[str] = []
    type: Literal["DENY"] | None = None  # the API's key
    action: Literal["BLOCK"] | None = None  # the case study's key (section 4)

    @model_validator(mode="after")
    def _denied(self) -> "Topic":
        if self.type is None and self.action is None:
            raise ValueError("a topic needs \"type\": \"DENY\" (or the case study's \"action\": \"BLOCK\")")
        return self


class TopicPolicy(_Bedrock):
    topicsConfig: list[Topic] = []


class Word(_Bedrock):
    text: str = Field(min_length=1, max_length=MAX_WORD_CHARS)

    @field_validator("text")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("a word of only white space would block every text with punctuation in it")
        return value


class WordPolicy(_Bedrock):
    wordsConfig: list[Word] = []
    managedWordListsConfig: list[dict] = []

    @field_validator("wordsConfig", mode="before")
    @classmethod
    def _word_count(cls, value):
        return _at_most(value, MAX_WORDS, "words") if isinstance(value, list) else value


class GroundingFilter(_Bedrock):
    type: Literal["GROUNDING", "RELEVANCE"]
    threshold: float = Field(ge=0, le=1)


class ContextualGroundingPolicy(_Bedrock):
    filtersConfig: list[GroundingFilter] = []


class InjectionPolicy(_Bedrock):
    """Prompt injection on the model's input: rules plus a trained classifier (case study, section 4)."""
    enabled: bool = True
    action: Literal["BLOCK", "NONE"] = "BLOCK"  # "Reject request, log incident"
    threshold: float | None = Field(None, ge=0, le=1, description="classifier probability; None: the calibrated one")


class HallucinationPolicy(_Bedrock):
    """Unsupported claims in an answer, checked against the retrieved passages (the offline detector)."""
    enabled: bool = True
    action: Literal["WARN", "BLOCK", "NONE"] = "WARN"  # "Add confidence warning, request human review"
    min_faithfulness: float = Field(1.0, ge=0, le=1, description="below this share of supported claims: flagged")


class HarnessPolicies(_Bedrock):
    """The case study's guardrail rows that have no Bedrock key."""
    promptInjection: InjectionPolicy = InjectionPolicy()
    hallucinationCheck: HallucinationPolicy = HallucinationPolicy()
    rateLimit: dict = Field(default_factory=dict, description="API Gateway throttling: not evaluated offline")


class GuardrailConfig(_Bedrock):
    """Bedrock's guardrail JSON (the keys of ``CreateGuardrail``) plus ``harnessPolicies``."""
    name: str = Field(min_length=1, max_length=50)
    description: str = ""
    blockedInputMessaging: str = "Sorry, the guardrail blocked this request."
    blockedOutputsMessaging: str = "Sorry, the guardrail blocked this answer."
    contentPolicyConfig: ContentPolicy = ContentPolicy()
    sensitiveInformationPolicyConfig: SensitiveInformationPolicy = SensitiveInformationPolicy()
    topicPolicyConfig: TopicPolicy = TopicPolicy()
    wordPolicyConfig: WordPolicy = WordPolicy()
    contextualGroundingPolicyConfig: ContextualGroundingPolicy = ContextualGroundingPolicy()
    harnessPolicies: HarnessPolicies = HarnessPolicies()
    path: str = Field("", exclude=True)

    @property
    def notes(self) -> list[str]:
        """Where this file departs from the Bedrock API's spelling (accepted, reported)."""
        out = [f"topic {t.name!r}: \"action\": \"BLOCK\" read as the API's \"type\": \"DENY\""
               for t in self.topicPolicyConfig.topicsConfig if t.type is None]
        out += [f"PII type {e.type!r} read as the API's {e.bedrock_type!r}"
                for e in self.sensitiveInformationPolicyConfig.piiEntitiesConfig if e.type != e.bedrock_type]
        from harness.guardrails.regexes import compile_pattern

        out += [f"regex {r.name!r}: {compile_pattern(r.pattern).note}"
                for r in self.sensitiveInformationPolicyConfig.regexesConfig
                if compile_pattern(r.pattern).engine != "re2"]
        return out


def resolve_path(ref: str | Path | None) -> Path:
    """A shipped configuration by name (``techcorp``) or a path; None: the default (the case study's)."""
    if ref is None or str(ref) in SHIPPED:
        return SHIPPED.get(str(ref), DEFAULT_GUARDRAILS) if ref is not None else DEFAULT_GUARDRAILS
    return Path(ref)


def load_guardrail_config(ref: str | Path | None = None) -> GuardrailConfig:
    """Read and check a guardrail JSON (exit 2 naming the file and field on a bad one)."""
    path = resolve_path(ref)
    data = read_json(path, "guardrail configuration")
    config = validate(GuardrailConfig, data, path=path)
    return config.model_copy(update={"path": str(path)})
