"""The comparison database of the parallel run: every result of both pipelines, one SQLite file.

:func:`open_db` opens (and creates) it in WAL mode with ``synchronous=NORMAL`` and a busy timeout, so the
dashboard reads while the ingest or the simulator writes; :class:`Writer` is the one writer of the file;
:func:`ingest` loads a JSONL log of :class:`~harness.shadow.records.ResultRecord` lines. PostgreSQL is not
supported: it would need a second SQL dialect (upserts, window frames, ISO weeks) for no gain at this size.

Schema (version :data:`SCHEMA_VERSION`, kept in ``PRAGMA user_version``; a newer file is refused, and so is an
existing file whose tables or columns differ from these, whatever version it says, before anything is written to
it):

``results`` -- one row per (doc_id, pipeline), ``WITHOUT ROWID``, primary key ``(doc_id, pipeline)``:
  the record's scalars (``role``, ``received_at`` as UTC ISO text, ``available`` 0/1, ``latency_s``,
  ``label``, ``gold_label``, ``error``, ``input_tokens``, ``output_tokens``, ``cost_usd``, ``model_version``,
  ``prompt_version``, ``hallucinated`` 0/1/NULL) and, computed on insert:

  * ``day`` (``YYYY-MM-DD``, UTC) and ``week`` (ISO year-week, ``2026-W03``) of ``received_at``;
  * ``label_correct``: 1/0 against ``gold_label``; NULL without gold or when the pipeline was down (an error
    counts as wrong, as in scoring);
  * ``fields_correct`` / ``fields_total``: fields right / fields with a gold value (NULL without gold or
    when down), by the outcomes scoring uses (:func:`metrics.extraction.outcome_columns`, the batched
    ``document_outcomes``) over the golden set's field schema when the writer has one, else over the
    record's keys with strings normalised (case, spaces, surrounding punctuation; a list as its sorted
    normalised items);
  * ``guardrail_events`` (count) and ``pii_exposed`` (events with ``exposed: true``).

  Indexes ``results_week (week, pipeline, available, latency_s)`` and ``results_day (day, pipeline,
  available, latency_s)``: a period's rows and its latencies in order.
``fields`` -- one row per (doc_id, pipeline, field) that was predicted or has a gold value, ``WITHOUT ROWID``,
  primary key ``(doc_id, pipeline, field)``: ``value`` (the normalised prediction as text, a list as a JSON
  array; NULL: not predicted) and ``correct`` (1/0 against gold; NULL: gold is null or absent). Joined on
  (doc_id, field) it gives the pipelines' field agreement, which production traffic (no gold) can measure.
``events`` -- ``id``, ``ts`` (UTC ISO), ``day``, ``week``, ``kind``, ``detail`` (JSON): scenario events
  (drift, outage, price change, PII burst, ...) written by the simulator; index ``events_ts``.
``meta`` -- ``key`` (primary key), ``value``: e.g. the scenario's name and seed.
``summaries`` -- ``week`` (primary key), ``body`` (JSON): each ISO week's dashboard figures and the inputs of
  its judge (:func:`harness.shadow.judge.week_summary`, handed to the Writer), computed from ``results`` and ``fields`` by the same
  SQL as on demand, so the weekly dashboard, the judge and decide read one row a week instead of every result.
``stale`` -- ``week`` (primary key): the weeks whose summary is out of date. :class:`Writer` marks the weeks it
  touches (of the rows it writes and of the rows of their documents already there) and :meth:`Writer.refresh`
  (run by :func:`ingest`) recomputes them; the triggers ``*_stale`` mark them for any other program that writes
  ``results`` or ``fields`` (they stand aside while ``writing`` holds the Writer's row, inside the Writer's own
  transaction). A reader computes a stale week on demand, as before; days are always computed on demand.

Files of schema 1 written before the summaries (no ``summaries``, ``stale`` and ``writing`` tables) are read as
they are, every week computed on demand; opened to write, they get the three tables and the triggers, with every
week marked stale (the next ingest's refresh summarises them).
"""

from __future__ import annotations

import sqlite3
from contextlib import contextmanager
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Mapping, Sequence

from harness.errors import HarnessInputError
from harness.files import dumps_json, loads_json, validate
from harness.golden import FieldSpec, iter_jsonl
from harness.shadow.records import LAST_DAY, MAX_COST_USD, MAX_LATENCY_S, MAX_TOKENS, ResultRecord
from metrics.extraction import outcome_columns
from metrics.normalize import normalizer

