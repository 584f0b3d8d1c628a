"""Loading a JSONL result log into the comparison database (``harness shadow ingest``).

The log is read ``batch`` lines at a time; each batch is parsed, validated and scored into rows
(:func:`prepare`), then written by :class:`~harness.shadow.db.Writer`, the one writer of the file, one
transaction a batch, in the log's order. A large log on a machine with two free cores is prepared in two worker
processes (new interpreters) while this one writes the batches before, and the weeks' summaries are computed
there too, a week each: the same rows and summaries, the Python work on both cores. A bad line stops the ingest with ``file:line: field: problem`` after the lines before it are committed.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Iterator, Mapping

from harness.bulk import gc_paused, in_order
from harness.errors import HarnessInputError
from harness.files import jsonl_lines, jsonl_object, validate
from harness.golden import FieldSpec
from harness.shadow.db import Rows, Summarise, Writer, database, rows_of
from harness.shadow.schema import BUSY_TIMEOUT_S
from harness.shadow.records import ResultRecord

SPREAD_FROM_BYTES = 16 * 2**20  # a log this large (about 35,000 results) is prepared in worker processes
PROCESSES = 2  # worker processes when spread (the machine's two cores; this process mostly waits on SQLite)


@dataclass(frozen=True)
class Prepared:
    """One batch of the log: the rows of its good lines and, when a line was bad, that line's error (the lines
    before it are in ``rows``)."""

    records: int  # the records in ``rows`` (a record repeated in the batch counts each time)
    rows: Rows
    error: tuple[str, int | None, str | None] | None = None  # (problem, line, field)


_RECORDS = None  # the batch validator (built on first use in each process)


def prepare(path: str, lines: list[tuple[int, bytes | str]], field_schema: Mapping[str, FieldSpec] | None) -> Prepared:
    """The rows of ``lines`` ((line number, raw line) of the log ``path``): parsed as :func:`harness.files.iter_jsonl`
    parses, validated together (one call of the model's validator; a batch that fails is validated again line
    by line, to name the first bad line), scored by :func:`harness.shadow.db.rows_of`. The cyclic garbage
    collector is paused meanwhile (:func:`harness.bulk.gc_paused`): a batch is tens of thousands of small
    acyclic dicts, lists and models, which its collections kept walking (half the time of a batch before)."""
    with gc_paused():
        return _prepare(path, lines, field_schema)


def _prepare(path: str, lines: list[tuple[int, bytes | str]], field_schema: Mapping[str, FieldSpec] | None
             ) -> Prepared:
    global _RECORDS
    from pydantic import TypeAdapter, ValidationError

    objs: list[tuple[int, dict]] = []
    bad: HarnessInputError | None = None
    for lineno, raw in lines:
        try:
            if isinstance(raw, str):  # a line the reader refused (too long, see _batches): its problem
                raise HarnessInputError(raw, path=path, line=lineno)
            obj = jsonl_object(raw, path, lineno)
        except HarnessInputError as exc:
            bad = exc
            break
        if obj is not None:
            objs.append((lineno, obj))
    if _RECORDS is None:
        _RECORDS = TypeAdapter(list[ResultRecord])
    try:
        records = _RECORDS.validate_python([obj for _, obj in objs])
    except ValidationError:
        records = []
        for lineno, obj in objs:
            try:
                records.append(validate(ResultRecord, obj, path=path, line=lineno))
            except HarnessInputError as exc:  # before the line that could not be parsed, if any
                bad = exc
                break
    error = None if bad is None else (bad.problem, bad.line, bad.field)
    return Prepared(len(records), rows_of(records, field_schema), error)


def _batches(path: Path, batch: int) -> Iterator[list[tuple[int, bytes | str]]]:
    """The log's lines in batches of ``batch``; a line too long to read ends the last batch as (its number, the
    problem), so that it is reported in order, after the lines before it are written."""
    with open(path, "rb") as fh:
        lines: list[tuple[int, bytes | str]] = []
        try:
            for lineno, raw in jsonl_lines(fh, path):
                lines.append((lineno, raw))
                if len(lines) >= batch:
                    yield lines
                    lines = []
        except HarnessInputError as exc:
            lines.append((exc.line or 0, exc.problem))
        if lines:
            yield lines


def _prepared(path: Path, batch: int, field_schema: Mapping[str, FieldSpec] | None, pool, processes: int
              ) -> Iterator[Prepared]:
    """Every batch prepared, in the log's order: here (no ``pool``), or in the pool's ``processes`` worker
    processes with at most one batch more than the workers in flight."""
    if pool is None:
        for lines in _batches(path, batch):
            yield prepare(str(path), lines, field_schema)
        return
    yield from in_order(pool, prepare, ((str(path), lines, field_schema) for lines in _batches(path, batch)),
                        processes)


_READERS: dict[str, sqlite3.Connection] = {}  # a worker process's connection to each database it summarises


def _week_summary(db_path: str, week: str, summarise: Summarise) -> dict | None:
    """``summarise(conn, week)`` in a worker process, on its own connection to the file (read only)."""
    conn = _READERS.get(db_path)
    if conn is None:
        conn = _READERS[db_path] = sqlite3.connect(db_path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
        conn.execute("PRAGMA cache_size = -65536")
    return summarise(conn, week)


def _summaries_in(pool, db_path: Path, summarise: Summarise | None
                  ) -> Callable[[list[str]], Iterable[dict | None]] | None:
    """The weeks' summaries computed in the pool's workers (each week by one), in the weeks' order; None (here,
    in turn) without a pool or for a ``summarise`` that cannot be sent to one (a lambda)."""
    import pickle

    if pool is None or summarise is None:
        return None
    try:
        pickle.dumps(summarise)
    except (pickle.PicklingError, AttributeError, TypeError):
        return None
    return lambda weeks: pool.map(_week_summary, [str(db_path)] * len(weeks), weeks, [summarise] * len(weeks))


def spread(path: Path) -> int:
    """The worker processes to prepare the log ``path`` in: :data:`PROCESSES` for a log of at least
    :data:`SPREAD_FROM_BYTES` when two cores are free, else none (starting them costs more than they save)."""
    if path.stat().st_size < SPREAD_FROM_BYTES:
        return 0
    from harness.models.llm import free_cores

    return PROCESSES if free_cores(own_threads=False) >= 2 else 0


def ingest(log_path: str | Path, db_path: str | Path, field_schema: Mapping[str, FieldSpec] | None = None,
           batch: int = 5000, summarise: Summarise | None = None, processes: int | None = None) -> int:
    """Validate and write every line of the JSONL result log ``log_path`` into ``db_path``; returns the number
    of records written. A bad line stops with ``file:line: field: problem`` after the lines before it are
    committed (rerunning after the fix rewrites them harmlessly). ``processes``: worker processes to prepare the
    batches in (default: :func:`spread`); the rows are the same either way."""
    log_path = Path(log_path)
    if not log_path.is_file():
        raise HarnessInputError("result log not found", path=log_path)
    if batch < 1:
        raise ValueError("batch must be at least 1")
    processes = spread(log_path) if processes is None else processes
    pool = None
    if processes > 0:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        pool = ProcessPoolExecutor(processes, mp_context=multiprocessing.get_context("spawn"))
    try:
        with database(db_path) as conn:
            writer, written = Writer(conn, field_schema, batch, summarise), 0
            try:
                for part in _prepared(log_path, batch, field_schema, pool, processes):
                    if part.records:
                        writer.write_rows(part.rows)
                        written += part.records
                    if part.error is not None:
                        problem, line, field = part.error
                        raise HarnessInputError(problem, path=log_path, line=line, field=field)
            except HarnessInputError as exc:  # what was written before the bad line is summarised too
                try:
                    writer.refresh(_summaries_in(pool, db_path, summarise))
                except HarnessInputError as also:  # (a bad row another program wrote): both are said
                    raise HarnessInputError(f"{exc.problem}; and {also} (the weeks stay stale)", path=exc.path,
                                            line=exc.line, field=exc.field) from None
                raise
            writer.refresh(_summaries_in(pool, db_path, summarise))
            return written
    finally:
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
