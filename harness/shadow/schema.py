"""The comparison database's schema (:mod:`harness.shadow.db` opens and writes it): the tables, indexes and
triggers as SQL, the summaries' part added later to schema 1, and the checks a file must pass before anything
is read from or written to it (its tables, columns, indexes and triggers, then the values the readers compute
with that no writer has checked, naming table, column and row: :func:`check_values`).

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
from functools import lru_cache
from pathlib import Path
from typing import Any

from harness.errors import HarnessInputError
from harness.files import loads_json
from harness.shadow.records import LAST_DAY, MAX_COST_USD, MAX_LATENCY_S, MAX_TOKENS

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


def schema_statements(script: str) -> list[str]:
    """The statements of a schema script (a trigger's body holds semicolons: split where sqlite3 says a
    statement is complete)."""
    out, current = [], ""
    for line in script.splitlines(keepends=True):
        current += line
        if sqlite3.complete_statement(current):
            out.append(current.strip())
            current = ""
    return [s for s in out if s.strip(" ;\n")]



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
    the first row that differs. The ``fields`` table is only counted, never computed with, and is not read here.

    Of ``results``, the rows no writer has checked (:func:`unchecked_results`): in a file that keeps the
    summaries, the rows of the stale weeks (a row written since the last refresh, by the Writer or by another
    program through the triggers, is in one; :meth:`~harness.shadow.db.Writer.refresh` checks a week's rows
    before it summarises the week and clears it), else every row (one pass: about 2.4 s at 600,000 rows)."""
    have = {n for (n,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    for table in VALUE_CHECKS:
        if table in have:  # (the summaries of a file written before them are not)
            for where in unchecked_results(conn) if table == "results" else [""]:
                check_rows(conn, path, table, where)
    values = dict(conn.execute("SELECT key, value FROM meta WHERE key IN ('audit', 'feedback', "
                               "'projected_cost_per_doc')"))
    for key, (low, high) in META_CHECKS.items():
        value = _meta_value(values.get(key, "null"))
        if value is not None and not (isinstance(value, (int, float)) and not isinstance(value, bool)
                                      and low <= value <= high):
            raise HarnessInputError(f"meta {key} is {str(values[key])[:40]!r}, not a number {low}-{high:,}", path=path)
    if _meta_value(values.get("audit", "null")) not in (None, True, False):
        raise HarnessInputError(f"meta audit is {values['audit'][:40]!r}, not true, false or null", path=path)


def check_rows(conn: sqlite3.Connection, path: str | Path, table: str, where: str = "") -> None:
    """The rows of ``table`` (those meeting the SQL condition ``where``; every row when empty) hold only values the
    writer writes (:data:`VALUE_CHECKS`), else exit 2 naming the file, the table, the row and its first column
    that differs. One pass over those rows."""
    first_bad = " ".join(f"WHEN NOT coalesce({sql}, 0) THEN '{column}'" for column, sql in VALUE_CHECKS[table])
    key = {"results": "doc_id || ' ' || pipeline", "events": "id", "summaries": "week"}.get(table, "key")
    row = conn.execute(f"SELECT {key}, CASE {first_bad} END AS bad FROM {table} WHERE "
                       f"{f'({where}) AND ' if where else ''}bad IS NOT NULL LIMIT 1").fetchone()
    if row is not None:
        raise HarnessInputError(f"table {table}, row {str(row[0])[:80]!r}: {row[1]} holds a value this harness "
                                "never writes (wrong type, out of bounds or malformed)", path=path)


def unchecked_results(conn: sqlite3.Connection) -> list[str]:
    """SQL conditions on the ``results`` rows no writer has checked, each row meeting one: the rows of the stale
    weeks and those without a week (:func:`stale_rows`) in a file that keeps the summaries, whose triggers mark
    every week another program writes (:func:`check_schema` has found them word for word), with no row
    committed in ``writing`` (which would set them aside); else every row (``[""]``). A program that writes with
    the triggers switched off for its connection (SQLite's ``SQLITE_DBCONFIG_ENABLE_TRIGGER``) is not seen: the
    check trusts the triggers, as the summaries do."""
    if not has_summaries(conn) or conn.execute("SELECT 1 FROM writing LIMIT 1").fetchone():
        return [""]
    return stale_rows(conn)


def has_summaries(conn: sqlite3.Connection) -> bool:
    """Whether the file keeps the periods' summaries (files written before them do not)."""
    have = {n for (n,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    return set(SUMMARY_TABLES) <= have


def stale_rows(conn: sqlite3.Connection) -> list[str]:
    """SQL conditions on the ``results`` rows of the stale weeks, found through the week index when they are few
    (one week of a year's rows: 0.1 s), by a pass over the table when they are many (faster than the index then);
    and on the rows without a week (in no week, so never marked: a file made elsewhere may allow them; a query
    of its own, so that each uses the index)."""
    stale, kept = conn.execute("SELECT (SELECT COUNT(*) FROM stale), (SELECT COUNT(*) FROM summaries)").fetchone()
    return [f"{'+' if 4 * stale > stale + kept else ''}week IN (SELECT week FROM stale)", "week IS NULL"]


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


def check_schema(conn: sqlite3.Connection, path: Path, *, complete: bool) -> None:
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


