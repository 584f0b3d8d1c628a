"""Which items of a golden split a run covers: selection (``--limit``, ``--per-class``, ``--qa-limit``), the
item-set fingerprint recorded in ``run.json``, and rebuilding a recorded run's items from it."""

from __future__ import annotations

import hashlib
from typing import Mapping, Sequence

from harness.errors import HarnessInputError
from harness.golden import GoldenSet, Item

# the tasks that make an item of each kind part of a run
ITEM_TASKS = {"qa": {"answer"}, "document": {"classify", "extract"}}


def select_items(items: Sequence[Item], limit: int | None = None, per_class: int | None = None,
                 qa_limit: int | None = None, doc_limit: int | None = None) -> list[Item]:
    """The first ``per_class`` documents of each label, of those the first ``doc_limit`` documents, and the first
    ``qa_limit`` QA items (each when given: each shrinks only the kind it names), then the first ``limit`` of
    what is left, in file order.

    >>> from harness.golden import Item
    >>> items = [Item(id=f"d{i}", kind="document", split="test", label="ab"[i % 2]) for i in range(6)]
    >>> items += [Item(id=f"q{i}", kind="qa", split="test") for i in range(3)]
    >>> [it.id for it in select_items(items, per_class=2, doc_limit=3, qa_limit=2)]
    ['d0', 'd1', 'd2', 'q0', 'q1']
    """
    out: list[Item] = []
    seen: dict[str | None, int] = {}
    n_qa = n_docs = 0
    for it in items:
        if it.kind == "document" and per_class is not None:
            seen[it.label] = seen.get(it.label, 0) + 1
            if seen[it.label] > per_class:
                continue
        if it.kind == "document" and doc_limit is not None:
            n_docs += 1
            if n_docs > doc_limit:
                continue
        if it.kind == "qa" and qa_limit is not None:
            n_qa += 1
            if n_qa > qa_limit:
                continue
        out.append(it)
    return out[:limit] if limit is not None else out


def ids_hash(items: Sequence[Item]) -> str:
    """Fingerprint of an item set: sha256 of the ids in order."""
    return hashlib.sha256("\n".join(it.id for it in items).encode()).hexdigest()


def scope_items(golden: GoldenSet, record: Mapping, ran: Sequence[Item] = ()) -> list[Item]:
    """The items a recorded run attempted, rebuilt from its ``run.json`` (split, selection and tasks), for
    reading only: their ``fields`` are the golden set's own (``GoldenSet.items(copy=False)``). ``ran``: the items
    the runner ran (:attr:`harness.predictions_file.HeldPredictions.items`), taken as they are when they are the
    record's (its golden set and item fingerprint) and each one's fields are still the golden set's (a predictor
    that changed an item's fields changes nothing it is scored against)."""
    if ran and record.get("scope") != "split" and _unchanged(golden, record, ran):
        return list(ran)
    items = golden.items(record.get("split"), copy=False)
    if record.get("scope") == "split" or "item_ids_sha256" not in record:
        # scored from an external predictions file: the whole split
        if "item_ids_sha256" in record and ids_hash(items) != record["item_ids_sha256"]:
            raise HarnessInputError("the golden split's items changed since these predictions were scored; "
                                    "score them again", field="run.json")
        return list(items)
    sel = record.get("selection") or {}
    tasks = set(record.get("tasks") or [])
    items = [it for it in select_items(items, limit=sel.get("limit"), per_class=sel.get("per_class"),
                                       qa_limit=sel.get("qa_limit"), doc_limit=sel.get("doc_limit"))
             if ITEM_TASKS[it.kind] & tasks or (it.kind == "document" and it.summary is not None
                                                  and "summarize" in tasks)]
    if ids_hash(items) != record["item_ids_sha256"]:
        raise HarnessInputError("cannot rebuild the run's items from run.json (the golden set or selection "
                                "changed since the run); re-run it", field="run.json")
    return items


def _unchanged(golden: GoldenSet, record: Mapping, items: Sequence[Item]) -> bool:
    """Whether ``items`` are the recorded run's, as the golden set holds them (items are frozen but for the
    contents of ``fields``; a golden value is a string, a list of strings or None, so ``==`` is equality of
    values)."""
    if (record.get("golden") or {}).get("sha256") != golden.hash or record.get("item_ids_sha256") != ids_hash(items):
        return False
    cols = golden.documents.columns
    gold = dict(zip(cols.get("id", ()), cols.get("fields", ())))
    return all(it.fields == (gold.get(it.id) if it.kind == "document" else {}) for it in items)
