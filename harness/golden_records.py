"""Golden sets, the records: the manifest's types (:class:`FieldSpec`, :class:`Manifest`; callers import them from
:mod:`harness.golden`) and each line of ``documents.jsonl`` and ``qa.jsonl`` checked against the manifest
(keys, types, ids, splits, labels, field values by type), every problem an exit-2 error naming the file, the
line and the field; :func:`read_documents` and :func:`read_qa` return the rows :mod:`harness.golden` keeps."""

from __future__ import annotations

import re
from datetime import date
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Literal, Mapping

from harness.errors import HarnessInputError
from harness.files import iter_jsonl

DOC_KEYS = ("id", "split", "text", "label", "fields")
QA_KEYS = ("id", "split", "doc_ids", "question", "reference_answer", "reference_contexts")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass(frozen=True)
class FieldSpec:
    """One extracted field: its name, type and, for enums, allowed values and their aliases."""
    name: str
    type: Literal["string", "date", "money", "enum", "list"]
    description: str = ""
    values: tuple[str, ...] = ()
    aliases: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    date_order: Literal["mdy", "dmy"] = "mdy"


@dataclass(frozen=True)
class Manifest:
    name: str
    version: str
    description: str
    labels: tuple[str, ...]
    fields: Mapping[str, FieldSpec]
    splits: tuple[str, ...]
    files: Mapping[str, str]  # file name -> sha256
    sha256: str  # hash of manifest.yaml itself (covers the data through the file checksums)


def check_field_value(spec: FieldSpec, value: Any) -> str | None:
    """Return a problem description if ``value`` does not fit the field's type, else None."""
    if value is None:
        return None
    if spec.type == "list":
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            return "expected a list of strings"
        return None
    if spec.type == "money":
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            return "expected a decimal amount"
        try:
            amount = Decimal(str(value))
        except InvalidOperation:
            return f"expected a decimal amount, got {value!r}"
        if not amount.is_finite():
            return f"expected a finite decimal amount, got {value!r}"
        return None
    if not isinstance(value, str):
        return f"expected a string, got {type(value).__name__}"
    if spec.type == "date":
        if not _ISO_DATE.match(value):
            return f"expected an ISO date YYYY-MM-DD, got {value!r}"
        try:
            date.fromisoformat(value)
        except ValueError:
            return f"not a calendar date: {value!r}"
    if spec.type == "enum" and value not in spec.values:
        return f"{value!r} is not one of {', '.join(spec.values)}"
    return None


def _require(obj: dict, keys: tuple[str, ...], path: Path, lineno: int) -> None:
    for key in keys:
        if key not in obj:
            raise HarnessInputError("missing key", path=path, line=lineno, field=key)


def _str_list(obj: dict, key: str, path: Path, lineno: int) -> None:
    value = obj[key]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise HarnessInputError("expected a list of strings", path=path, line=lineno, field=key)


def _check_id_and_split(obj: dict, manifest: Manifest, seen: dict[str, str], path: Path, lineno: int) -> None:
    if obj["id"] in seen:
        raise HarnessInputError(f"duplicate id {obj['id']!r} (first seen at {seen[obj['id']]})", path=path,
                                line=lineno, field="id")
    seen[obj["id"]] = f"{path.name}:{lineno}"
    if obj["split"] not in manifest.splits:
        raise HarnessInputError(f"unknown split {obj['split']!r}", path=path, line=lineno, field="split")


def read_documents(path: Path, manifest: Manifest, seen: dict[str, str]) -> list[dict]:
    rows = []
    labels = set(manifest.labels)
    for lineno, obj in iter_jsonl(path):
        _require(obj, DOC_KEYS, path, lineno)
        for key in ("id", "split", "text", "label"):
            if not isinstance(obj[key], str):
                raise HarnessInputError("expected a string", path=path, line=lineno, field=key)
        _check_id_and_split(obj, manifest, seen, path, lineno)
        if obj["label"] not in labels:
            raise HarnessInputError(f"unknown label {obj['label']!r}", path=path, line=lineno, field="label")
        fields = obj["fields"]
        if not isinstance(fields, dict):
            raise HarnessInputError("expected a mapping of field -> value", path=path, line=lineno, field="fields")
        for name, value in fields.items():
            spec = manifest.fields.get(name)
            if spec is None:
                raise HarnessInputError("field not in the manifest's schema", path=path, line=lineno,
                                        field=f"fields.{name}")
            problem = check_field_value(spec, value)
            if problem:
                raise HarnessInputError(problem, path=path, line=lineno, field=f"fields.{name}")
        summary = obj.get("summary")
        if summary is not None and not isinstance(summary, str):
            raise HarnessInputError("expected a string or null", path=path, line=lineno, field="summary")
        rows.append({"id": obj["id"], "split": obj["split"], "text": obj["text"], "label": obj["label"],
                     "fields": {name: _stored(manifest.fields[name], fields.get(name))
                                for name in manifest.fields},
                     "summary": summary})
    return rows


def _stored(spec: FieldSpec, value: Any) -> Any:
    if value is None:
        return None
    if spec.type == "money":
        return str(value)
    return value


def read_qa(path: Path, manifest: Manifest, seen: dict[str, str], doc_ids: set[str]) -> list[dict]:
    rows = []
    for lineno, obj in iter_jsonl(path):
        _require(obj, QA_KEYS, path, lineno)
        for key in ("id", "split", "question", "reference_answer"):
            if not isinstance(obj[key], str):
                raise HarnessInputError("expected a string", path=path, line=lineno, field=key)
        _str_list(obj, "doc_ids", path, lineno)
        _str_list(obj, "reference_contexts", path, lineno)
        _check_id_and_split(obj, manifest, seen, path, lineno)
        for d in obj["doc_ids"]:
            if d not in doc_ids:
                raise HarnessInputError(f"unknown document id {d!r}", path=path, line=lineno, field="doc_ids")
        rows.append({k: obj[k] for k in QA_KEYS})
    return rows
