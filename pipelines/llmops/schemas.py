"""JSON schemas of the LLMOps tasks' outputs: the local model's grammar is compiled from them, so its reply
is always a JSON object of the right shape (labels from the manifest, fields from the schema, citations
from the retrieved chunk ids)."""

from __future__ import annotations

from typing import Any, Mapping, Sequence


def label_schema(labels: Sequence[str]) -> dict:
    return {"type": "object", "properties": {"label": {"type": "string", "enum": list(labels)}},
            "required": ["label"]}


MAX_VALUE_CHARS = 48  # bounds a value's length in the grammar, so a small model cannot run away in a string


def extraction_schema(fields: Mapping) -> dict:
    props: dict[str, Any] = {}
    text = {"type": "string", "maxLength": MAX_VALUE_CHARS}
    for name, spec in fields.items():
        if spec.type == "enum":
            props[name] = {"anyOf": [{"type": "string", "enum": list(spec.values)}, {"type": "null"}]}
        elif spec.type == "list":
            props[name] = {"anyOf": [{"type": "array", "items": text, "maxItems": 6}, {"type": "null"}]}
        else:
            props[name] = {"anyOf": [text, {"type": "null"}]}
    return {"type": "object", "properties": props, "required": list(props)}


def answer_schema(chunk_ids: Sequence[str]) -> dict:
    return {"type": "object", "properties": {
        "answer": {"type": "string", "maxLength": 300},
        "citations": {"type": "array", "items": {"type": "string", "enum": list(chunk_ids)}}},
        "required": ["answer", "citations"]}


SUMMARY_SCHEMA = {"type": "object", "properties": {"summary": {"type": "string", "maxLength": 400}},
                  "required": ["summary"]}
