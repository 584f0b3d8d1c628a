"""PII detection and masking offline: Presidio's analyzer and anonymizer on pattern recognizers only.

Presidio's default ``AnalyzerEngine`` loads a large spaCy model (and exits when it cannot download one) and
its e-mail recognizer asks ``tldextract`` for the public-suffix list over the network. Neither may happen
here, so the analyzer is built from parts: spaCy's blank English tokenizer (no model, no download), the
pattern recognizers of the Bedrock entity types that have one (:data:`RECOGNIZERS`), and an e-mail recognizer
whose domain check reads ``tldextract``'s bundled suffix snapshot. Types that need a trained NER model
(``NAME``, ``ADDRESS``, ``AGE``, ...) are reported "not evaluated offline", never passed.

Masking follows Bedrock: an ANONYMIZE entity is replaced by ``{TYPE}`` (``{EMAIL}``, ``{PHONE}``), a BLOCK
entity stops the item. Overlapping findings keep the highest score (an SSN is not also a phone number).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Sequence

# Bedrock entity type -> (Presidio entity, recognizer class name in presidio_analyzer.predefined_recognizers)
RECOGNIZERS: dict[str, tuple[str, str]] = {
    "EMAIL": ("EMAIL_ADDRESS", "EmailRecognizer"),
    "PHONE": ("PHONE_NUMBER", "PhoneRecognizer"),
    "US_SOCIAL_SECURITY_NUMBER": ("US_SSN", "UsSsnRecognizer"),
    "CREDIT_DEBIT_CARD_NUMBER": ("CREDIT_CARD", "CreditCardRecognizer"),
    "INTERNATIONAL_BANK_ACCOUNT_NUMBER": ("IBAN_CODE", "IbanRecognizer"),
    "IP_ADDRESS": ("IP_ADDRESS", "IpRecognizer"),
    "MAC_ADDRESS": ("MAC_ADDRESS", "MacAddressRecognizer"),
    "URL": ("URL", "UrlRecognizer"),
    "US_BANK_ACCOUNT_NUMBER": ("US_BANK_NUMBER", "UsBankRecognizer"),
    "US_BANK_ROUTING_NUMBER": ("ABA_ROUTING_NUMBER", "AbaRoutingRecognizer"),
    "US_PASSPORT_NUMBER": ("US_PASSPORT", "UsPassportRecognizer"),
    "DRIVER_ID": ("US_DRIVER_LICENSE", "UsLicenseRecognizer"),
    "US_INDIVIDUAL_TAX_IDENTIFICATION_NUMBER": ("US_ITIN", "UsItinRecognizer"),
    "UK_NATIONAL_HEALTH_SERVICE_NUMBER": ("UK_NHS", "NhsRecognizer"),
    "UK_NATIONAL_INSURANCE_NUMBER": ("UK_NINO", "UkNinoRecognizer"),
}
MIN_SCORE = 0.4  # Presidio's pattern scores: an e-mail 1.0, a dashed SSN 0.5, a phone number 0.4


@dataclass(frozen=True)
class Finding:
    type: str  # the Bedrock entity type
    start: int
    end: int
    score: float


def offline_types(types: Sequence[str]) -> tuple[list[str], list[str]]:
    """(detectable offline, not evaluated offline) among Bedrock entity types."""
    return [t for t in types if t in RECOGNIZERS], [t for t in types if t not in RECOGNIZERS]


@functools.lru_cache(maxsize=1)
def _suffixes():
    import tldextract

    return tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)  # the bundled snapshot, no network


def _email_recognizer():
    from presidio_analyzer.predefined_recognizers import EmailRecognizer

    class OfflineEmailRecognizer(EmailRecognizer):
        def validate_result(self, pattern_text: str):  # noqa: D102 - the domain check without the network
            return _suffixes()(pattern_text).fqdn != ""

    return OfflineEmailRecognizer()


def _require(module: str):
    from harness.extras import require

    return require(module, "guardrails", "PII detection of the guardrail (Presidio)",
                   field="sensitiveInformationPolicyConfig.piiEntitiesConfig")


@functools.lru_cache(maxsize=8)
def _analyzer(types: tuple[str, ...]):
    for module in ("presidio_analyzer", "spacy", "tldextract"):
        _require(module)
    import spacy
    from presidio_analyzer import AnalyzerEngine, RecognizerRegistry
    from presidio_analyzer import predefined_recognizers as pr
    from presidio_analyzer.nlp_engine import SpacyNlpEngine

    class BlankEnglish(SpacyNlpEngine):
        """spaCy's rule-based English tokenizer: tokens for Presidio's context words, no model to download."""

        def __init__(self) -> None:
            super().__init__(models=[{"lang_code": "en", "model_name": "blank:en"}])

        def load(self) -> None:
            self.nlp = {"en": spacy.blank("en")}

    engine = BlankEnglish()
    engine.load()
    registry = RecognizerRegistry(supported_languages=["en"])
    for t in types:
        _, cls = RECOGNIZERS[t]
        registry.add_recognizer(_email_recognizer() if cls == "EmailRecognizer" else getattr(pr, cls)())
    return AnalyzerEngine(nlp_engine=engine, registry=registry, supported_languages=["en"])


def find(text: str, types: Sequence[str]) -> list[Finding]:
    """PII of the given Bedrock types in ``text`` (only the types with an offline recognizer), overlaps
    resolved to the highest score, in text order.

    >>> [(f.type, f.start, f.end) for f in find("Mail jo@acme.com, SSN 219-09-9999.", ["EMAIL", "SSN"])]
    [('EMAIL', 5, 16), ('US_SOCIAL_SECURITY_NUMBER', 22, 33)]
    """
    from harness.guardrails.config import ALIASES

    wanted = tuple(sorted({ALIASES.get(t, t) for t in types} & set(RECOGNIZERS)))
    if not wanted or not text:
        return []
    by_presidio = {RECOGNIZERS[t][0]: t for t in wanted}
    results = _analyzer(wanted).analyze(text=text, language="en", entities=list(by_presidio),
                                        score_threshold=MIN_SCORE)
    found = sorted((Finding(by_presidio[r.entity_type], r.start, r.end, float(r.score)) for r in results),
                   key=lambda f: (-f.score, f.start, -(f.end - f.start)))
    kept: list[Finding] = []
    for f in found:
        if all(f.end <= k.start or f.start >= k.end for k in kept):
            kept.append(f)
    return sorted(kept, key=lambda f: f.start)


def mask(text: str, findings: Sequence[Finding]) -> str:
    """``text`` with each finding replaced by ``{TYPE}`` (Bedrock's ANONYMIZE), through Presidio's anonymizer.

    >>> t = "Mail jo@acme.com now"
    >>> mask(t, find(t, ["EMAIL"]))
    'Mail {EMAIL} now'
    """
    if not findings:
        return text
    _require("presidio_anonymizer")
    from presidio_anonymizer import AnonymizerEngine
    from presidio_anonymizer.entities import OperatorConfig, RecognizerResult

    results = [RecognizerResult(f.type, f.start, f.end, f.score) for f in findings]
    operators = {f.type: OperatorConfig("replace", {"new_value": "{" + f.type + "}"}) for f in findings}
    return _anonymizer(AnonymizerEngine).anonymize(text=text, analyzer_results=results, operators=operators).text


@functools.lru_cache(maxsize=1)
def _anonymizer(cls):
    return cls()
