"""Field-extraction metrics.

Definitions:

* **accuracy**: over every (document, field) pair whose gold value is not null, the share whose
  normalised prediction equals the normalised gold value (see :mod:`metrics.normalize`). A missing or
  failed prediction counts as wrong.
* **spurious rate**: over every (document, field) pair whose gold value is null, the share where a
  non-null value was predicted.
* Per field, the same two figures restricted to that field.

With no gold values the accuracy is None (not measurable), likewise the spurious rate with no null gold.

>>> from types import SimpleNamespace as F
>>> schema = {"total": F(type="money"), "date": F(type="date", date_order="mdy")}
>>> r = extraction_scores([{"total": "10.00", "date": None}], [{"total": "$10", "date": "May 1, 2024"}], schema)
>>> r.accuracy, r.spurious_rate
(1.0, 1.0)
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Mapping, Sequence

from metrics.normalize import FieldLike, normalize_value


@dataclass(frozen=True)
class FieldScores:
    accuracy: float | None
    n_gold: int
    n_correct: int
    spurious_rate: float | None
    n_null_gold: int
    n_spurious: int


@dataclass(frozen=True)
class ExtractionScores:
    n_documents: int
    accuracy: float | None
    n_gold: int
    n_correct: int
    spurious_rate: float | None
    n_null_gold: int
    n_spurious: int
    per_field: Mapping[str, FieldScores]

    def to_dict(self) -> dict:
        return asdict(self)


def _ratio(num: int, den: int) -> float | None:
    return num / den if den else None


def field_matches(gold: Mapping[str, Any], pred: Mapping[str, Any] | None, schema: Mapping[str, FieldLike]
                  ) -> dict[str, bool | None]:
    """Per field: True/False when gold has a value (right or wrong), None when gold is null."""
    pred = pred or {}
    out: dict[str, bool | None] = {}
    for name, spec in schema.items():
        g = normalize_value(gold.get(name), spec.type, spec)
        if g is None:
            out[name] = None
        else:
            out[name] = normalize_value(pred.get(name), spec.type, spec) == g
    return out


def extraction_scores(gold: Sequence[Mapping[str, Any]], pred: Sequence[Mapping[str, Any] | None],
                      schema: Mapping[str, FieldLike]) -> ExtractionScores:
    """Accuracy and spurious rate, overall and per field (see the module docstring)."""
    if len(gold) != len(pred):
        raise ValueError(f"gold has {len(gold)} documents, pred {len(pred)}")
    counts = {name: [0, 0, 0, 0] for name in schema}  # gold, correct, null gold, spurious
    for g, p in zip(gold, pred):
        p = p or {}
        for name, spec in schema.items():
            gv = normalize_value(g.get(name), spec.type, spec)
            pv = normalize_value(p.get(name), spec.type, spec)
            c = counts[name]
            if gv is None:
                c[2] += 1
                c[3] += pv is not None
            else:
                c[0] += 1
                c[1] += pv == gv
    per_field = {name: FieldScores(_ratio(c[1], c[0]), c[0], c[1], _ratio(c[3], c[2]), c[2], c[3])
                 for name, c in counts.items()}
    tot = [sum(c[i] for c in counts.values()) for i in range(4)]
    return ExtractionScores(n_documents=len(gold), accuracy=_ratio(tot[1], tot[0]), n_gold=tot[0], n_correct=tot[1],
                            spurious_rate=_ratio(tot[3], tot[2]), n_null_gold=tot[2], n_spurious=tot[3],
                            per_field=per_field)
