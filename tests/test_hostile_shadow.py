"""Hostile input to the parallel run and its comparison database (issue 25 items 4 and 5, issue 26 item 10):
scenarios that pass their ranges but ask for too much, numbers and dates past what the record and SQLite
take, foreign databases, ``--out`` naming a folder, unknown ``--set`` keys. Each gets exit 2 with one
``error:`` line naming the file and field, before anything is written; a large legal scenario runs in flat
memory."""

from __future__ import annotations

import json
import sqlite3
import tracemalloc

import pytest

from harness.errors import HarnessInputError
from harness.shadow.records import ResultRecord
from harness.shadow.scenario import MAX_DOCUMENTS, load_scenario

RECORD = {"doc_id": "d1", "pipeline": "llmops", "role": "shadow", "received_at": "2026-01-14T09:30:00+01:00",
          "latency_s": 2.5, "label": "invoice", "input_tokens": 900, "output_tokens": 100, "cost_usd": 0.25}


def refused(code: int, err: str, *needles: str) -> None:
    """Exit 2 with exactly one ``error:`` line, no traceback, that says each of ``needles``."""
    lines = [x for x in err.splitlines() if x.startswith("error:")]
    assert code == 2 and len(lines) == 1 and "Traceback" not in err, err
    for needle in needles:
        assert needle in lines[0], lines[0]


def scenario_file(tmp_path, text: str, name: str = "s.yaml"):
    path = tmp_path / name
    path.write_text(text)
    return path


def log_file(tmp_path, *records: dict, name: str = "log.jsonl"):
    path = tmp_path / name
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path


# ---------------------------------------------------------------------------------------------- item 4: cost
def test_a_scenario_is_bounded_by_the_documents_it_asks_for(tmp_path, cli):
    """104 weeks x 100,000 a day was in range field by field and grew past 3 GB: the total is bounded and the
    error says the bound; a year of TechCorp (50,000 a month) fits."""
    huge = scenario_file(tmp_path, "name: huge\nweeks: 104\ndocs_per_day: 100000\n")
    code, _, err = cli("shadow", "simulate", "--scenario", huge, "--out", tmp_path / "h.db", "--no-progress")
    refused(code, err, "s.yaml:3: docs_per_day:", "72,800,000 documents", f"at most {MAX_DOCUMENTS:,}")
    assert not (tmp_path / "h.db").exists()
    code, _, err = cli("shadow", "simulate", "--scenario", "clean-go", "--docs-per-day", "100000",
                       "--out", tmp_path / "h.db")
    refused(code, err, "--docs-per-day:", "5,600,000 documents")
    assert not (tmp_path / "h.db").exists()
    year = scenario_file(tmp_path, "name: year\nweeks: 52\ndocs_per_day: 1650\n", "year.yaml")
    assert load_scenario(year).spec.weeks * 7 * 1650 >= 12 * 50_000


def test_memory_stays_flat_on_a_large_legal_scenario(tmp_path, trained):
    """The day is generated, processed and written a chunk at a time: the peak of Python memory does not grow
    with the days simulated nor with the documents a day (before: a whole day of documents and records at once,
    5x the peak at 6x the documents; a year of 100,000 a day grew past 3 GB)."""
    from harness.golden import default_golden, load_golden_set
    from harness.pipelines import build_predictor
    from harness.shadow.db import Writer, open_db
    from harness.shadow.scenario import ScenarioFile
    from harness.shadow.simulate import simulate_day

    golden = load_golden_set(default_golden())
    mlops = build_predictor("mlops", golden, progress=lambda _: None).predictor

    def peak(docs_per_day: int, days: int) -> int:
        spec = ScenarioFile(name="mem", weeks=1, docs_per_day=docs_per_day,
                            events=[{"kind": "new_template_family", "day": 1, "share": 0.3}])
        conn = open_db(tmp_path / f"{docs_per_day}-{days}.db")
        writer = Writer(conn, golden.manifest.fields)
        tracemalloc.start()
        try:
            n = sum(simulate_day(spec, day, writer, mlops, None, golden.manifest.labels, chunk=40)
                    for day in range(1, days + 1))
            assert n == docs_per_day * days
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
            conn.close()

    try:
        peak(200, 1)  # caches (normalisers, regexes) warm up once
        small, longer, larger = peak(40, 1), peak(40, 3), peak(200, 1)
    finally:
        mlops.close()
    assert longer < 1.5 * small, (small, longer)  # 3x the days; growing with them would be about 3x
    assert larger < 2 * small, (small, larger)  # 5x the documents a day (before the fix: 5x the peak)


