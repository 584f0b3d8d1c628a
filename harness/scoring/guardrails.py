"""The ``guardrails`` section of ``metrics.json``: what the guardrail engine did during a run, from the
records each model call keeps in its task ``meta`` (types and actions, never the matched text)."""

from __future__ import annotations

from collections import Counter
from typing import Sequence

import numpy as np

from harness.predictor import Prediction


def guardrails_section(predictions: Sequence[Prediction]) -> dict | None:
    """Checks, interventions, blocks by side, policies that fired, PII masked or blocked by type, grounding
    warnings, text units by policy and the latency the checks added per model call; None when no call ran a
    guardrail."""
    records = [r.meta["guardrails"] for p in predictions for r in p.tasks.values()
               if isinstance(r.meta.get("guardrails"), dict)]
    if not records:
        return None
    fired, pii, blocked, units = Counter(), Counter(), Counter(), Counter()
    interventions = warnings = 0
    for rec in records:
        for side in ("input", "output"):
            for ev in rec.get(side) or []:
                fired.update(ev.get("fired") or [])
                pii.update(f"{e['type']} {e['action'].lower()}" for e in ev.get("pii") or [])
                interventions += ev.get("action") == "GUARDRAIL_INTERVENED"
                warnings += len(ev.get("warnings") or [])
                if ev.get("blocked"):
                    blocked[side] += 1
        units.update(rec.get("usage") or {})
    lat = np.asarray([float(rec.get("latency_ms") or 0) / 1000 for rec in records])
    return {"calls": len(records), "checks": int(sum(int(rec.get("checks") or 0) for rec in records)),
            "interventions": int(interventions), "blocked": {"input": blocked["input"], "output": blocked["output"]},
            "blocked_calls": int(sum(blocked.values())), "fired": dict(sorted(fired.items())),
            "pii": dict(sorted(pii.items())), "warnings": int(warnings), "text_units": dict(sorted(units.items())),
            "latency_s": {"p50": float(np.percentile(lat, 50)), "p95": float(np.percentile(lat, 95)),
                          "mean": float(lat.mean())}}
