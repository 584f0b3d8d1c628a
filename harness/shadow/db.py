"""The comparison database of the parallel run: every result of both pipelines, one SQLite file.

:func:`open_db` opens (and creates) it in WAL mode with ``synchronous=NORMAL`` and a busy timeout, so the
dashboard reads while the ingest or the simulator writes; :class:`Writer` is the one writer of the file;
:func:`harness.shadow.ingest.ingest` loads a JSONL log of :class:`~harness.shadow.records.ResultRecord`
lines into it. PostgreSQL is not supported: it would need a second SQL dialect (upserts, window frames, ISO weeks) for no gain at this size.

The schema, its description and the checks a file passes first: :mod:`harness.shadow.schema`.
"""

from __future__ import annotations

import sqlite3
from contextlib import contextmanager
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Mapping, Sequence

from harness.errors import HarnessInputError
from harness.files import dumps_json, loads_json
from harness.golden import FieldSpec
from harness.shadow.records import ResultRecord
from metrics.extraction import pair_outcome
from harness.shadow.schema import (BUSY_TIMEOUT_S, SCHEMA, SCHEMA_VERSION, SUMMARY_SCHEMA, check_rows,
                                   check_schema, check_values, has_summaries, schema_statements, stale_rows)
from metrics.normalize import normalizer

# a week's summary from the database (its dashboard row and verdict inputs; None: no results that week): the
# readers' function, handed to the Writer by its caller (harness.shadow.judge.week_summary), so the writer
# imports no reader
Summarise = Callable[[sqlite3.Connection, str], "dict[str, Any] | None"]

_RESULT_COLUMNS = ("doc_id", "pipeline", "role", "received_at", "day", "week", "available", "latency_s", "label",
                   "gold_label", "label_correct", "fields_correct", "fields_total", "error", "input_tokens",
                   "output_tokens", "cost_usd", "model_version", "prompt_version", "hallucinated",
                   "guardrail_events", "pii_exposed")
_INSERT_RESULT = (f"INSERT OR REPLACE INTO results ({', '.join(_RESULT_COLUMNS)}) "
                  f"VALUES ({', '.join('?' * len(_RESULT_COLUMNS))})")


def open_db(path: str | Path, *, create: bool = True) -> sqlite3.Connection:
    """A connection to the comparison database at ``path`` (created with its schema if absent and ``create``).

    Autocommit mode: writes go through :func:`transaction`. A file that is not SQLite, holds other tables or
    columns, or was written by a newer schema is refused (exit 2 naming it). Opened to read (``create=False``),
    its values are checked too (:func:`check_values`): another program may have written the file.
    """
    path = Path(path)
    if not create and not path.is_file():
        raise HarnessInputError("no comparison database here (harness shadow ingest writes one)", path=path)
    try:
        conn = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_S, isolation_level=None)
    except sqlite3.Error as exc:
        raise HarnessInputError(f"cannot open the comparison database: {exc}", path=path) from None
    try:
        _prepare(conn, path, values=not create)
    except BaseException:
        conn.close()
        raise
    return conn


def _prepare(conn: sqlite3.Connection, path: Path, values: bool = False) -> None:
    """Check an existing file's schema before anything is written to it (a foreign file is left as it was), then
    set the connection up and create the schema in a new file; ``values``: check the values too."""
    try:
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise HarnessInputError(f"written with comparison-database schema {version}; this harness reads up "
                                    f"to {SCHEMA_VERSION} (update the harness)", path=path)
        check_schema(conn, path, complete=version == SCHEMA_VERSION)
        conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA cache_size = -65536")  # 64 MiB of pages: the indexes of a year stay in memory
        conn.execute("PRAGMA temp_store = MEMORY")
        if version < SCHEMA_VERSION:
            with transaction(conn):
                # again under the write lock: another process may have created it meanwhile
                check_schema(conn, path, complete=False)
                for statement in schema_statements(SCHEMA):
                    conn.execute(statement)
                conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        if not values and not has_summaries(conn):  # opened to write: a file from before the summaries gets them
            with transaction(conn):
                if not has_summaries(conn):
                    for statement in schema_statements(SUMMARY_SCHEMA):
                        conn.execute(statement)
                    conn.execute("INSERT OR IGNORE INTO stale SELECT DISTINCT week FROM results")
        if values:
            check_values(conn, path)
    except sqlite3.DatabaseError as exc:
        raise HarnessInputError(f"not a comparison database: {exc}", path=path) from None



