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
        try:
            if not reader.fieldnames or "rating" not in reader.fieldnames:
                raise HarnessInputError("expected a 'rating' column", path=path, line=1, field="rating")
            for row in reader:
                i = reader.line_num
                try:
                    value = float(row["rating"])
                except (TypeError, ValueError):
                    shown = repr(row["rating"])
                    raise HarnessInputError(f"not a number: {shown if len(shown) <= 40 else shown[:24] + '...'}",
                                            path=path, line=i, field="rating") from None
                if not 1 <= value <= 5:
                    raise HarnessInputError(f"rating {value} outside 1-5", path=path, line=i, field="rating")
                out.append(value)
        except csv.Error as exc:  # a cell over the csv module's field limit, a NUL byte
            raise HarnessInputError(f"not a readable CSV: {exc}", path=path, line=reader.line_num + 1) from None
        except UnicodeDecodeError as exc:
            raise HarnessInputError(f"not valid UTF-8 at byte {exc.start}", path=path) from None
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
    for i, it in enumerate(items):
        if not isinstance(it, dict) or not isinstance(it.get("type"), str):
            raise HarnessInputError("each incident needs a type (a text)", path=path, field=f"incidents[{i}]")
    return items