# ---------------------------------------------------------------------------------------------- item 5: scenario
@pytest.mark.parametrize("text, where", [
    ("start: 9999-12-27\n", "start:"),  # a Monday after the last day; before: OverflowError after 30 rows
    ("start: 9999-11-29\n", "start:"),  # its week runs past 9999-11-30
])
def test_a_stream_past_the_calendar_is_refused_before_anything_is_written(tmp_path, cli, text, where):
    path = scenario_file(tmp_path, "name: late\nweeks: 1\ndocs_per_day: 5\n" + text)
    code, _, err = cli("shadow", "simulate", "--scenario", path, "--out", tmp_path / "late.db", "--no-progress")
    refused(code, err, "s.yaml:4: " + where, "9999-11-30")
    assert not (tmp_path / "late.db").exists()
    ok = scenario_file(tmp_path, "name: ok\nweeks: 1\ndocs_per_day: 5\nstart: 9999-11-22\n", "ok.yaml")
    assert load_scenario(ok).spec.start.isoformat() == "9999-11-22"


@pytest.mark.parametrize("text, field, bound", [
    ("shadow: {latency_s: 1e308}", "shadow.latency_s", "3600"),
    ("shadow: {latency_s: 1.0e+308}", "shadow.latency_s", "3600"),
    ("shadow: {input_tokens: 100000000000000000000000}", "shadow.input_tokens", "10000000"),
    ("shadow: {output_tokens: 100000000000000000000000}", "shadow.output_tokens", "10000000"),
    ("shadow: {cost_per_doc: 1.0e+308}", "shadow.cost_per_doc", "10000"),
    ("production: {overhead_s: 1.0e+308}", "production.overhead_s", "3600"),
    ("production: {overhead_sd: 1.0e+308}", "production.overhead_sd", "3600"),
    ("production: {cost_per_doc: 1.0e+308}", "production.cost_per_doc", "10000"),
    ("events: [{kind: price_change, week: 1, factor: 1.0e+308}]", "events[0].factor", "1000"),
    ("events: [{kind: outage, week: 1000000000000}]", "events[0].week", "104"),
    ("events: [{kind: outage, day: 1, days: 1000000000000}]", "events[0].days", "728"),
    ("seed: " + "9" * 40, "seed", "9223372036854775807"),
])
def test_scenario_numbers_are_bounded_with_the_bound_in_the_error(tmp_path, cli, text, field, bound):
    path = scenario_file(tmp_path, "name: big\nweeks: 1\ndocs_per_day: 5\n" + text + "\n")
    code, _, err = cli("shadow", "simulate", "--scenario", path, "--out", tmp_path / "b.db", "--no-progress")
    refused(code, err, f"s.yaml:4: {field}:", bound)
    assert not (tmp_path / "b.db").exists()


def test_price_changes_that_stack_past_a_results_cost_are_refused(tmp_path, cli):
    path = scenario_file(tmp_path, "name: p\nweeks: 2\ndocs_per_day: 5\nevents:\n"
                         "  - {kind: price_change, week: 1, factor: 1000}\n"
                         "  - {kind: price_change, week: 2, factor: 1000}\n")
    code, _, err = cli("shadow", "simulate", "--scenario", path, "--out", tmp_path / "p.db", "--no-progress")
    refused(code, err, "s.yaml:4: events:", "$250,000.00", "$10,000")
    assert not (tmp_path / "p.db").exists()


def test_the_largest_legal_times_are_recorded_within_the_records_bound(tmp_path, cli, trained):
    """The slowest legal shadow (an hour, the widest spread, 1000x slower) draws times over a day: each is
    recorded as a day, the record's bound, and the run completes."""
    path = scenario_file(tmp_path, "name: slow\nweeks: 1\ndocs_per_day: 4\nshadow: {latency_s: 3600, "
                         "latency_spread: 2}\nevents:\n  - {kind: latency_degradation, day: 1, factor: 1000}\n"
                         "  - {kind: latency_degradation, day: 1, factor: 1000, pipeline: mlops}\n")
    db = tmp_path / "slow.db"
    code, _, err = cli("shadow", "simulate", "--scenario", path, "--out", db, "--no-progress")
    assert code == 0, err
    with sqlite3.connect(db) as c:
        assert c.execute("SELECT MAX(latency_s), COUNT(*) FROM results").fetchone() == (86_400.0, 56)
    assert cli("shadow", "dashboard", db)[0] == 0