@contextmanager
def database(path: str | Path, *, create: bool = True) -> Iterator[sqlite3.Connection]:
    """:func:`open_db` for the length of a command, closed at the end; a file damaged past its first page (an
    SQLite error while it is read or written) is exit 2 naming it, not a traceback."""
    conn = open_db(path, create=create)
    try:
        yield conn
    except sqlite3.DatabaseError as exc:
        raise HarnessInputError(f"the comparison database failed: {exc}", path=path) from None
    finally:
        conn.close()


@contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """``BEGIN IMMEDIATE`` ... ``COMMIT`` (``ROLLBACK`` on any exception): one writer at a time, readers
    unaffected (WAL)."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def period_of(moment: datetime) -> tuple[str, str, str]:
    """(UTC ISO text, day ``YYYY-MM-DD``, ISO week ``YYYY-Www``) of an aware datetime.

    >>> period_of(datetime(2026, 1, 4, 23, 30, tzinfo=timezone.utc))
    ('2026-01-04T23:30:00.000000+00:00', '2026-01-04', '2026-W01')
    """
    utc = moment.astimezone(timezone.utc)
    iso = utc.isocalendar()
    return utc.isoformat(timespec="microseconds"), utc.date().isoformat(), f"{iso.year}-W{iso.week:02d}"


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, tuple):
        return dumps_json(list(value))
    return str(value)


@lru_cache(maxsize=4096)
def _plain_spec(name: str, kind: str) -> FieldSpec:
    return FieldSpec(name, kind)  # type: ignore[arg-type]


def _plain_schema(pred: Mapping[str, Any], gold: Mapping[str, Any]) -> dict[str, FieldSpec]:
    """Without a golden set: every key either side has, as a string field (a list field when a value is a list)."""
    return {n: _plain_spec(n, "list" if isinstance(gold.get(n), list) or isinstance(pred.get(n), list) else "string")
            for n in sorted(set(pred) | set(gold))}


FieldRows = tuple[list[tuple[str, str | None, int | None]], int | None, int | None]
_CORRECT = {"correct": 1, "wrong": 0}  # an outcome's ``correct`` column (gold null or absent: NULL)


def field_rows(records: Sequence[ResultRecord], schema: Mapping[str, FieldSpec] | None) -> list[FieldRows]:
    """Per record: its (field, normalised value, correct) rows, fields right and fields with a gold value (both
    None without gold). A pipeline that was down has no fields. Each (predicted, gold) pair of a field is
    scored as scoring scores it (:func:`metrics.extraction.pair_outcome`, one normaliser per field) once per
    call and remembered: a month repeats its values. A record's rows do not depend on the others."""
    out: list[FieldRows] = [([], None, None)] * len(records)
    plans: dict[Any, list[tuple[str, Callable[[Any], Any], dict]]] = {}  # per schema: (field, normaliser, memo)
    cells: dict[tuple[str, str], tuple[Callable[[Any], Any], dict]] = {}  # per field: its normaliser, pair -> row
    for i, record in enumerate(records):
        if not record.available:
            continue
        pred, gold = record.fields or {}, record.gold_fields or {}
        # without a golden set, the plain schema of the record's keys and which values are lists
        shape = None if schema is not None else (tuple(pred), tuple(map(type, pred.values())),
                                                 tuple(gold), tuple(map(type, gold.values())))
        plan = plans.get(shape)
        if plan is None:
            plan = plans[shape] = []
            for name, field_spec in (schema if schema is not None else _plain_schema(pred, gold)).items():
                key = (field_spec.type, name)
                if key not in cells:
                    cells[key] = (normalizer(field_spec.type, field_spec), {})
                plan.append((name, *cells[key]))
        rows, right, total = [], 0, 0
        for name, norm, memo in plan:
            pv, gv = pred.get(name), gold.get(name)
            pair = (tuple(pv) if type(pv) is list else pv, tuple(gv) if type(gv) is list else gv)
            cell = memo.get(pair)
            if cell is None:
                value, outcome = pair_outcome(norm, gv, pv)
                text, correct = _text(value), _CORRECT.get(outcome)
                cell = memo[pair] = (None if text is None and correct is None else (name, text, correct), correct)
            if cell[0] is not None:
                rows.append(cell[0])
                if cell[1] is not None:
                    total += 1
                    right += cell[1]
        out[i] = (rows, None, None) if record.gold_fields is None else (rows, right, total)
    return out


