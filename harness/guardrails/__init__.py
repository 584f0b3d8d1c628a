"""Guardrails: a Bedrock guardrail JSON (:mod:`.config`; the case study's is ``techcorp.json``) applied offline
by :class:`~harness.guardrails.engine.OfflineGuardrail` (PII :mod:`.pii`, prompt injection :mod:`.injection`,
denied topics :mod:`.topics`, grounding), each check an assessment in the shape of Bedrock's ApplyGuardrail;
:mod:`.evaluate` measures it on a red-team set and calibrates its thresholds."""
