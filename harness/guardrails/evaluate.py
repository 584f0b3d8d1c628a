"""The guardrail evaluation on a red-team set: catch rate, false positives, precision, added latency.

The red-team set is a JSONL file, one item per line (``golden_sets/redteam/redteam.jsonl`` is the project's;
extend it or bring your own):

``id``, ``text``, ``where`` (``input`` | ``output``), ``category`` (free text), ``expect`` (the policies that
must fire, by kind: ``pii``, ``injection`` (input items), ``topic:<topic name>``, ``content:<filter type>``,
``word``, ``regex:<name>``, ``grounding`` (output items with passages); empty for a benign item), optionally
``pii`` (the exact PII strings in the text), ``split`` (``calibration`` | ``test``) and ``passages`` (for an
output item: what it must be grounded in). What the evaluation cannot measure is refused at load, naming the
line and field.

Each item goes through the engine on its side (``where``). Per policy kind: **catch rate** (recall) over the
items that expect it, **false-positive rate** over the benign items (expect nothing), **precision** over the
items where it fired; with Wilson 95 % intervals. A kind with no offline implementation (a content filter)
is reported "not evaluated offline", never as a catch rate.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Sequence

from pydantic import BaseModel, ConfigDict, Field

from harness.errors import HarnessInputError
from harness.files import loads_json, validate

DEFAULT_ITEMS = Path(__file__).resolve().parents[2] / "golden_sets" / "redteam" / "redteam.jsonl"


class RedTeamItem(BaseModel):
    """One line of a red-team JSONL file."""
    model_config = ConfigDict(extra="ignore", strict=True)
    id: str = Field(min_length=1)
    text: str
    where: Literal["input", "output"]
    category: str
    expect: list[str]
    pii: list[str] = []
    split: Literal["calibration", "test"] = "test"
    passages: list[str] | None = None


def _unsupported(item: RedTeamItem) -> tuple[str, str] | None:
    """(field, problem) for what the evaluation cannot measure on this item, or None."""
    for kind in item.expect:
        if not (kind in ("pii", "injection", "grounding", "word") or
                kind.startswith(("topic:", "content:", "regex:"))):
            return "expect", (f"unknown policy kind {kind!r} (pii, injection, grounding, word, topic:<name>, "
                              "content:<type>, regex:<name>)")
    if len(set(item.expect)) != len(item.expect):
        return "expect", "a policy kind is listed twice"
    if "injection" in item.expect and item.where != "input":
        return "expect", "injection is checked on the model's input only (where: input)"
    if "grounding" in item.expect and (item.where != "output" or item.passages is None):
        return "expect", "grounding is checked on an output item with its passages (where: output, passages)"
    if item.passages is not None and item.where != "output":
        return "passages", "passages are read for output items only (where: output)"
    return None


def read_items(path: str | Path | None = None, split: str | None = None) -> list[RedTeamItem]:
    """The items of a red-team file (exit 2 naming the line and field of a bad one)."""
    path = Path(path) if path is not None else DEFAULT_ITEMS
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise HarnessInputError("red-team items file not found", path=path) from None
    except UnicodeDecodeError as exc:
        raise HarnessInputError(f"not valid UTF-8 at byte {exc.start}", path=path) from None
    items, seen = [], set()
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        item = validate(RedTeamItem, loads_json(line, path=path, line=n), path=path, line=n)
        unsupported = _unsupported(item)
        if unsupported:
            raise HarnessInputError(unsupported[1], path=path, line=n, field=unsupported[0])
        missing = [s for s in item.pii if s not in item.text]
        if missing:
            raise HarnessInputError(f"PII string {missing[0]!r} does not occur in the text", path=path, line=n,
                                    field="pii")
        if item.id in seen:
            raise HarnessInputError(f"duplicate id {item.id!r}", path=path, line=n, field="id")
        seen.add(item.id)
        if split is None or item.split == split:
            items.append(item)
    if not items:
        raise HarnessInputError(f"no items{' in split ' + repr(split) if split else ''}", path=path)
    return items


def wilson(k: int, n: int, z: float = 1.96) -> tuple[float | None, float | None]:
    """Wilson score interval of k successes in n.

    >>> [round(x, 3) for x in wilson(9, 10)]
    [0.596, 0.982]
    """
    if n == 0:
        return None, None
    p = k / n
    d = 1 + z * z / n
    c = (p + z * z / (2 * n)) / d
    h = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / d
    return max(0.0, c - h), min(1.0, c + h)


@dataclass(frozen=True)
class Checked:
    item: RedTeamItem
    fired: frozenset[str]
    blocked: bool
    latency_ms: float
    masked_text: str


def run_items(engine, items: Sequence[RedTeamItem], progress: bool = False) -> list[Checked]:
    """Every item through the engine on its side."""
    from harness.progress import track

    out = []
    for it in track(items, "guardrails", "item", enabled=None if progress else False):
        a = engine.apply(it.text, "INPUT" if it.where == "input" else "OUTPUT", it.passages)
        out.append(Checked(it, frozenset(a.fired()), a.blocked, float(a.latency_ms), a.text))
    return out


def _rate(k: int, n: int) -> dict:
    low, high = wilson(k, n)
    return {"value": (k / n) if n else None, "k": k, "n": n, "low": low, "high": high}


def evaluate(checked: Sequence[Checked], not_evaluated: Sequence[str] = ()) -> dict:
    """Per policy kind: catch rate, false-positive rate, precision; per category: how often each kind fired;
    latency added per item (P50/P95)."""
    import numpy as np

    kinds = sorted({k for c in checked for k in c.item.expect} | {k for c in checked for k in c.fired})
    benign = [c for c in checked if not c.item.expect]
    policies = {}
    for kind in kinds:
        expecting = [c for c in checked if kind in c.item.expect]
        fired = [c for c in checked if kind in c.fired]
        if kind in not_evaluated:
            policies[kind] = {"status": "not evaluated offline", "n_expecting": len(expecting)}
            continue
        policies[kind] = {"status": "evaluated",
                          "catch_rate": _rate(sum(kind in c.fired for c in expecting), len(expecting)),
                          "false_positive_rate": _rate(sum(kind in c.fired for c in benign), len(benign)),
                          "precision": _rate(sum(kind in c.item.expect for c in fired), len(fired))}
    categories: dict = defaultdict(lambda: {"n": 0, "fired": Counter(), "caught": 0, "expecting": 0})
    for c in checked:
        cat = categories[c.item.category]
        cat["n"] += 1
        cat["fired"].update(c.fired)
        measurable = [k for k in c.item.expect if k not in not_evaluated]
        if measurable:  # an item whose every expected policy has no offline implementation is not counted
            cat["expecting"] += 1
            cat["caught"] += all(k in c.fired for k in measurable)
    lat = np.asarray([c.latency_ms for c in checked], dtype=float)
    return {
        "n_items": len(checked), "n_benign": len(benign),
        "any_false_positive_rate": _rate(sum(bool(c.fired - {"grounding"}) for c in benign), len(benign)),
        "policies": policies,
        "categories": {k: {"n": v["n"], "expecting": v["expecting"], "caught": v["caught"],
                           "fired": dict(sorted(v["fired"].items()))} for k, v in sorted(categories.items())},
        "latency_ms": {"p50": float(np.percentile(lat, 50)), "p95": float(np.percentile(lat, 95)),
                       "mean": float(lat.mean())} if len(lat) else {},
        "not_evaluated_offline": sorted(not_evaluated),
    }


def best_threshold(pos: Sequence[float], neg: Sequence[float]) -> tuple[float, float]:
    """(threshold, F1) with the best F1 separating ``pos`` (should fire) from ``neg`` (should not): a score at
    or above the threshold fires. Candidates are midpoints between observed scores; ties go to the higher.

    >>> t, f1 = best_threshold([0.9, 0.8, 0.7], [0.1, 0.75])
    >>> t, round(f1, 3)
    (0.4, 0.857)
    """
    values = sorted(set(pos) | set(neg))
    candidates = [(a + b) / 2 for a, b in zip(values, values[1:])] or values
    best = (1.0, -1.0)
    for t in candidates:
        tp = sum(p >= t for p in pos)
        fp = sum(n >= t for n in neg)
        f1 = 2 * tp / (2 * tp + fp + (len(pos) - tp)) if pos else 0.0
        if f1 > best[1] or (f1 == best[1] and t > best[0]):
            best = (round(t, 4), f1)
    return best


def calibrate(config, items: Sequence[RedTeamItem], progress: bool = False) -> dict:
    """Thresholds from the calibration items: per denied topic, the MiniLM similarity with the best F1 between
    the items that expect the topic and all others on the same side; for prompt injection, the classifier
    probability with the best F1 between injection items and the other input items (items a rule already
    catches are left out: the threshold is for what the rules miss)."""
    from harness.guardrails import injection, topics
    from harness.progress import track

    refs = [(t.name, (t.definition, *t.examples)) for t in config.topicPolicyConfig.topicsConfig]
    topic_scores: dict[str, list[tuple[float, bool]]] = defaultdict(list)
    inj: list[tuple[float, bool]] = []
    for it in track(items, "calibrating", "item", enabled=None if progress else False):
        for s in topics.score(it.text, refs):
            topic_scores[s.name].append((s.score, f"topic:{s.name}" in it.expect))
        if it.where == "input" and not injection.rule_hits(it.text):
            inj.append((max(injection.probability(injection.views(it.text))), "injection" in it.expect))
    out: dict = {"topics": {}, "items": len(items)}
    for name, scored in topic_scores.items():
        pos = [x for x, y in scored if y]
        neg = [x for x, y in scored if not y]
        if pos:
            t, f1 = best_threshold(pos, neg)
            out["topics"][name] = {"threshold": t, "f1": round(f1, 4), "positives": len(pos), "negatives": len(neg)}
    pos = [x for x, y in inj if y]
    neg = [x for x, y in inj if not y]
    if pos:
        t, f1 = best_threshold(pos, neg)
        out["injection"] = {"threshold": t, "f1": round(f1, 4), "positives": len(pos), "negatives": len(neg),
                            "note": "for injections no rule catches"}
    return out
