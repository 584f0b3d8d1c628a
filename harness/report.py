"""Result tables: runs side by side, as plain text, Markdown or JSON. Rows, titles and units come from the
metric registry (:mod:`metrics.registry`); a row is shown when any run has a value for it."""

from __future__ import annotations

from typing import Any, Mapping, Sequence

from harness.files import dumps_json
from harness.render import table as render_table
from metrics import registry


def rows_for(metrics_list: Sequence[Mapping[str, Any]], detail: bool = False) -> list[str]:
    """The metric names to show: the registry's headline rows (and per-class/per-field with ``detail``)
    that at least one run has."""
    names = registry.headline_names() + (registry.detail_names(metrics_list) if detail else [])
    return [n for n in names if any(registry.value(m, n) is not None for m in metrics_list)]


def table(names: Sequence[str], metrics_list: Sequence[Mapping[str, Any]], fmt_name: str = "table",
          detail: bool = False) -> str:
    rows = rows_for(metrics_list, detail)
    if fmt_name == "json":
        return dumps_json({n: {key: registry.value(m, key) for key in rows} for n, m in zip(names, metrics_list)},
                          indent=2)
    detail_rows = set(registry.detail_names(metrics_list)) - set(registry.headline_names())
    cells = []
    for key in rows:
        spec = registry.lookup(key)
        title = ("  " if key in detail_rows else "") + spec.title_for(key)  # detail rows indented
        cells.append([title] + [registry.format_value(registry.value(m, key), spec.unit) for m in metrics_list])
    return render_table(["metric"] + list(names), cells, fmt_name)


_WHAT = {"classify": ("documents", "label", "counted wrong"), "extract": ("documents", "fields", "counted wrong"),
         "answer": ("questions", "answer", "left unscored"), "summarize": ("documents", "summary", "left unscored")}


def coverage_notes(metrics: dict) -> list[str]:
    """What a run's figures are over, when it is not everything the run was to do: items with no prediction
    (classification and extraction count them wrong, answers leave them unscored: the one counting rule of
    :mod:`harness.scoring.tasks`) and items no scored task covers.

    >>> coverage_notes({"counts": {"by_task": {"classify": {"expected": 600, "unscored": 500}},
    ...                            "not_scored": {"qa": 150}}})  # doctest: +NORMALIZE_WHITESPACE
    ['500 of 600 documents have no label prediction: counted wrong (a missing prediction is scored as a failed
      call)', '150 QA items not scored: no prediction answers them']
    """
    counts = metrics.get("counts") or {}
    notes = []
    for task, c in (counts.get("by_task") or {}).items():
        if c.get("unscored"):
            noun, output, rule = _WHAT.get(task, ("items", task, "counted as failed calls"))
            notes.append(f"{c['unscored']} of {c['expected']} {noun} have no {output} prediction: {rule} (a missing "
                         "prediction is scored as a failed call)")
    for kind, n in (counts.get("not_scored") or {}).items():
        notes.append(f"{n} {'QA items' if kind == 'qa' else kind + 's'} not scored: no prediction "
                     f"{'answers them' if kind == 'qa' else 'speaks to them'}")
    return notes

