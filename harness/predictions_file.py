"""A run's ``predictions.jsonl`` read (:func:`read_predictions`: each line checked, errors name the line) or, in
the process that wrote it, handed over in memory (:class:`HeldPredictions`, valid while the file keeps its
:func:`file_stamp` and every record passed :func:`readable`)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from pydantic import ValidationError

from harness.bulk import gc_paused
from harness.errors import HarnessInputError
from harness.files import iter_jsonl, validation_problem
from harness.predictor import Prediction, PredictionRecord


def file_stamp(path: Path) -> tuple[int, ...] | None:
    """(device, inode, size, modification and change times in ns) of a file, None when there is none: what
    changes when anyone writes it (the change time even when the modification time is set back)."""
    try:
        st = path.stat()
    except OSError:
        return None
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


@dataclass(frozen=True)
class HeldPredictions:
    """A run's predictions as the process that wrote its ``predictions.jsonl`` holds them, in file order, with
    the file's :func:`file_stamp` just after the last write. While the file keeps that stamp, reading it gives
    these very predictions, so :meth:`harness.store.RunStore.predictions` returns them instead of reading 50,000 lines back
    (``harness run`` scores what its runner just wrote); once anyone writes the file, it is read as always."""
    predictions: tuple[Prediction, ...]
    stamp: tuple[int, ...] | None
    # the items the runner ran, which scoring takes instead of rebuilding them while they are still the golden
    # set's (harness.selection.scope_items)
    items: tuple[Any, ...] = ()


def readable(record: Mapping[str, Any]) -> bool:
    """Whether a record written to ``predictions.jsonl`` passes the reader's check of a line
    (:class:`~harness.predictor.PredictionRecord`): the runner hands its predictions to scoring
    (:class:`HeldPredictions`) only when every record it wrote does."""
    try:
        PredictionRecord.model_validate(record)
    except ValidationError:
        return False
    return True


def read_predictions(path: str | Path) -> list[Prediction]:
    """Read a predictions file, in the runner's shape or the plain external one; errors name the line."""
    path = Path(path)
    if not path.is_file():
        raise HarnessInputError("predictions file not found", path=path)
    with gc_paused(kept=True):  # a prediction per line, no cycles (see harness.bulk)
        return _read_predictions(path)


def _read_predictions(path: Path) -> list[Prediction]:
    out = []
    seen: dict[str, int] = {}
    for lineno, obj in iter_jsonl(path):
        try:
            pred = Prediction.from_json(obj)
        except ValidationError as exc:
            loc, problem = validation_problem(exc)
            raise HarnessInputError(problem, path=path, line=lineno, field=".".join(map(str, loc)) or None) from None
        if pred.id in seen:
            raise HarnessInputError(f"duplicate id {pred.id!r} (first at line {seen[pred.id]})", path=path,
                                    line=lineno, field="id")
        seen[pred.id] = lineno
        out.append(pred)
    return out
