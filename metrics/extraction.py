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

from collections import Counter
from dataclasses import asdict, dataclass
from typing import Any, Callable, Mapping, Sequence

from metrics.normalize import FieldLike, blank_ascii, normalizer


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


Outcome = str  # "correct" | "wrong" (gold has a value) | "spurious" | "empty" (gold is null)


def document_outcomes(gold: Mapping[str, Any], pred: Mapping[str, Any] | None, schema: Mapping[str, FieldLike]
                      ) -> dict[str, Outcome]:
    """Per field of one document: ``correct``/``wrong`` when gold has a value, ``spurious``/``empty`` when
    gold is null (a value was / was not predicted). The core of every extraction figure."""
    return outcomes_by_document([gold], [pred], schema)[0]


def outcomes_by_document(gold: Sequence[Mapping[str, Any]], pred: Sequence[Mapping[str, Any] | None],
                         schema: Mapping[str, FieldLike]) -> list[dict[str, Outcome]]:
    """:func:`document_outcomes` of each (gold, prediction) pair, each field's normaliser set up once."""
    columns = outcome_columns(gold, pred, schema)
    if not columns:
        return [{} for _ in zip(gold, pred)]
    names = list(columns)
    return [dict(zip(names, row)) for row in zip(*columns.values())]


def outcome_columns(gold: Sequence[Mapping[str, Any]], pred: Sequence[Mapping[str, Any] | None],
                    schema: Mapping[str, FieldLike]) -> dict[str, list[Outcome]]:
    """The outcomes of :func:`outcomes_by_document` field by field (schema order): per field, one outcome per
    (gold, prediction) pair, each field's column of values normalised by one remembering normaliser."""
    return outcome_columns_of_runs(gold, [pred], schema)[0]


def outcome_columns_of_runs(gold: Sequence[Mapping[str, Any]], preds: Sequence[Sequence[Mapping[str, Any] | None]],
                            schema: Mapping[str, FieldLike]) -> list[dict[str, list[Outcome]]]:
    """:func:`outcome_columns` of the predictions of several runs of the same documents (one per run), each
    field's normaliser shared (a value both runs predicted is normalised once): the same outcomes as one call
    per run, each that :func:`pair_outcome` gives its pair."""
    golds = list(gold)
    runs = [[p or {} for _, p in zip(golds, pred)] for pred in preds]
    out: list[dict[str, list[Outcome]]] = [{} for _ in runs]
    for name, spec in schema.items():
        norm = normalizer(spec.type, spec)
        g_raw = [g.get(name) for g in golds]
        for k, run in enumerate(runs):
            # most pairs are told without normalising: a predicted string equal to the gold string is correct
            # unless it normalises to None (empty); a value not predicted is wrong unless the gold value
            # normalises to None (empty). Whether an ASCII string normalises to None is blank_ascii; any other
            # value, and every other pair, goes through the normaliser (pair_outcome)
            out[k][name] = [(("empty" if (blank_ascii(gv) if gv.isascii() else norm(gv) is None) else "correct")
                             if type(pv) is str and type(gv) is str and pv == gv else
                             ("empty" if gv is None or (blank_ascii(gv) if type(gv) is str and gv.isascii()
                                                        else norm(gv) is None) else "wrong")
                             if pv is None else pair_outcome(norm, gv, pv)[1])
                            for pv, gv in zip([p.get(name) for p in run], g_raw)]
    return out


def pair_outcome(norm: Callable[[Any], Any], gold: Any, pred: Any) -> tuple[Any, Outcome]:
    """(normalised prediction, outcome) of one field's raw (gold, predicted) values, ``norm`` the field's
    :func:`~metrics.normalize.normalizer`: what :func:`outcome_columns` gives that pair.

    >>> from metrics.normalize import normalizer
    >>> pair_outcome(normalizer("money"), "10.00", "$10")
    ('10.00', 'correct')
    >>> pair_outcome(normalizer("string"), None, "x")
    ('x', 'spurious')
    """
    g = norm(gold)
    p = (g if (type(pred) is str and type(gold) is str and pred == gold)
         or (type(pred) is list and _same_strings(pred, gold)) else norm(pred))
    return p, (("empty" if p is None else "spurious") if g is None else ("correct" if p == g else "wrong"))


