"""Structured output: the JSON object in a model's reply, or :class:`InvalidOutput` saying why not."""

from __future__ import annotations

import json
import re


class InvalidOutput(ValueError):
    """A model reply that is not the JSON object asked for."""


def parse_json_object(text: str) -> dict:
    """The JSON object in a model reply (the whole reply, or the first {...} block in it).

    >>> parse_json_object('Sure! {"label": "invoice"} Hope that helps.')
    {'label': 'invoice'}
    """
    text = text.strip()
    try:
        obj = json.loads(text)
    except json.JSONDecodeError:
        m = re.search(r"\{.*\}", text, re.S)
        if not m:
            raise InvalidOutput(f"no JSON object in model output: {text[:120]!r}") from None
        try:
            obj = json.loads(m.group())
        except json.JSONDecodeError as exc:
            raise InvalidOutput(f"invalid JSON in model output ({exc.msg}): {text[:120]!r}") from None
    if not isinstance(obj, dict):
        raise InvalidOutput(f"model output is not a JSON object: {text[:120]!r}")
    return obj
