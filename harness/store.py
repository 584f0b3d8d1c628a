"""The run store: the one owner of a run directory and the only writer of its files.

A run directory holds::

    run.json            what ran: predictor, config and its hash, golden set, split, selection, packages
    predictions.jsonl   one line per item (append-only, flushed and fsynced per batch)
    repeats.jsonl       with ``harness run --repeats N``: repeats 2..N, one line per item and repeat (a prediction
                        line with ``repeat``), keyed (repeat, id); repeat 1 is predictions.jsonl
    metrics.json        sections written by separate steps: core scores (scoring), ``answers`` again when a
                        judge runs, and the cost, guardrail and grading sections to come
    judgments.jsonl     the LLM judge's per-answer verdicts (append-only)
    gates.json          the last ``harness gates`` result

``metrics.json`` is merged, never overwritten blindly: :meth:`RunStore.write_metrics` replaces the sections
it is given, keeps every other section another step wrote, merges ``ci`` key by key, and writes the file
atomically (temporary file, fsync, rename) under a lock, so a kill never leaves half a file and two steps
never lose each other's sections. :func:`load_run` is the one typed way to read a run back.
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping

from pydantic import ValidationError

from harness.bulk import gc_paused
from harness.errors import HarnessInputError
from harness.files import dumps_json, iter_jsonl, loads_json, read_json, validation_problem
from harness.locks import hold_directory
from harness.predictions_file import HeldPredictions, file_stamp, read_predictions
from harness.predictor import Prediction
from harness.records import MetricsRecord, RunRecord, checked as _checked

RUN_JSON = "run.json"
PREDICTIONS = "predictions.jsonl"
METRICS = "metrics.json"
JUDGMENTS = "judgments.jsonl"
GATES = "gates.json"
REPEATS = "repeats.jsonl"
MAX_REPEATS = 100  # repeats of a run (``harness run --repeats``)
# sections merged key by key (scoring writes what the guardrails did in a run, `harness guardrails eval --run`
# adds the red-team evaluation and its critical failures); every other section is replaced whole
MERGED_KEYWISE = ("ci", "guardrails")


def now() -> str:
    """The time a run directory's records carry (``run.json`` started_at/ended_at/scored_at; the writer lock
    in :mod:`harness.locks` writes the same form): UTC, ISO 8601, to the second."""
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def write_json_atomic(path: Path, data: Mapping[str, Any]) -> None:
    """Write ``data`` as JSON to a temporary file, fsync it and rename it over ``path``."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(dumps_json(data, indent=2, ensure_ascii=False, default=str) + "\n")
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def _read_json(path: Path, what: str) -> dict:
    data = read_json(path, what)
    if not isinstance(data, dict):
        raise HarnessInputError(f"{what} must be a JSON object", path=path)
    return data


