"""Run directories: ``run.json``, ``predictions.jsonl`` (append-only, flushed) and ``metrics.json``."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Iterable

from harness.errors import HarnessInputError
from harness.golden import iter_jsonl
from harness.predictor import Prediction

RUN_JSON = "run.json"
PREDICTIONS = "predictions.jsonl"
METRICS = "metrics.json"


def write_json_atomic(path: Path, data: dict) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def read_predictions(path: str | Path) -> list[Prediction]:
    """Read a predictions file, in the runner's shape or the plain external one; errors name the line."""
    path = Path(path)
    if not path.is_file():
        raise HarnessInputError("predictions file not found", path=path)
    out = []
    seen: dict[str, int] = {}
    for lineno, obj in iter_jsonl(path):
        if not isinstance(obj.get("id"), str):
            raise HarnessInputError("missing or non-string id", path=path, line=lineno, field="id")
        if obj["id"] in seen:
            raise HarnessInputError(f"duplicate id {obj['id']!r} (first at line {seen[obj['id']]})", path=path,
                                    line=lineno, field="id")
        seen[obj["id"]] = lineno
        for key, kind in (("label", str), ("answer", str), ("summary", str), ("fields", dict), ("contexts", list),
                          ("tasks", dict)):
            if obj.get(key) is not None and not isinstance(obj[key], kind):
                raise HarnessInputError(f"expected {kind.__name__}", path=path, line=lineno, field=key)
        try:
            out.append(Prediction.from_json(obj))
        except (TypeError, ValueError, AttributeError) as exc:
            raise HarnessInputError(f"malformed record: {exc}", path=path, line=lineno, field="tasks") from None
    return out


class RunStore:
    """A run directory. Appends are flushed line by line, so a killed run keeps every finished item."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    @property
    def run_path(self) -> Path:
        return self.root / RUN_JSON

    @property
    def predictions_path(self) -> Path:
        return self.root / PREDICTIONS

    @property
    def metrics_path(self) -> Path:
        return self.root / METRICS

    def exists(self) -> bool:
        return self.run_path.is_file()

    def read_run(self) -> dict:
        if not self.run_path.is_file():
            raise HarnessInputError("not a run directory (no run.json)", path=self.root)
        try:
            return json.loads(self.run_path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise HarnessInputError(f"broken JSON ({exc.msg})", path=self.run_path, line=exc.lineno) from None

    def write_run(self, data: dict) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        write_json_atomic(self.run_path, data)

    def read_metrics(self) -> dict:
        if not self.metrics_path.is_file():
            raise HarnessInputError("no metrics.json (run 'harness run' or 'harness score' first)", path=self.root)
        return json.loads(self.metrics_path.read_text(encoding="utf-8"))

    def write_metrics(self, data: dict) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        write_json_atomic(self.metrics_path, data)

    def repair_tail(self) -> int:
        """Drop a last line cut short by a kill (no trailing newline). Returns the bytes removed."""
        path = self.predictions_path
        if not path.is_file():
            return 0
        with open(path, "rb+") as fh:
            data = fh.read()
            if not data or data.endswith(b"\n"):
                return 0
            keep = data.rfind(b"\n") + 1
            fh.truncate(keep)
            return len(data) - keep

    def predictions(self) -> list[Prediction]:
        if not self.predictions_path.is_file():
            return []
        return read_predictions(self.predictions_path)

    def append(self, predictions: Iterable[Prediction]) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.predictions_path, "a", encoding="utf-8") as fh:
            for p in predictions:
                fh.write(json.dumps(p.to_json(), ensure_ascii=False) + "\n")
            fh.flush()
            os.fsync(fh.fileno())