# ---------------------------------------------------------------------------------------------- item 5: records
@pytest.mark.parametrize("change, field, needle", [
    ({"input_tokens": 10**23}, "input_tokens", "10000000"),  # before: OverflowError in SQLite
    ({"output_tokens": 10**19}, "output_tokens", "10000000"),
    ({"latency_s": 1e308}, "latency_s", "86400"),
    ({"cost_usd": 1e308}, "cost_usd", "10000"),
    ({"received_at": "9999-12-31T23:59:59-12:00"}, "received_at", "9999-11-30"),  # before: OverflowError
    ({"received_at": "0001-01-01T00:00:00+14:00"}, "received_at", "in UTC"),
    ({"received_at": "9999-12-27T10:00:00Z"}, "received_at", "9999-11-30"),  # ISO week 9999-W52 ends in 10000
])
def test_an_ingest_line_past_a_bound_is_refused_after_the_lines_before_it(tmp_path, cli, change, field, needle):
    log = log_file(tmp_path, RECORD, {**RECORD, "doc_id": "d2", **change})
    db = tmp_path / "c.db"
    code, _, err = cli("shadow", "ingest", log, "--db", db)
    refused(code, err, f"log.jsonl:2: {field}:", needle)
    with sqlite3.connect(db) as c:
        assert c.execute("SELECT doc_id FROM results").fetchall() == [("d1",)]  # nothing computed is lost
    for command in (("dashboard", db), ("decide", db), ("cutover", db, "--start", "2026-01-14")):
        assert cli("shadow", *command)[0] in (0, 1)


def test_the_record_bounds_hold_at_their_edges():
    for change in ({"latency_s": 86_400}, {"input_tokens": 10_000_000}, {"cost_usd": 10_000},
                   {"received_at": "9999-11-30T23:59:59Z"}, {"received_at": "0001-01-01T00:00:00Z"}):
        ResultRecord.model_validate({**RECORD, **change})


# ---------------------------------------------------------------------------------------------- foreign files
def foreign(tmp_path, name: str, statements: str, version: int):
    path = tmp_path / name
    with sqlite3.connect(path) as c:
        c.executescript(statements)
        c.execute(f"PRAGMA user_version = {version}")
    c.close()
    return path


@pytest.mark.parametrize("statements, version, needles", [
    ("CREATE TABLE results (a INTEGER);", 1, ("though it says schema 1", "missing tables: events, fields, meta",
                                               "table results lacks", "has a")),
    ("CREATE TABLE notes (a TEXT);", 1, ("tables not in the schema: notes",)),
    ("CREATE TABLE notes (a TEXT);", 0, ("tables not in the schema: notes",)),
    ("CREATE TABLE meta (key TEXT, value TEXT, extra TEXT);", 0, ("table meta has extra",)),
])
def test_a_database_with_another_programs_schema_is_refused_and_left_alone(tmp_path, cli, statements, version,
                                                                           needles):
    """One schema check when opening any existing file (before: sqlite3.OperationalError: no such column)."""
    path = foreign(tmp_path, "other.db", statements, version)
    before = path.read_bytes()
    log = log_file(tmp_path, RECORD)
    for args in (("ingest", log, "--db", path), ("dashboard", path), ("decide", path), ("cutover", path),
                 ("simulate", "--scenario", "clean-go", "--weeks", "2", "--docs-per-day", "2", "--out", path,
                  "--no-progress")):
        code, _, err = cli("shadow", *args)
        refused(code, err, f"{path}: not a comparison database", *needles)
    assert path.read_bytes() == before and not (tmp_path / "other.db-wal").exists()  # not even switched to WAL


def test_a_comparison_database_passes_the_schema_check(tmp_path, cli):
    from harness.shadow.db import open_db
    from harness.shadow.schema import expected_columns

    db = tmp_path / "ok.db"
    assert cli("shadow", "ingest", log_file(tmp_path, RECORD), "--db", db)[0] == 0
    conn = open_db(db, create=False)
    conn.close()
    assert expected_columns()["meta"] == ("key", "value") and "latency_s" in expected_columns()["results"]


# ---------------------------------------------------------------------------------------------- --out, --set
def test_dashboard_out_naming_a_directory_is_refused_before_the_work(tmp_path, cli):
    folder = tmp_path / "pages"
    folder.mkdir()
    code, _, err = cli("shadow", "dashboard", tmp_path / "absent.db", "--out", folder)
    refused(code, err, "--out: is a directory")  # checked first: not "no comparison database here"
    db = tmp_path / "c.db"
    assert cli("shadow", "ingest", log_file(tmp_path, RECORD), "--db", db)[0] == 0
    for fmt in ("html", "md"):
        code, _, err = cli("shadow", "dashboard", db, "--format", fmt, "--out", folder)
        refused(code, err, f"{folder}: --out: is a directory")
    assert list(folder.iterdir()) == []


def test_simulate_refuses_an_unknown_set_key_naming_it(tmp_path, cli):
    """Issue 26 item 10: ``--set totally.bogus=1`` exited 0."""
    db = tmp_path / "s.db"
    base = ("shadow", "simulate", "--scenario", "clean-go", "--weeks", "2", "--docs-per-day", "2", "--out", db,
            "--no-progress")
    code, _, err = cli(*base, "--set", "totally.bogus=1")
    refused(code, err, "--set: totally.bogus: unknown setting")
    code, _, err = cli(*base, "--shadow", "pipeline", "--set", "llm.temperature=0.1", "--set", "llm.colour=red")
    refused(code, err, "--set: llm.colour: unknown setting")
    code, _, err = cli(*base, "--set", "llm.temperature=0.1")  # a real key, but the simulated shadow ignores it
    refused(code, err, "--set:", "--shadow pipeline")
    assert not db.exists()


