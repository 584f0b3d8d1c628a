"""``harness detect``: run the offline hallucination detector on a labelled file and score it.

Formats: ``halueval`` (JSON lines: knowledge, question, right_answer, hallucinated_answer: two labelled
answers per line), ``summedits`` (a JSON list: doc, summary, label 1 consistent / 0 inconsistent) and
``jsonl`` (the project's own: one object per line with context, answer, label; label 1 = hallucinated).
Items are split in two halves by position (even: the half thresholds were chosen on; odd: held out), and
figures are printed for both halves and in all.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from harness.errors import HarnessInputError
from harness.files import iter_jsonl
from metrics.hallucination import MIN_SUPPORT_ANSWER, MIN_SUPPORT_SUMMARY, detect


@dataclass(frozen=True)
class Labelled:
    id: str
    half: str  # "A" (thresholds chosen here) or "B" (held out)
    context: str
    answer: str
    hallucinated: bool


def load(fmt: str, path: str | Path) -> tuple[list[Labelled], float]:
    """Items and the detector threshold for the format."""
    path = Path(path)
    if not path.is_file():
        raise HarnessInputError("file not found", path=path)
    items = []
    if fmt == "halueval":
        for lineno, obj in iter_jsonl(path):
            for key in ("knowledge", "question", "right_answer", "hallucinated_answer"):
                if not isinstance(obj.get(key), str):
                    raise HarnessInputError("missing or not a string", path=path, line=lineno, field=key)
            ctx = f"{obj['knowledge']}\n{obj['question']}"
            half = "A" if (lineno - 1) % 2 == 0 else "B"
            items.append(Labelled(f"{lineno}-right", half, ctx, obj["right_answer"], False))
            items.append(Labelled(f"{lineno}-hallucinated", half, ctx, obj["hallucinated_answer"], True))
        return items, MIN_SUPPORT_ANSWER
    if fmt == "summedits":
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise HarnessInputError(f"not a JSON list: {exc}", path=path) from None
        if not isinstance(data, list):
            raise HarnessInputError("expected a JSON list", path=path)
        for i, obj in enumerate(data):
            for key in ("doc", "summary", "label"):
                if key not in obj:
                    raise HarnessInputError("missing key", path=path, field=f"[{i}].{key}")
            if str(obj["label"]) not in ("0", "1"):
                raise HarnessInputError(f"label must be 0 or 1, got {obj['label']!r}", path=path, field=f"[{i}].label")
            items.append(Labelled(str(obj.get("id", i)), "A" if i % 2 == 0 else "B", obj["doc"], obj["summary"],
                                  str(obj["label"]) == "0"))
        return items, MIN_SUPPORT_SUMMARY
    if fmt == "jsonl":
        for lineno, obj in iter_jsonl(path):
            for key in ("context", "answer"):
                if not isinstance(obj.get(key), str):
                    raise HarnessInputError("missing or not a string", path=path, line=lineno, field=key)
            if obj.get("label") not in (0, 1, True, False):
                raise HarnessInputError("label must be 0/1 (1 = hallucinated)", path=path, line=lineno, field="label")
            items.append(Labelled(str(obj.get("id", lineno)), "A" if (lineno - 1) % 2 == 0 else "B", obj["context"],
                                  obj["answer"], bool(obj["label"])))
        return items, float(MIN_SUPPORT_ANSWER)
    raise HarnessInputError(f"unknown format {fmt!r}", field="--format")


def scores(pairs: list[tuple[bool, bool]]) -> dict:
    """Precision, recall, F1 and balanced accuracy, 'hallucinated' being the positive class."""
    tp = sum(1 for p, y in pairs if p and y)
    fp = sum(1 for p, y in pairs if p and not y)
    fn = sum(1 for p, y in pairs if not p and y)
    tn = sum(1 for p, y in pairs if not p and not y)
    prec = tp / (tp + fp) if tp + fp else None
    rec = tp / (tp + fn) if tp + fn else None
    f1 = 2 * prec * rec / (prec + rec) if prec and rec else (0.0 if prec is not None and rec is not None else None)
    spec = tn / (tn + fp) if tn + fp else None
    bal = (rec + spec) / 2 if rec is not None and spec is not None else None
    return {"n": len(pairs), "positives": tp + fn, "precision": prec, "recall": rec, "f1": f1,
            "balanced_accuracy": bal, "tp": tp, "fp": fp, "fn": fn, "tn": tn}


def run_detect(fmt: str, path: str | Path, min_support: float | None = None) -> tuple[dict, list[dict]]:
    items, default = load(fmt, path)
    threshold = default if min_support is None else min_support
    verdicts = []
    for it in items:
        d = detect(it.answer, it.context, threshold)
        verdicts.append({"id": it.id, "half": it.half, "label_hallucinated": it.hallucinated,
                         "predicted_hallucinated": d.hallucinated, **d.to_dict()})
    report = {"format": fmt, "file": str(path), "min_support": threshold,
              "all": scores([(v["predicted_hallucinated"], v["label_hallucinated"]) for v in verdicts]),
              "half_A_tuning": scores([(v["predicted_hallucinated"], v["label_hallucinated"]) for v in verdicts
                                       if v["half"] == "A"]),
              "half_B_held_out": scores([(v["predicted_hallucinated"], v["label_hallucinated"]) for v in verdicts
                                         if v["half"] == "B"])}
    return report, verdicts