# a week's summary from the database (its dashboard row and verdict inputs; None: no results that week): the
# readers' function, handed to the Writer by its caller (harness.shadow.judge.week_summary), so the writer
# imports no reader
Summarise = Callable[[sqlite3.Connection, str], "dict[str, Any] | None"]

SCHEMA_VERSION = 1
BUSY_TIMEOUT_S = 30.0
TABLES = ("results", "fields", "events", "meta", "summaries", "stale", "writing")
SUMMARY_TABLES = ("summaries", "stale", "writing")  # absent in files written before them (schema 1 as well)
SCHEMA = """
CREATE TABLE IF NOT EXISTS results (
    doc_id TEXT NOT NULL, pipeline TEXT NOT NULL CHECK (pipeline IN ('mlops', 'llmops')), role TEXT NOT NULL,
    received_at TEXT NOT NULL, day TEXT NOT NULL, week TEXT NOT NULL, available INTEGER NOT NULL,
    latency_s REAL NOT NULL, label TEXT, gold_label TEXT, label_correct INTEGER,
    fields_correct INTEGER, fields_total INTEGER, error TEXT,
    input_tokens INTEGER NOT NULL, output_tokens INTEGER NOT NULL, cost_usd REAL,
    model_version TEXT, prompt_version TEXT, hallucinated INTEGER,
    guardrail_events INTEGER NOT NULL, pii_exposed INTEGER NOT NULL,
    PRIMARY KEY (doc_id, pipeline)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS results_week ON results (week, pipeline, available, latency_s);
CREATE INDEX IF NOT EXISTS results_day ON results (day, pipeline, available, latency_s);
CREATE TABLE IF NOT EXISTS fields (
    doc_id TEXT NOT NULL, pipeline TEXT NOT NULL, field TEXT NOT NULL, value TEXT, correct INTEGER,
    PRIMARY KEY (doc_id, pipeline, field)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY, ts TEXT NOT NULL, day TEXT NOT NULL, week TEXT NOT NULL, kind TEXT NOT NULL,
    detail TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS events_ts ON events (ts);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""
# the periods' summaries (a newer part of schema 1: files without them are read as before and upgraded when
# opened to write); every trigger stands aside while the Writer's row is in ``writing`` (its own transaction)
SUMMARY_SCHEMA = """
CREATE TABLE IF NOT EXISTS summaries (week TEXT PRIMARY KEY, body TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS stale (week TEXT PRIMARY KEY) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS writing (token TEXT PRIMARY KEY);
CREATE TRIGGER IF NOT EXISTS results_insert_stale BEFORE INSERT ON results WHEN NOT EXISTS (SELECT 1 FROM writing)
BEGIN
    INSERT OR IGNORE INTO stale SELECT week FROM results WHERE doc_id = NEW.doc_id UNION SELECT NEW.week;
END;
CREATE TRIGGER IF NOT EXISTS results_update_stale AFTER UPDATE ON results WHEN NOT EXISTS (SELECT 1 FROM writing)
BEGIN
    INSERT OR IGNORE INTO stale SELECT week FROM results WHERE doc_id IN (OLD.doc_id, NEW.doc_id)
        UNION SELECT OLD.week;
END;
CREATE TRIGGER IF NOT EXISTS results_delete_stale AFTER DELETE ON results WHEN NOT EXISTS (SELECT 1 FROM writing)
BEGIN
    INSERT OR IGNORE INTO stale SELECT week FROM results WHERE doc_id = OLD.doc_id UNION SELECT OLD.week;
END;
CREATE TRIGGER IF NOT EXISTS fields_insert_stale AFTER INSERT ON fields WHEN NOT EXISTS (SELECT 1 FROM writing)
BEGIN
    INSERT OR IGNORE INTO stale SELECT week FROM results WHERE doc_id = NEW.doc_id;
END;
CREATE TRIGGER IF NOT EXISTS fields_update_stale AFTER UPDATE ON fields WHEN NOT EXISTS (SELECT 1 FROM writing)
BEGIN
    INSERT OR IGNORE INTO stale SELECT week FROM results WHERE doc_id IN (OLD.doc_id, NEW.doc_id);
END;
CREATE TRIGGER IF NOT EXISTS fields_delete_stale AFTER DELETE ON fields WHEN NOT EXISTS (SELECT 1 FROM writing)
BEGIN
    INSERT OR IGNORE INTO stale SELECT week FROM results WHERE doc_id = OLD.doc_id;
END;
"""
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
        _check_schema(conn, path, complete=version == SCHEMA_VERSION)
        conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA cache_size = -65536")  # 64 MiB of pages: the indexes of a year stay in memory
        conn.execute("PRAGMA temp_store = MEMORY")
        if version < SCHEMA_VERSION:
            with transaction(conn):
                # again under the write lock: another process may have created it meanwhile
                _check_schema(conn, path, complete=False)
                for statement in _statements(SCHEMA):
                    conn.execute(statement)
                conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        if not values and not has_summaries(conn):  # opened to write: a file from before the summaries gets them
            with transaction(conn):
                if not has_summaries(conn):
                    for statement in _statements(SUMMARY_SCHEMA):
                        conn.execute(statement)
                    conn.execute("INSERT OR IGNORE INTO stale SELECT DISTINCT week FROM results")
        if values:
            check_values(conn, path)
    except sqlite3.DatabaseError as exc:
        raise HarnessInputError(f"not a comparison database: {exc}", path=path) from None


def _statements(script: str) -> list[str]:
    """The statements of a schema script (a trigger's body holds semicolons: split where sqlite3 says a
    statement is complete)."""
    out, current = [], ""
    for line in script.splitlines(keepends=True):
        current += line
        if sqlite3.complete_statement(current):
            out.append(current.strip())
            current = ""
    return [s for s in out if s.strip(" ;\n")]


def has_summaries(conn: sqlite3.Connection) -> bool:
    """Whether the file keeps the periods' summaries (files written before them do not)."""
    have = {n for (n,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    return set(SUMMARY_TABLES) <= have


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


_TIME = "[0-9]" * 4 + "-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]." + "[0-9]" * 6 + "+00:00"
_DAY = "typeof({0}) = 'text' AND date({0}) = {0} AND {0} <= '" + LAST_DAY.isoformat() + "'"
# the ISO week of the row's day (its Thursday's year and day of the year), written as the writer writes it: a
# week that is not the day's (W00, W54, another year's) would crash the weekly readers
_THURSDAY = "date(day, '-3 days', 'weekday 4')"
_WEEK = ("typeof({0}) = 'text' AND {0} = strftime('%Y', " + _THURSDAY + ") || '-W' || "
         "printf('%02d', (strftime('%j', " + _THURSDAY + ") - 1) / 7 + 1)")
_COUNT = "typeof({0}) = 'integer' AND {0} BETWEEN 0 AND 1000000000"
_FLAG = "typeof({0}) = 'integer' AND {0} IN (0, 1)"
_TEXT = "{0} IS NULL OR typeof({0}) = 'text'"
_NUMBER = "typeof({0}) IN ('integer', 'real') AND {0} BETWEEN 0 AND {1}"
VALUE_CHECKS = {  # table -> (column, SQL that holds for every value the writer writes)
    "results": (
        ("doc_id", "typeof(doc_id) = 'text'"), ("pipeline", "pipeline IN ('mlops', 'llmops')"),
        ("role", "role IN ('production', 'shadow', 'canary')"),
        ("received_at", f"typeof(received_at) = 'text' AND received_at GLOB '{_TIME}' AND "
                        "datetime(received_at) IS NOT NULL AND substr(received_at, 1, 10) = day"),
        ("day", _DAY.format("day")), ("week", _WEEK.format("week")), ("available", _FLAG.format("available")),
        ("latency_s", _NUMBER.format("latency_s", MAX_LATENCY_S)),
        ("input_tokens", "typeof(input_tokens) = 'integer' AND " + _NUMBER.format("input_tokens", MAX_TOKENS)),
        ("output_tokens", "typeof(output_tokens) = 'integer' AND " + _NUMBER.format("output_tokens", MAX_TOKENS)),
        ("cost_usd", "cost_usd IS NULL OR " + _NUMBER.format("cost_usd", MAX_COST_USD)),
        *((c, "{0} IS NULL OR {1}".format(c, _FLAG.format(c))) for c in ("label_correct", "hallucinated")),
        *((c, "{0} IS NULL OR {1}".format(c, _COUNT.format(c))) for c in ("fields_correct", "fields_total")),
        *((c, _COUNT.format(c)) for c in ("guardrail_events", "pii_exposed")),
        *((c, _TEXT.format(c)) for c in ("label", "gold_label", "error", "model_version", "prompt_version"))),
    "events": (("ts", f"typeof(ts) = 'text' AND ts GLOB '{_TIME}' AND datetime(ts) IS NOT NULL"),
               ("day", _DAY.format("day")), ("week", _WEEK.format("week")), ("kind", "typeof(kind) = 'text'"),
               ("detail", "CASE WHEN typeof(detail) = 'text' AND json_valid(detail) THEN json_type(detail) = 'object' "
                          "ELSE 0 END")),
    "meta": (("key", "typeof(key) = 'text'"), ("value", "typeof(value) = 'text'")),
    "summaries": (("week", "typeof(week) = 'text'"),
                  ("body", "CASE WHEN typeof(body) = 'text' AND json_valid(body) THEN json_type(body) = 'object' "
                           "ELSE 0 END")),
}
META_CHECKS = {"feedback": (1, 5), "projected_cost_per_doc": (0, MAX_COST_USD)}  # numbers the readers compute with


def check_values(conn: sqlite3.Connection, path: str | Path) -> None:
    """Every value the readers compute with is one the writer writes (:data:`VALUE_CHECKS`: types, bounds, UTC
    times, ISO weeks, JSON details; :data:`META_CHECKS`), else exit 2 naming the file, the table, the column and
    the first row that differs. One pass over each table; the ``fields`` table is only counted, never computed
    with, and is not read here."""
    have = {n for (n,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    for table, checks in VALUE_CHECKS.items():
        if table not in have:  # the summaries of a file written before them
            continue
        first_bad = " ".join(f"WHEN NOT coalesce({sql}, 0) THEN '{column}'" for column, sql in checks)
        key = {"results": "doc_id || ' ' || pipeline", "events": "id", "summaries": "week"}.get(table, "key")
        row = conn.execute(f"SELECT {key}, CASE {first_bad} END AS bad FROM {table} WHERE bad IS NOT NULL "
                           "LIMIT 1").fetchone()
        if row is not None:
            raise HarnessInputError(f"table {table}, row {str(row[0])[:80]!r}: {row[1]} holds a value this harness "
                                    "never writes (wrong type, out of bounds or malformed)", path=path)
    values = dict(conn.execute("SELECT key, value FROM meta WHERE key IN ('audit', 'feedback', "
                               "'projected_cost_per_doc')"))
    for key, (low, high) in META_CHECKS.items():
        value = _meta_value(values.get(key, "null"))
        if value is not None and not (isinstance(value, (int, float)) and not isinstance(value, bool)
                                      and low <= value <= high):
            raise HarnessInputError(f"meta {key} is {str(values[key])[:40]!r}, not a number {low}-{high:,}", path=path)
    if _meta_value(values.get("audit", "null")) not in (None, True, False):
        raise HarnessInputError(f"meta audit is {values['audit'][:40]!r}, not true, false or null", path=path)


def _meta_value(text: str) -> Any:
    try:
        return loads_json(text)
    except HarnessInputError:
        return text


def _columns(conn: sqlite3.Connection, table: str) -> tuple[str, ...]:
    return tuple(row[1] for row in conn.execute("SELECT * FROM pragma_table_info(?)", (table,)))


@lru_cache(maxsize=1)
def expected_columns() -> dict[str, tuple[str, ...]]:
    """Each table's columns, in order, as :data:`SCHEMA` (the one definition) creates them."""
    mem = sqlite3.connect(":memory:")
    try:
        mem.executescript(SCHEMA + SUMMARY_SCHEMA)
        return {table: _columns(mem, table) for table in TABLES}
    finally:
        mem.close()


@lru_cache(maxsize=1)
def expected_indexes() -> frozenset[str]:
    """The indexes :data:`SCHEMA` creates."""
    mem = sqlite3.connect(":memory:")
    try:
        mem.executescript(SCHEMA + SUMMARY_SCHEMA)
        return frozenset(n for (n,) in mem.execute("SELECT name FROM sqlite_master WHERE type = 'index'")
                         if not n.startswith("sqlite_"))
    finally:
        mem.close()


@lru_cache(maxsize=1)
def expected_triggers() -> frozenset[tuple[str, str]]:
    """The triggers :data:`SUMMARY_SCHEMA` creates, as (name, SQL text)."""
    mem = sqlite3.connect(":memory:")
    try:
        mem.executescript(SCHEMA + SUMMARY_SCHEMA)
        return frozenset(mem.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'"))
    finally:
        mem.close()


def _listed(names) -> str:
    names = sorted(names)
    return ", ".join(names[:6]) + (f" and {len(names) - 6} more" if len(names) > 6 else "")


def _check_schema(conn: sqlite3.Connection, path: Path, *, complete: bool) -> None:
    """The one schema check of an existing file: its tables are this schema's, each with exactly this schema's
    columns (``complete``: every table is there, as in a file that says it has this schema version; otherwise a
    table may be absent, as in a new file). Else exit 2 naming the file and what differs."""
    have = {name for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type IN ('table', 'view')")
            if not name.startswith("sqlite_")}
    want = expected_columns()
    problems = []
    # a trigger runs on every write (another program's could delete what ingest writes): only the summaries'
    # own (marking stale periods), word for word
    triggers = {name for name, sql in conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'")
                if (name, sql) not in expected_triggers()}
    if triggers:
        problems.append(f"triggers: {_listed(triggers)}")
    indexes = {name for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'")
               if not name.startswith("sqlite_")}
    if indexes - expected_indexes():
        problems.append(f"indexes not in the schema: {_listed(indexes - expected_indexes())}")
    if have - set(want):
        problems.append(f"tables not in the schema: {_listed(have - set(want))}")
    if complete and set(want) - have - set(SUMMARY_TABLES):
        problems.append(f"missing tables: {_listed(set(want) - have - set(SUMMARY_TABLES))}")
    if have & set(SUMMARY_TABLES) and not set(SUMMARY_TABLES) <= have:
        problems.append(f"missing tables: {_listed(set(SUMMARY_TABLES) - have)} (it has "
                        f"{_listed(have & set(SUMMARY_TABLES))})")
    elif set(SUMMARY_TABLES) <= have:  # summaries kept: every trigger that marks their stale weeks is there
        ours = {name for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")}
        gone = {name for name, _ in expected_triggers()} - ours
        if gone:
            problems.append(f"missing triggers: {_listed(gone)}")
    for table in sorted(have & set(want)):
        got = _columns(conn, table)
        if got != want[table]:
            missing, extra = set(want[table]) - set(got), set(got) - set(want[table])
            problems.append(f"table {table} " + "; ".join(
                [f"lacks {_listed(missing)}"] * bool(missing) + [f"has {_listed(extra)}"] * bool(extra)
                or ["has its columns in another order"]))
    if problems:
        said = f" (though it says schema {SCHEMA_VERSION})" if complete else ""
        raise HarnessInputError(f"not a comparison database{said}: {'; '.join(problems)}", path=path)


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


def field_rows(records: Sequence[ResultRecord], schema: Mapping[str, FieldSpec] | None) -> list[FieldRows]:
    """Per record: its (field, normalised value, correct) rows, fields right and fields with a gold value (both
    None without gold). A pipeline that was down has no fields. Records sharing a schema are scored together
    (:func:`metrics.extraction.outcome_columns`: one normaliser per field), each on its own: a record's rows do
    not depend on the others."""
    out: list[FieldRows] = [([], None, None)] * len(records)
    groups: dict[Any, tuple[Mapping[str, FieldSpec], list[int]]] = {}
    for i, record in enumerate(records):
        if record.available:
            spec = schema if schema is not None else _plain_schema(record.fields or {}, record.gold_fields or {})
            key = None if schema is not None else tuple((n, f.type) for n, f in spec.items())
            groups.setdefault(key, (spec, []))[1].append(i)
    for spec, members in groups.values():
        preds = [records[i].fields or {} for i in members]
        outcomes = outcome_columns([records[i].gold_fields or {} for i in members], preds, spec)
        rows: list[list] = [[] for _ in members]
        for name, field_spec in spec.items():
            norm = normalizer(field_spec.type, field_spec)
            for j, (pred, outcome) in enumerate(zip(preds, outcomes[name])):
                value = _text(norm(pred.get(name)))
                correct = 1 if outcome == "correct" else 0 if outcome == "wrong" else None
                if value is not None or correct is not None:
                    rows[j].append((name, value, correct))
        for i, got in zip(members, rows):
            if records[i].gold_fields is None:
                out[i] = (got, None, None)
            else:
                out[i] = (got, sum(c == 1 for _, _, c in got), sum(c is not None for _, _, c in got))
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
        last = {(r.doc_id, r.pipeline): r for r in chunk}  # a record repeated in one batch: the last one wins
        results, fields = [], []
        for ((doc_id, pipeline), record), (rows, correct, total) in zip(
                last.items(), field_rows(list(last.values()), self.field_schema)):
            results.append(result_row(record, correct, total))
            fields.extend((doc_id, pipeline, name, value, ok) for name, value, ok in rows)
        with self._writing():
            if self.summaries:  # the weeks of the rows written and of their documents' rows already there
                ids = dumps_json(sorted({doc_id for doc_id, _ in last}))
                there = self.conn.execute("SELECT r.week FROM json_each(?) j JOIN results r ON r.doc_id = j.value",
                                          (ids,)).fetchall()
                weeks = {row[5] for row in results} | {week for (week,) in there}
                self.conn.executemany("INSERT OR IGNORE INTO stale (week) VALUES (?)", [(w,) for w in sorted(weeks)])
            # every key's fields go (another program may have deleted a result and left its fields)
            self.conn.executemany("DELETE FROM fields WHERE doc_id = ? AND pipeline = ?", list(last))
            self.conn.executemany(_INSERT_RESULT, results)
            self.conn.executemany("INSERT INTO fields (doc_id, pipeline, field, value, correct) VALUES (?, ?, ?, ?, ?)",
                                  fields)
        return len(chunk)

    @contextmanager
    def _writing(self) -> Iterator[None]:
        """A write transaction with the Writer's row in ``writing`` (the stale triggers stand aside: the Writer
        marks the weeks itself, once a batch), removed before the commit."""
        with transaction(self.conn):
            if self.summaries:
                self.conn.execute("INSERT INTO writing (token) VALUES ('harness')")
            yield
            if self.summaries:
                self.conn.execute("DELETE FROM writing")

    def refresh(self) -> int:
        """Recompute the summaries of the stale weeks (one transaction) with the Writer's ``summarise``; returns
        how many weeks. Without ``summarise`` the weeks stay stale (readers compute a stale week on demand: the
        same figures, slower)."""
        if not self.summaries or self.summarise is None:
            return 0
        week_summary = self.summarise
        with self._writing():
            weeks = [w for (w,) in self.conn.execute("SELECT week FROM stale ORDER BY week")]
            for week in weeks:
                body = week_summary(self.conn, week)
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


def ingest(log_path: str | Path, db_path: str | Path, field_schema: Mapping[str, FieldSpec] | None = None,
           batch: int = 5000, summarise: Summarise | None = None) -> int:
    """Validate and write every line of the JSONL result log ``log_path`` into ``db_path``; returns the number
    of records written. A bad line stops with ``file:line: field: problem`` after the lines before it are
    committed (rerunning after the fix rewrites them harmlessly)."""
    log_path = Path(log_path)
    if not log_path.is_file():
        raise HarnessInputError("result log not found", path=log_path)
    with database(db_path) as conn:
        writer, written = Writer(conn, field_schema, batch, summarise), 0
        try:
            for records in _validated(log_path, batch):
                written += writer.add(records)
        finally:
            writer.refresh()  # what was written (before a bad line too) is summarised
        return written


_RECORDS = None


def _validated(log_path: Path, batch: int) -> Iterator[list[ResultRecord]]:
    """The log's records, ``batch`` at a time, validated together (one call of the model's validator for the
    batch); a batch that fails is validated again line by line, so a bad line stops with its
    ``file:line: field: problem`` after the lines before it were yielded."""
    global _RECORDS
    from pydantic import TypeAdapter, ValidationError

    if _RECORDS is None:
        _RECORDS = TypeAdapter(list[ResultRecord])
    lines: list[tuple[int, dict]] = []
    for entry in iter_jsonl(log_path):
        lines.append(entry)
        if len(lines) >= batch:
            yield from _batch(log_path, lines, ValidationError)
            lines = []
    if lines:
        yield from _batch(log_path, lines, ValidationError)


def _batch(log_path: Path, lines: list[tuple[int, dict]], error) -> Iterator[list[ResultRecord]]:
    try:
        yield _RECORDS.validate_python([obj for _, obj in lines])
    except error:
        good = []
        for lineno, obj in lines:
            try:
                good.append(validate(ResultRecord, obj, path=log_path, line=lineno))
            except HarnessInputError:
                yield good
                raise
        yield good


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