# ---------------------------------------------------------------------------------------------- foreign values
def comparison_db(tmp_path, name: str = "c.db"):
    """A small comparison database: a week of both pipelines, with gold, written by ``shadow ingest``."""
    from harness.cli import main

    records = [{**RECORD, "doc_id": f"d{day}-{i}", "pipeline": p, "role": "shadow" if p == "llmops" else "production",
                "received_at": f"2026-01-{12 + day:02d}T{9 + i:02d}:00:00Z", "gold_label": "invoice",
                "fields": {"vendor": "Acme"}, "gold_fields": {"vendor": "Acme"}}
               for day in range(7) for i in range(3) for p in ("mlops", "llmops")]
    db = tmp_path / name
    assert main(["shadow", "ingest", str(log_file(tmp_path, *records, name=name + ".jsonl")), "--db", str(db)]) == 0
    with sqlite3.connect(db) as c:
        c.executemany("INSERT INTO meta (key, value) VALUES (?, ?)", [("feedback", "4.5"), ("audit", "true")])
    c.close()
    return db


@pytest.mark.parametrize("statement, needle", [
    ("UPDATE results SET latency_s = 'abc' WHERE doc_id = 'd1-0'", "latency_s"),  # before: ValueError
    ("UPDATE results SET latency_s = 1e308 WHERE doc_id = 'd1-0'", "latency_s"),  # before: ValueError (arange)
    ("UPDATE results SET input_tokens = 9000000000000000000", "input_tokens"),  # a SUM overflows SQLite
    ("UPDATE results SET received_at = '2026-01-13T10:00:00' WHERE doc_id = 'd1-0'", "received_at"),  # naive
    ("UPDATE results SET week = '2026-W99' WHERE doc_id = 'd1-0'", "week"),  # before: ValueError in decide
    ("UPDATE results SET day = '9999-12-31', received_at = '9999-12-31T10:00:00.000000+00:00' "
     "WHERE doc_id = 'd1-0'", "day"),
    ("UPDATE results SET available = 'yes' WHERE doc_id = 'd1-0'", "available"),
    ("INSERT INTO events (ts, day, week, kind, detail) VALUES ('2026-01-13T09:00:00.000000+00:00', "
     "'2026-01-13', '2026-W03', 'outage', 'not json')", "detail"),
    ("UPDATE meta SET value = 'abc' WHERE key = 'feedback'", "feedback"),  # before: ValueError in decide
    ("INSERT INTO meta (key, value) VALUES ('projected_cost_per_doc', '1e999')", "projected_cost_per_doc"),
    ("UPDATE meta SET value = '[1]' WHERE key = 'audit'", "audit"),
])
def test_a_database_with_values_the_writer_never_writes_is_refused_on_reading(tmp_path, cli, statement, needle):
    """Another program wrote the file with this schema but its own values: each reading command names the file,
    the table and the column instead of a ValueError or TypeError deep in the dashboard."""
    db = comparison_db(tmp_path)
    for args in (("dashboard", db), ("decide", db), ("cutover", db, "--start", "2026-01-13")):
        assert cli("shadow", *args)[0] in (0, 1)
    with sqlite3.connect(db) as c:
        c.execute(statement)
    c.close()
    for args in (("dashboard", db), ("dashboard", db, "--format", "html", "--out", tmp_path / "d.html"),
                 ("decide", db), ("cutover", db, "--start", "2026-01-13")):
        code, _, err = cli("shadow", *args)
        refused(code, err, f"{db}: ", needle)



def test_a_damaged_database_file_is_refused_by_every_command(tmp_path, cli):
    """Bytes flipped past the first page: the schema check passes, SQLite fails while reading (before: a
    sqlite3.DatabaseError traceback)."""
    import random

    db = comparison_db(tmp_path)
    raw = bytearray(db.read_bytes())
    rng = random.Random(1)
    for _ in range(400):
        raw[rng.randrange(4096, len(raw))] = rng.randrange(256)
    db.write_bytes(bytes(raw))
    log = log_file(tmp_path, {**RECORD, "doc_id": "new"}, name="more.jsonl")
    for args in (("dashboard", db), ("decide", db), ("cutover", db, "--start", "2026-01-13"),
                 ("ingest", log, "--db", db)):
        code, _, err = cli("shadow", *args)
        refused(code, err, f"{db}: ")
