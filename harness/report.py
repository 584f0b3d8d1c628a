"""Result tables: runs side by side, as plain text, Markdown or JSON."""

from __future__ import annotations

import json
from typing import Any, Mapping, Sequence

ROWS = (
    ("classification.accuracy", "classification accuracy", "pct"),
    ("classification.macro_f1", "classification macro F1", "pct"),
    ("classification.weighted_f1", "classification weighted F1", "pct"),
    ("extraction.accuracy", "field extraction accuracy", "pct"),
    ("extraction.spurious_rate", "spurious field rate", "pct"),
    ("answers.hallucination_rate", "answer hallucination rate", "pct"),
    ("answers.faithfulness", "answer faithfulness", "pct"),
    ("answers.answer_relevance", "answer relevance", "pct"),
    ("answers.context_precision", "context precision", "pct"),
    ("answers.context_recall", "context recall", "pct"),
    ("answers.reference_token_f1", "answer token F1", "pct"),
    ("answers.judge.hallucination_rate", "judge: unfaithful answers", "pct"),
    ("answers.judge.usage.input_tokens", "judge input tokens", "int"),
    ("answers.judge.usage.output_tokens", "judge output tokens", "int"),
    ("answers.judge.cost_usd", "judge cost (USD)", "usd"),
    ("summaries.hallucination_rate", "summary hallucination rate", "pct"),
    ("latency.document.p95", "document latency P95", "ms"),
    ("latency.classify.p50", "classify latency P50", "ms"),
    ("latency.classify.p95", "classify latency P95", "ms"),
    ("latency.extract.p50", "extract latency P50", "ms"),
    ("latency.extract.p95", "extract latency P95", "ms"),
    ("latency.answer.p95", "answer latency P95", "ms"),
    ("throughput.items_per_s", "throughput (items/s)", "num"),
    ("counts.items", "items", "int"),
    ("counts.errors", "errors", "int"),
    ("counts.unscored", "unscored", "int"),
)


def get(metrics: Mapping[str, Any], dotted: str) -> Any:
    node: Any = metrics
    for part in dotted.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return None
        node = node[part]
    return node


def fmt(value: Any, kind: str) -> str:
    if value is None:
        return "-"
    if kind == "pct":
        return f"{100 * value:.1f}%"
    if kind == "ms":
        return f"{1000 * value:.1f} ms"
    if kind == "int":
        return str(int(value))
    if kind == "usd":
        return f"${value:,.4f}"
    return f"{value:,.1f}"


def detail_rows(metrics_list: Sequence[Mapping[str, Any]]) -> list[tuple[str, str, str]]:
    rows: list[tuple[str, str, str]] = []
    fields: list[str] = []
    labels: list[str] = []
    for m in metrics_list:
        for f in (get(m, "extraction.per_field") or {}):
            if f not in fields:
                fields.append(f)
        for lab in (get(m, "classification.per_class") or {}):
            if lab not in labels:
                labels.append(lab)
    rows += [(f"classification.per_class.{lab}.f1", f"  F1 {lab}", "pct") for lab in labels]
    rows += [(f"extraction.per_field.{f}.accuracy", f"  field {f}", "pct") for f in fields]
    return rows


def table(names: Sequence[str], metrics_list: Sequence[Mapping[str, Any]], fmt_name: str = "table",
          detail: bool = False) -> str:
    rows = [r for r in ROWS if any(get(m, r[0]) is not None for m in metrics_list)]
    if detail:
        rows += detail_rows(metrics_list)
    if fmt_name == "json":
        return json.dumps({n: {key: get(m, key) for key, _, _ in rows} for n, m in zip(names, metrics_list)},
                          indent=2)
    cells = [[title] + [fmt(get(m, key), kind) for m in metrics_list] for key, title, kind in rows]
    header = ["metric"] + list(names)
    if fmt_name == "md":
        lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        lines += ["| " + " | ".join(c) + " |" for c in cells]
        return "\n".join(lines)
    widths = [max(len(str(r[i])) for r in [header] + cells) for i in range(len(header))]
    out = ["  ".join(h.ljust(w) if i == 0 else h.rjust(w) for i, (h, w) in enumerate(zip(header, widths)))]
    out.append("  ".join("-" * w for w in widths))
    for c in cells:
        out.append("  ".join(v.ljust(w) if i == 0 else v.rjust(w) for i, (v, w) in enumerate(zip(c, widths))))
    return "\n".join(out)