def merge_sections(current: Mapping[str, Any], sections: Mapping[str, Any]) -> dict:
    """``current`` with ``sections`` replacing the sections of the same name (``ci`` merged key by key).

    >>> merge_sections({"a": 1, "cost": {"x": 1}, "ci": {"a": 1}}, {"a": 2, "ci": {"b": 2}})
    {'a': 2, 'cost': {'x': 1}, 'ci': {'a': 1, 'b': 2}}
    """
    out = dict(current)
    for key, val in sections.items():
        if key in MERGED_KEYWISE and isinstance(out.get(key), Mapping) and isinstance(val, Mapping):
            out[key] = {**out[key], **val}
        else:
            out[key] = val
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

    @property
    def repeats_path(self) -> Path:
        return self.root / REPEATS

    @property
    def judgments_path(self) -> Path:
        return self.root / JUDGMENTS

    def exists(self) -> bool:
        return self.run_path.is_file()

    # -- run.json
    def read_run(self) -> dict:
        if not self.run_path.is_file():
            raise HarnessInputError("not a run directory (no run.json)", path=self.root)
        return _checked(RunRecord, _read_json(self.run_path, "run.json"), self.run_path)

    def write_run(self, data: Mapping[str, Any]) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        write_json_atomic(self.run_path, data)

    # -- metrics.json
    def read_metrics(self) -> dict:
        if not self.metrics_path.is_file():
            raise HarnessInputError("no metrics.json (run 'harness run' or 'harness score' first)", path=self.root)
        return _checked(MetricsRecord, _read_json(self.metrics_path, "metrics.json"), self.metrics_path)

    @contextmanager
    def _locked(self, name: str) -> Iterator[None]:
        import fcntl

        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / f".{name}.lock", "a+") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def write_metrics(self, sections: Mapping[str, Any]) -> dict:
        """Merge ``sections`` into ``metrics.json`` (see :func:`merge_sections`); returns the whole file."""
        with self._locked(METRICS):
            current = self.read_metrics() if self.metrics_path.is_file() else {}
            merged = merge_sections(current, sections)
            write_json_atomic(self.metrics_path, merged)
        return merged

    def discard_results(self, keep: tuple[str, ...] = ()) -> None:
        """Start afresh: remove predictions, metrics, judgments and gates, except the files named in ``keep``
        (run.json is rewritten by the run)."""
        for name in (PREDICTIONS, METRICS, JUDGMENTS, GATES, REPEATS):
            if name not in keep:
                (self.root / name).unlink(missing_ok=True)

    # -- gates.json
    def write_gates(self, data: Mapping[str, Any]) -> Path:
        self.root.mkdir(parents=True, exist_ok=True)
        write_json_atomic(self.root / GATES, data)
        return self.root / GATES

    # -- one writer at a time
    @contextmanager
    def writing(self, what: str) -> Iterator[None]:
        """Hold the run directory for one writer (``what`` says which command): :func:`hold_directory`."""
        with hold_directory(self.root, what):
            yield

    # -- predictions.jsonl
    def repair_duplicates(self) -> int:
        """Keep the first record of each id in ``predictions.jsonl`` (a file two writers once shared); the
        file is rewritten atomically. Returns how many records were dropped."""
        path = self.predictions_path
        if not path.is_file():
            return 0
        seen: set[str] = set()
        keep, dropped = [], 0
        for _, obj in iter_jsonl(path):
            rid = obj.get("id")
            if isinstance(rid, str) and rid in seen:
                dropped += 1
                continue
            seen.add(rid) if isinstance(rid, str) else None
            keep.append(obj)
        if dropped:
            tmp = self.root / f".{PREDICTIONS}.{os.getpid()}.tmp"
            tmp.unlink(missing_ok=True)
            self._append_lines(tmp, keep)
            os.replace(tmp, path)
        return dropped

    def repair_tail(self, path: Path | None = None) -> int:
        """Drop a last line of ``path`` (default: ``predictions.jsonl``) cut short by a kill (no trailing
        newline). Returns the bytes removed."""
        path = path or self.predictions_path
        if not path.is_file():
            return 0
        with open(path, "rb+") as fh:
            data = fh.read()
            if not data or data.endswith(b"\n"):
                return 0
            keep = data.rfind(b"\n") + 1
            fh.truncate(keep)
            return len(data) - keep

    def predictions(self, held: HeldPredictions | None = None) -> list[Prediction]:
        """The run's predictions in file order: ``held`` (the runner's, :attr:`harness.runner.RunResult.held`)
        when ``predictions.jsonl`` still has its stamp, else read from the file."""
        if held is not None and held.stamp is not None and held.stamp == file_stamp(self.predictions_path):
            return list(held.predictions)
        if not self.predictions_path.is_file():
            return []
        return read_predictions(self.predictions_path)

    def append(self, predictions: Iterable[Prediction]) -> list[dict]:
        """Append ``predictions`` to ``predictions.jsonl`` (flushed and fsynced); returns the records written."""
        records = [p.to_json() for p in predictions]
        self._append_lines(self.predictions_path, records)
        return records

    def held(self, predictions: Iterable[Prediction], items: Iterable[Any] = ()) -> HeldPredictions:
        """``predictions`` (what this process wrote to ``predictions.jsonl``, in file order) stamped with the
        file as it is now, with the run's ``items`` (see :class:`HeldPredictions`)."""
        return HeldPredictions(tuple(predictions), file_stamp(self.predictions_path), tuple(items))

    def write_predictions(self, predictions: Iterable[Prediction]) -> None:
        """Replace ``predictions.jsonl`` with ``predictions`` (``harness score`` keeps what it scored)."""
        self.root.mkdir(parents=True, exist_ok=True)
        tmp = self.root / f".{PREDICTIONS}.{os.getpid()}.tmp"
        tmp.unlink(missing_ok=True)
        self._append_lines(tmp, (p.to_json() for p in predictions))
        os.replace(tmp, self.predictions_path)

    # -- repeats.jsonl
    def append_repeat(self, repeat: int, predictions: Iterable[Prediction]) -> None:
        """Append the predictions of repeat ``repeat`` (2 or more) of their items."""
        self._append_lines(self.repeats_path, ({"repeat": repeat, **p.to_json()} for p in predictions))

    def repeats(self) -> dict[int, list[Prediction]]:
        """Repeat number -> its predictions (repeats 2..N; repeat 1 is :meth:`predictions`); a line that is not
        a prediction with a ``repeat`` of 2..:data:`MAX_REPEATS` is exit 2 naming it, a second line of the same
        (repeat, id) is ignored (the first kept, as a resumed run keeps it)."""
        out: dict[int, dict[str, Prediction]] = {}
        if not self.repeats_path.is_file():
            return {}
        with gc_paused():
            for lineno, obj in iter_jsonl(self.repeats_path):
                rep = obj.get("repeat") if isinstance(obj, dict) else None
                if not isinstance(rep, int) or isinstance(rep, bool) or not 2 <= rep <= MAX_REPEATS:
                    raise HarnessInputError(f"must be a whole number from 2 to {MAX_REPEATS}", path=self.repeats_path,
                                            line=lineno, field="repeat")
                try:
                    pred = Prediction.from_json(obj)
                except ValidationError as exc:
                    loc, problem = validation_problem(exc)
                    raise HarnessInputError(problem, path=self.repeats_path, line=lineno,
                                            field=".".join(map(str, loc)) or None) from None
                out.setdefault(rep, {}).setdefault(pred.id, pred)
        return {rep: list(preds.values()) for rep, preds in sorted(out.items())}

    # -- judgments.jsonl
    def judgments(self) -> list[dict]:
        """The judge's verdicts; a last line cut short by a kill is ignored."""
        if not self.judgments_path.is_file():
            return []
        out = []
        for line in self.judgments_path.read_text(encoding="utf-8", errors="replace").splitlines():
            try:
                rec = loads_json(line)
            except HarnessInputError:
                continue
            if isinstance(rec, dict):
                out.append(rec)
        return out

    def append_judgment(self, record: Mapping[str, Any]) -> None:
        self._append_lines(self.judgments_path, [record])

    def _append_lines(self, path: Path, records: Iterable[Mapping[str, Any]]) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        with open(path, "a", encoding="utf-8") as fh:
            for rec in records:
                fh.write(dumps_json(rec, ensure_ascii=False) + "\n")
            fh.flush()
            os.fsync(fh.fileno())


