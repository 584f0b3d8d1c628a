"""The same guardrail on Bedrock: ``ApplyGuardrail`` through boto3 (``bedrock-runtime``) for a guardrail that
exists in the account (its id and version; the JSON itself creates nothing in AWS). The response is already
in the shape the offline engine imitates, so :class:`BedrockGuardrail` returns the same
:class:`~harness.guardrails.engine.Assessment`, and runs read, count and cost the same way either way.

For text the harness stores or indexes (not sends), PII is masked locally (:meth:`mask_all`, Presidio), as with
the offline engine.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence

from harness.guardrails.config import GuardrailConfig
from harness.guardrails.engine import Assessment, OfflineGuardrail, Source

POLICY_KEYS = ("topicPolicy", "contentPolicy", "wordPolicy", "sensitiveInformationPolicy",
               "contextualGroundingPolicy")


def _blocked(policies: dict) -> bool:
    for key in POLICY_KEYS:
        for value in (policies.get(key) or {}).values():
            if isinstance(value, list) and any(isinstance(x, dict) and x.get("action") == "BLOCKED" for x in value):
                return True
    return False


def assessment_from_response(resp: dict, source: Source, text: str) -> Assessment:
    """An ApplyGuardrail response (as boto3 returns it) as an :class:`Assessment`."""
    entries = resp.get("assessments") or [{}]
    policies = {k: v for e in entries for k, v in e.items() if k in POLICY_KEYS}
    metrics = next((e.get("invocationMetrics") for e in entries if e.get("invocationMetrics")), {}) or {}
    outputs = resp.get("outputs") or []
    intervened = resp.get("action") == "GUARDRAIL_INTERVENED"
    out_text = outputs[0].get("text", text) if intervened and outputs else text
    usage = {k: int(v) for k, v in (resp.get("usage") or metrics.get("usage") or {}).items()
             if isinstance(v, int)}
    return Assessment(source=source, action="GUARDRAIL_INTERVENED" if intervened else "NONE", text=out_text,
                      blocked=intervened and _blocked(policies), policies=policies, usage=usage,
                      latency_ms=int(metrics.get("guardrailProcessingLatency") or 0))


@dataclass
class BedrockGuardrail:
    """A Bedrock guardrail (id and version) applied with ``ApplyGuardrail``."""
    config: GuardrailConfig
    guardrail_id: str
    guardrail_version: str
    region: str
    endpoint_url: str | None = None
    client_config: Any = None
    _client: Any = field(default=None, repr=False)
    _local: OfflineGuardrail | None = field(default=None, repr=False)

    @property
    def client(self):
        if self._client is None:
            from harness.extras import require

            boto3 = require("boto3", "bedrock", "the Bedrock guardrail (ApplyGuardrail through boto3)",
                            field="guardrails.provider")

            self._client = boto3.client("bedrock-runtime", region_name=self.region, endpoint_url=self.endpoint_url,
                                        config=self.client_config)
        return self._client

    def apply(self, text: str, source: Source, passages: Sequence[str] | None = None,
              only: frozenset[str] | None = None) -> Assessment:
        """Every policy of the guardrail (Bedrock applies them all; ``only`` is the offline engine's and is not
        sent); ``passages`` go as grounding sources, ``text`` as the content to guard."""
        content = [{"text": {"text": p, "qualifiers": ["grounding_source"]}} for p in passages or []]
        content.append({"text": {"text": text, "qualifiers": ["guard_content"]}})
        resp = self.client.apply_guardrail(guardrailIdentifier=self.guardrail_id,
                                           guardrailVersion=self.guardrail_version, source=source, content=content)
        return assessment_from_response(resp, source, text)

    def not_evaluated(self, source: Source) -> list[str]:
        return []  # Bedrock evaluates every policy it was created with

    def _offline(self) -> OfflineGuardrail:
        if self._local is None:
            self._local = OfflineGuardrail(self.config, calibration={})
        return self._local

    def masks_pii(self) -> bool:
        return self._offline().masks_pii()

    def mask_all(self, text: str) -> str:
        return self._offline().mask_all(text)