def result_row(record: ResultRecord, fields_correct: int | None, fields_total: int | None) -> tuple:
    """The ``results`` row of one record (columns in :data:`_RESULT_COLUMNS` order)."""
    received, day, week = period_of(record.received_at)
    label_correct = (int(record.label == record.gold_label)
                     if record.available and record.gold_label is not None else None)
    return (record.doc_id, record.pipeline, record.role, received, day, week, int(record.available),
            record.latency_s, record.label, record.gold_label, label_correct, fields_correct, fields_total,
            record.error, record.input_tokens, record.output_tokens, record.cost_usd, record.model_version,
            record.prompt_version, None if record.hallucinated is None else int(record.hallucinated),
            len(record.guardrail_events), record.pii_exposures)


def _of_ids(conn: sqlite3.Connection, sql: str, ids: Sequence[str], chunk: int = 500) -> list[tuple]:
    """The rows of ``sql`` (its ``{}`` the placeholders of an ``IN``) for ``ids``, ``chunk`` ids a query: bound
    parameters, so any text is matched as it is (``json_each`` cuts a text at a NUL character)."""
    out: list[tuple] = []
    for lo in range(0, len(ids), chunk):
        part = ids[lo:lo + chunk]
        out += conn.execute(sql.format(", ".join("?" * len(part))), part).fetchall()
    return out


# one batch's rows: its (doc_id, pipeline) keys, ``results`` rows and ``fields`` rows
Rows = tuple[list[tuple[str, str]], list[tuple], list[tuple]]


def rows_of(chunk: Sequence[ResultRecord], field_schema: Mapping[str, FieldSpec] | None) -> Rows:
    """The rows :meth:`Writer.write_rows` writes for ``chunk`` (a record repeated in it: the last one wins)."""
    last = {(r.doc_id, r.pipeline): r for r in chunk}
    results, fields = [], []
    for ((doc_id, pipeline), record), (rows, correct, total) in zip(
            last.items(), field_rows(list(last.values()), field_schema)):
        results.append(result_row(record, correct, total))
        fields += [(doc_id, pipeline, name, value, ok) for name, value, ok in rows]
    return list(last), results, fields