# ---------------------------------------------------------------------------------------------- reading runs
@dataclass(frozen=True)
class Run:
    """A finished run directory as every reader sees it (gates, compare, diff, leaderboard, reports)."""
    path: Path
    run: Mapping[str, Any]  # run.json
    metrics: Mapping[str, Any]  # metrics.json

    @property
    def id(self) -> str:
        return self.path.name

    @property
    def store(self) -> RunStore:
        return RunStore(self.path)

    @property
    def pipeline(self) -> str:
        return str(_mapping(self.run.get("predictor")).get("name", "?"))

    @property
    def golden_sha(self) -> str | None:
        return _mapping(self.metrics.get("golden")).get("sha256")

    @property
    def split(self) -> str | None:
        return self.metrics.get("split")

    @property
    def prompts(self) -> Mapping[str, Any]:
        return _mapping(_mapping(self.run.get("predictor")).get("prompts"))

    @property
    def evaluated_on(self) -> date:
        raw = self.run.get("evaluated_on") or str(self.run.get("started_at") or self.run.get("scored_at") or "")[:10]
        try:
            return date.fromisoformat(str(raw))
        except ValueError:
            raise HarnessInputError("run has no evaluation date (evaluated_on)", path=self.path / RUN_JSON,
                                    field="evaluated_on") from None

    def value(self, metric: str) -> Any:
        from metrics.registry import value

        return value(self.metrics, metric)

    def predictions(self) -> list[Prediction]:
        return self.store.predictions()


def _mapping(x: Any) -> Mapping[str, Any]:
    return x if isinstance(x, Mapping) else {}


def load_run(path: str | Path) -> Run:
    """A run directory with ``run.json`` and ``metrics.json`` (exit 2 naming the file otherwise)."""
    store = RunStore(path)
    return Run(path=Path(path), run=store.read_run(), metrics=store.read_metrics())


def load_runs(directory: str | Path) -> list[Run]:
    """Every run directory directly under ``directory`` (those with both run.json and metrics.json)."""
    directory = Path(directory)
    if not directory.is_dir():
        raise HarnessInputError("not a directory of runs", path=directory)
    return [load_run(p) for p in sorted(directory.iterdir()) if (p / METRICS).is_file() and (p / RUN_JSON).is_file()]