def _same_strings(pv: list, gv: Any) -> bool:
    """Whether a predicted list is the gold list, both of strings only."""
    return type(gv) is list and pv == gv and all(type(x) is str for x in pv) and all(type(x) is str for x in gv)


OUTCOMES = ("correct", "wrong", "spurious", "empty")  # an outcome's code in outcome_table


def outcome_table(columns: Mapping[str, Sequence[Outcome]], n: int):
    """Outcomes of ``n`` documents given field by field (:func:`outcome_columns`) as a documents x fields numpy
    array (int8, the fields in the columns' order) of each outcome's index in :data:`OUTCOMES`."""
    import numpy as np

    code = {k: i for i, k in enumerate(OUTCOMES)}
    table = np.zeros((n, len(columns)), dtype=np.int8)
    for j, column in enumerate(columns.values()):
        table[:, j] = np.fromiter(map(code.__getitem__, column), dtype=np.int8, count=n)
    return table


def field_matches(gold: Mapping[str, Any], pred: Mapping[str, Any] | None, schema: Mapping[str, FieldLike]
                  ) -> dict[str, bool | None]:
    """Per field: True/False when gold has a value (right or wrong), None when gold is null."""
    return {k: None if v in ("empty", "spurious") else v == "correct"
            for k, v in document_outcomes(gold, pred, schema).items()}


def extraction_scores(gold: Sequence[Mapping[str, Any]], pred: Sequence[Mapping[str, Any] | None],
                      schema: Mapping[str, FieldLike]) -> ExtractionScores:
    """Accuracy and spurious rate, overall and per field (see the module docstring)."""
    if len(gold) != len(pred):
        raise ValueError(f"gold has {len(gold)} documents, pred {len(pred)}")
    return scores_from_outcomes(outcomes_by_document(gold, pred, schema), list(schema))


def scores_from_outcomes(outcomes: Sequence[Mapping[str, Outcome]], fields: Sequence[str]) -> ExtractionScores:
    """The core: aggregate per-document outcomes (from :func:`document_outcomes`)."""
    counts = {name: {"correct": 0, "wrong": 0, "spurious": 0, "empty": 0} for name in fields}
    for doc in outcomes:
        for name, outcome in doc.items():
            counts[name][outcome] += 1
    return _scores_from_counts(counts, len(outcomes))


def scores_from_columns(columns: Mapping[str, Sequence[Outcome]], n_documents: int) -> ExtractionScores:
    """:func:`scores_from_outcomes` of outcomes given field by field (:func:`outcome_columns`)."""
    counts = {name: {"correct": 0, "wrong": 0, "spurious": 0, "empty": 0} for name in columns}
    for name, column in columns.items():
        for outcome, k in Counter(column).items():
            counts[name][outcome] += k
    return _scores_from_counts(counts, n_documents)


def _scores_from_counts(counts: Mapping[str, Mapping[str, int]], n_documents: int) -> ExtractionScores:
    per_field = {}
    for name, c in counts.items():
        n_gold, n_null = c["correct"] + c["wrong"], c["spurious"] + c["empty"]
        per_field[name] = FieldScores(_ratio(c["correct"], n_gold), n_gold, c["correct"],
                                      _ratio(c["spurious"], n_null), n_null, c["spurious"])
    tot = {k: sum(c[k] for c in counts.values()) for k in ("correct", "wrong", "spurious", "empty")}
    n_gold, n_null = tot["correct"] + tot["wrong"], tot["spurious"] + tot["empty"]
    return ExtractionScores(n_documents=n_documents, accuracy=_ratio(tot["correct"], n_gold), n_gold=n_gold,
                            n_correct=tot["correct"], spurious_rate=_ratio(tot["spurious"], n_null),
                            n_null_gold=n_null, n_spurious=tot["spurious"], per_field=per_field)
