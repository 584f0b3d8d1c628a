"""Guardrail hook points on the model's input and output.

A hook is a plain function ``hook(text, context) -> GuardrailResult``: ``allow`` passes the text on,
``redact`` passes on the replacement text, ``block`` stops the item (recorded as an error on that item with
the hook's reason, never a crash). Hooks are registered by name and listed in the config
(``guardrails.input: [name, ...]``, ``guardrails.output: [...]``); the guardrail engine itself (the case
study's configuration) plugs in here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Callable, Literal, Mapping

from harness.errors import HarnessInputError


@dataclass(frozen=True)
class GuardrailResult:
    action: Literal["allow", "redact", "block"] = "allow"
    text: str | None = None  # replacement text for "redact"
    reasons: tuple[str, ...] = ()


@dataclass(frozen=True)
class GuardrailOutcome:
    text: str
    blocked: bool
    events: tuple[dict, ...] = field(default_factory=tuple)


Hook = Callable[[str, Mapping], GuardrailResult]
_REGISTRY: dict[str, Hook] = {}


def register(name: str) -> Callable[[Hook], Hook]:
    def deco(fn: Hook) -> Hook:
        _REGISTRY[name] = fn
        return fn
    return deco


def resolve(names: list[str], where: str) -> list[tuple[str, Hook]]:
    out = []
    for name in names:
        if name not in _REGISTRY:
            raise HarnessInputError(f"unknown guardrail {name!r} (known: {', '.join(sorted(_REGISTRY))})",
                                    field=f"guardrails.{where}")
        out.append((name, _REGISTRY[name]))
    return out


def apply(hooks: list[tuple[str, Hook]], text: str, context: Mapping) -> GuardrailOutcome:
    events = []
    for name, hook in hooks:
        res = hook(text, context)
        if res.action == "allow":
            continue
        events.append({"hook": name, "action": res.action, "reasons": list(res.reasons)})
        if res.action == "block":
            return GuardrailOutcome(text=text, blocked=True, events=tuple(events))
        text = res.text if res.text is not None else text
    return GuardrailOutcome(text=text, blocked=False, events=tuple(events))


_EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+\.[\w.-]+\b")


@register("redact_emails")
def redact_emails(text: str, context: Mapping) -> GuardrailResult:
    """Example hook: mask e-mail addresses before they reach the model."""
    if _EMAIL.search(text):
        return GuardrailResult("redact", _EMAIL.sub("[EMAIL]", text), ("email address",))
    return GuardrailResult()


@register("block_empty_output")
def block_empty_output(text: str, context: Mapping) -> GuardrailResult:
    """Example hook: refuse an empty model answer."""
    return GuardrailResult("block", reasons=("empty output",)) if not text.strip() else GuardrailResult()
