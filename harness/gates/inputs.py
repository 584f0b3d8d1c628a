"""Inputs of the gates that are not runs: user ratings (CSV), the audit checklist and the incident log (YAML).
Every problem names the file, the line and the field."""

from __future__ import annotations

import csv
from pathlib import Path

from harness.errors import HarnessInputError
from harness.files import read_yaml_mapping


def read_ratings(path: str | Path) -> list[float]:
    """User ratings: a CSV with a ``rating`` column, values 1 to 5."""
    path = Path(path)
    if not path.is_file():
        raise HarnessInputError("ratings file not found", path=path)
    out = []
    with open(path, encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        if not reader.fieldnames or "rating" not in reader.fieldnames:
            raise HarnessInputError("expected a 'rating' column", path=path, line=1, field="rating")
        for i, row in enumerate(reader, start=2):
            try:
                value = float(row["rating"])
            except (TypeError, ValueError):
                raise HarnessInputError(f"not a number: {row['rating']!r}", path=path, line=i, field="rating") from None
            if not 1 <= value <= 5:
                raise HarnessInputError(f"rating {value} outside 1-5", path=path, line=i, field="rating")
            out.append(value)
    return out


def read_audit(path: str | Path) -> dict:
    """Audit checklist: ``items: [{id: ..., satisfied: true|false}, ...]``."""
    data, _ = read_yaml_mapping(path, "audit checklist")
    items = data.get("items")
    if not isinstance(items, list) or not items:
        raise HarnessInputError("expected a non-empty 'items' list", path=path, field="items")
    for i, it in enumerate(items):
        if not isinstance(it, dict) or "id" not in it or not isinstance(it.get("satisfied"), bool):
            raise HarnessInputError("each item needs an id and satisfied: true|false", path=path,
                                    field=f"items[{i}]")
    return data


def read_incidents(path: str | Path) -> list[dict]:
    """Incident log: ``incidents: [{type: data_exposure|compliance_violation|..., severity: ..., date: ...}]``."""
    data, _ = read_yaml_mapping(path, "incident log")
    items = data.get("incidents", [])
    if not isinstance(items, list):
        raise HarnessInputError("expected an 'incidents' list", path=path, field="incidents")
    return items
