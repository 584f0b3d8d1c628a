"""The report page's document table and the golden sets behind it: the documents where two runs differ
(labels that flipped, fields and answers that changed; from :func:`harness.compare.diff`) or, for one run,
the ones it got wrong; each row with the document's text, capped at a number of rows."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

from harness import compare as cmp
from harness.errors import HarnessInputError
from harness.store import Run


@dataclass(frozen=True)
class Pair:
    """Two runs of the same golden split, the baseline first."""
    a: Run
    b: Run


# ---------------------------------------------------------------------------------------------- documents
def golden_sets_of(runs: Sequence[Run]) -> dict:
    """Run id -> its golden set (None where it cannot be read or has changed since the run)."""
    loaded: dict = {}
    out = {}
    for r in runs:
        key = ((r.metrics.get("golden") or {}).get("path"), r.golden_sha)
        if key not in loaded:
            try:
                loaded[key] = cmp.golden_for(r)
            except HarnessInputError:
                loaded[key] = None
        out[r.id] = loaded[key]
    return out


def split_items(runs: Sequence[Run], goldens: dict) -> dict:
    """Run id -> the items of its split of its golden set (:func:`golden_sets_of`), built once per golden split;
    None where there is no golden set or no such split (who needs them then reads the golden set and says why)."""
    built: dict = {}
    out = {}
    for r in runs:
        golden = goldens[r.id]
        key = (id(golden), r.split)
        if key not in built:
            try:
                built[key] = golden.items(r.split) if golden is not None else None
            except HarnessInputError:
                built[key] = None
        out[r.id] = built[key]
    return out


def documents(runs: Sequence[Run], pairs: Sequence[Pair], limit: int, predictions: dict,
               goldens: dict, items: dict | None = None) -> dict | None:
    """The document table (``items``: :func:`split_items` of the runs, when the caller has them)."""
    items = items or {}
    if pairs:
        pair = pairs[0]
        golden = goldens[pair.a.id]
        if golden is None:
            return None
        try:
            d = cmp.diff(pair.a, pair.b, golden, (predictions[pair.a.id], predictions[pair.b.id]),
                         items.get(pair.a.id))
        except HarnessInputError:
            return None
        rows = [("label flip", f["id"], "label", f["gold"], f["a"], f["b"], f["change"]) for f in d["label_flips"]]
        rows += [("field change", doc["id"], c["field"], c["gold"], c["a"], c["b"],
                  f"{c['a_outcome']} -> {c['b_outcome']}") for doc in d["field_changes"] for c in doc["changes"]]
        rows += [("answer change", a["id"], "answer", a["reference"], a["a"], a["b"], "") for a in d["answer_changes"]]
        header = ["kind", "id", "what", "gold", pair.a.id, pair.b.id, "change"]
        intro = (f"Documents where {pair.b.id} and {pair.a.id} differ ({d['n_common']} items in both): labels that "
                 "flipped, fields whose value changed, answers that changed. Click a column to sort; open a row's "
                 "text to see the document.")
        every = f"harness diff {pair.a.path} {pair.b.path} --format json"
    elif len(runs) == 1:
        run = runs[0]
        golden = goldens[run.id]
        if golden is None:
            return None
        rows = _errors(run, golden, predictions[run.id])
        header = ["kind", "id", "what", "gold", "predicted", "outcome"]
        intro = (f"Documents {run.id} got wrong: misclassified labels and wrong, missed or invented (spurious) fields. "
                 "Click a column to sort; open a row's text to see the document.")
        every = None
    else:
        return None
    if not rows:
        return None
    first = pairs[0].a if pairs else runs[0]
    texts = {it.id: it.text or it.question or "" for it in items.get(first.id) or golden.items(first.split)}
    shown = rows[:limit]
    note = None
    if len(rows) > limit:
        note = (f"{len(rows) - limit} more rows not shown (the page keeps {limit} so it opens fast)"
                + (f"; all of them: {every}" if every else "") + ".")
    kinds = sorted({r[0] for r in rows})
    return {"intro": intro, "note": note, "header": header, "kinds": kinds,
            "rows": [{"kind": r[0], "cells": [_cell(c) for c in r], "text": texts.get(r[1], "")} for r in shown]}


def _errors(run: Run, golden, predictions: Sequence) -> list[tuple]:
    from metrics.extraction import document_outcomes

    preds = {p.id: p for p in predictions}
    rows = []
    for it in golden.items(run.split, kinds=("document",)):
        p = preds.get(it.id)
        if p is None:
            continue
        if p.has("classify") and p.label != it.label:
            rows.append(("wrong label", it.id, "label", it.label, p.label or p.error("classify") or "-", "wrong"))
        if p.has("extract"):
            outcomes = document_outcomes(it.fields, None if p.error("extract") else p.fields, golden.manifest.fields)
            for f, o in outcomes.items():
                if o in ("wrong", "spurious"):
                    pv = (p.fields or {}).get(f)
                    kind = "spurious field" if o == "spurious" else "missed field" if pv is None else "wrong field"
                    rows.append((kind, it.id, f, it.fields.get(f), pv, o))
    return rows


def _cell(v: Any) -> str:
    if v is None:
        return "-"
    if isinstance(v, (list, tuple)):
        return ", ".join(str(x) for x in v)
    return str(v)