class Writer:
    """The one writer of a comparison database: results (idempotent on (doc_id, pipeline): a record written
    again replaces the row and its fields), events and meta.

    ``field_schema``: the golden set's fields (``GoldenSet.manifest.fields``) to score extraction with; without
    it, values are compared as normalised strings.
    """

    def __init__(self, conn: sqlite3.Connection, field_schema: Mapping[str, FieldSpec] | None = None,
                 batch: int = 5000, summarise: Summarise | None = None) -> None:
        if batch < 1:
            raise ValueError("batch must be at least 1")
        self.conn, self.field_schema, self.batch = conn, field_schema, batch
        self.summarise = summarise  # a week's summary (harness.shadow.judge.week_summary); None: weeks stay stale
        self.summaries = has_summaries(conn)

    def add(self, records: Iterable[ResultRecord]) -> int:
        """Write ``records``, ``batch`` at a time, one transaction per batch; returns how many were written."""
        written, chunk = 0, []
        for record in records:
            chunk.append(record)
            if len(chunk) >= self.batch:
                written += self._write(chunk)
                chunk = []
        return written + (self._write(chunk) if chunk else 0)

    def _write(self, chunk: Sequence[ResultRecord]) -> int:
        self.write_rows(rows_of(chunk, self.field_schema))
        return len(chunk)

    def write_rows(self, rows: Rows) -> None:
        """Write one batch's rows (:func:`rows_of`) in one transaction."""
        keys, results, fields = rows
        ids = sorted({doc_id for doc_id, _ in keys})
        with self._writing():
            if self.summaries:  # the weeks of the rows written and of their documents' rows already there
                there = _of_ids(self.conn, "SELECT week FROM results WHERE doc_id IN ({})", ids)
                weeks = {row[5] for row in results} | {week for (week,) in there}
                self.conn.executemany("INSERT OR IGNORE INTO stale (week) VALUES (?)", [(w,) for w in sorted(weeks)])
            # every key's fields go (another program may have deleted a result and left its fields): those of the
            # keys whose documents have fields rows already, found in a few queries (a new batch has none)
            held = {doc_id for (doc_id,) in _of_ids(self.conn, "SELECT DISTINCT doc_id FROM fields WHERE doc_id IN ({})",
                                                    ids)}
            if held:
                self.conn.executemany("DELETE FROM fields WHERE doc_id = ? AND pipeline = ?",
                                      [key for key in keys if key[0] in held])
            self.conn.executemany(_INSERT_RESULT, results)
            self.conn.executemany("INSERT INTO fields (doc_id, pipeline, field, value, correct) VALUES (?, ?, ?, ?, ?)",
                                  fields)

    @contextmanager
    def _writing(self) -> Iterator[None]:
        """A write transaction with the Writer's row in ``writing`` (the stale triggers stand aside: the Writer
        marks the weeks itself, once a batch), removed before the commit."""
        with transaction(self.conn):
            if self.summaries:
                if self.conn.execute("SELECT 1 FROM writing LIMIT 1").fetchone():
                    # a row another program left: the triggers stood aside for its writes, so every week is
                    # stale (its rows are checked and summarised again at the refresh) and the row goes
                    self.conn.execute("INSERT OR IGNORE INTO stale SELECT DISTINCT week FROM results "
                                      "WHERE week IS NOT NULL")
                    self.conn.execute("DELETE FROM writing")
                self.conn.execute("INSERT INTO writing (token) VALUES ('harness')")
            yield
            if self.summaries:
                self.conn.execute("DELETE FROM writing")

    def refresh(self, summarise_all: Callable[[list[str]], Iterable[dict[str, Any] | None]] | None = None) -> int:
        """Recompute the summaries of the stale weeks (one transaction) with the Writer's ``summarise``; returns
        how many weeks. Without ``summarise`` the weeks stay stale (readers compute a stale week on demand: the
        same figures, slower). ``summarise_all``: the weeks' summaries in their order, computed elsewhere (other
        processes reading the file: what this transaction holds is committed, and no other writer commits until
        it ends); by default each in turn here."""
        if not self.summaries or self.summarise is None:
            return 0
        week_summary = self.summarise
        with self._writing():
            weeks = [w for (w,) in self.conn.execute("SELECT week FROM stale ORDER BY week")]
            bodies = (week_summary(self.conn, w) for w in weeks) if summarise_all is None else summarise_all(weeks)
            # the stale weeks' rows are checked before they are summarised and the weeks cleared (readers check
            # only the stale weeks' rows, see harness.shadow.schema.check_values): another program's too; while
            # other processes compute the summaries (summarise_all), this one checks
            path = self.conn.execute("PRAGMA database_list").fetchone()[2]
            for where in stale_rows(self.conn):
                check_rows(self.conn, path, "results", where)
            for week, body in zip(weeks, bodies):
                if body is None:
                    self.conn.execute("DELETE FROM summaries WHERE week = ?", (week,))
                else:
                    self.conn.execute("INSERT OR REPLACE INTO summaries (week, body) VALUES (?, ?)",
                                      (week, dumps_json(body)))
            self.conn.execute("DELETE FROM stale")
        return len(weeks)

    def add_event(self, ts: datetime | str, kind: str, detail: Mapping[str, Any] | None = None) -> None:
        """One scenario event (``ts``: an aware datetime or ISO text with a time zone); the same event written
        again (a resumed simulation) is kept once."""
        try:
            moment = datetime.fromisoformat(ts) if isinstance(ts, str) else ts
        except ValueError:
            raise HarnessInputError(f"not an ISO 8601 time: {ts!r}", field="ts") from None
        if moment.tzinfo is None:
            raise HarnessInputError("an event time needs a time zone", field="ts")
        text, day, week = period_of(moment)
        with transaction(self.conn):
            detail_text = dumps_json(dict(detail or {}), sort_keys=True)
            self.conn.execute("INSERT INTO events (ts, day, week, kind, detail) SELECT ?, ?, ?, ?, ? WHERE NOT EXISTS "
                              "(SELECT 1 FROM events WHERE ts = ? AND kind = ? AND detail = ?)",
                              (text, day, week, kind, detail_text, text, kind, detail_text))

    def set_meta(self, key: str, value: Any) -> None:
        """``meta[key] = value`` (a non-string value stored as JSON)."""
        with transaction(self.conn):
            self.conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
                              (key, value if isinstance(value, str) else dumps_json(value)))


def meta(conn: sqlite3.Connection) -> dict[str, str]:
    return dict(conn.execute("SELECT key, value FROM meta ORDER BY key"))


def events(conn: sqlite3.Connection, column: str | None = None, value: str | None = None) -> list[dict[str, Any]]:
    """Scenario events in time order; with ``column`` (``day`` or ``week``) and ``value``, those of one period."""
    where, args = "", ()
    if column is not None:
        if column not in ("day", "week"):
            raise ValueError(f"period column must be day or week, got {column!r}")
        where, args = f" WHERE {column} = ?", (value,)
    return [{"ts": ts, "day": day, "week": week, "kind": kind, "detail": loads_json(detail)}
            for ts, day, week, kind, detail in
            conn.execute(f"SELECT ts, day, week, kind, detail FROM events{where} ORDER BY ts, id", args)]
