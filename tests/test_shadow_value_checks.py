"""Which rows of a comparison database the readers check (harness.shadow.schema.check_values): the rows no
writer has checked, those of the stale weeks (marked by the triggers for another program's writes) and those
without a week, every row when the triggers may have stood aside; and the Writer's refresh, which checks a
week's rows before it summarises the week and clears it."""

from __future__ import annotations

import sqlite3

import pytest

from test_hostile_shadow import RECORD, comparison_db, log_file, refused


def test_another_programs_row_is_checked_until_an_ingest_checks_it(tmp_path, cli):
    """Readers check only the rows of the stale weeks (the rows no writer has checked): another program's bad
    row marks its week stale, so the readers find it; the next ingest's refresh checks that week's rows before
    it summarises it and clears it, so it refuses too (exit 2 naming the row), and the week stays stale for the
    readers to refuse it again."""
    db = comparison_db(tmp_path)
    with sqlite3.connect(db) as c:
        assert c.execute("SELECT COUNT(*) FROM stale").fetchone()[0] == 0  # the ingest summarised every week
        c.execute("UPDATE results SET latency_s = -1 WHERE doc_id = 'd1-0'")
        assert c.execute("SELECT week FROM stale").fetchall() == [("2026-W03",)]
    c.close()
    refused(*cli("shadow", "dashboard", db)[::2], "row 'd1-0 ", "latency_s")
    other = log_file(tmp_path, {**RECORD, "doc_id": "new", "received_at": "2026-03-02T09:00:00Z"}, name="more.jsonl")
    refused(*cli("shadow", "ingest", other, "--db", db)[::2], f"{db}: ", "row 'd1-0 ", "latency_s")
    with sqlite3.connect(db) as c:  # the new record is written (its batch committed) and both weeks stay stale
        assert c.execute("SELECT COUNT(*) FROM results WHERE doc_id = 'new'").fetchone()[0] == 1
        assert {w for (w,) in c.execute("SELECT week FROM stale")} == {"2026-W03", "2026-W10"}
    c.close()
    refused(*cli("shadow", "decide", db)[::2], "row 'd1-0 ", "latency_s")


@pytest.mark.parametrize("many", [False, True], ids=["one-stale-week", "every-week-stale"])
def test_the_stale_weeks_rows_are_checked_by_index_or_by_a_pass(tmp_path, cli, many):
    """A few stale weeks are found through the week index, many by a pass over the table: the same bad row."""
    records = [{**RECORD, "doc_id": f"d{week}", "pipeline": p, "role": "shadow" if p == "llmops" else "production",
                "received_at": f"2026-{1 + week // 4:02d}-{5 + 7 * (week % 4):02d}T10:00:00Z"}
               for week in range(8) for p in ("mlops", "llmops")]
    db = tmp_path / "c.db"
    assert cli("shadow", "ingest", log_file(tmp_path, *records), "--db", db)[0] == 0
    with sqlite3.connect(db) as c:
        assert c.execute("SELECT COUNT(*) FROM summaries").fetchone()[0] == 8
        c.execute("UPDATE results SET available = 'yes' WHERE doc_id = 'd6' AND pipeline = 'mlops'")
        if many:  # as after opening a file from before the summaries to write: every week stale
            c.execute("INSERT OR IGNORE INTO stale SELECT DISTINCT week FROM results")
            c.execute("DELETE FROM summaries")
    c.close()
    from harness.shadow.schema import unchecked_results

    conn = sqlite3.connect(db)
    assert unchecked_results(conn) == [("+" if many else "") + "week IN (SELECT week FROM stale)", "week IS NULL"]
    conn.close()
    refused(*cli("shadow", "dashboard", db)[::2], "row 'd6 mlops'", "available")


def test_a_committed_writer_row_means_every_row_is_checked(tmp_path, cli):
    """A row left in ``writing`` sets the triggers aside (as inside the Writer's own transaction): another
    program's writes are then not marked, so the readers check every row, stale or not."""
    db = comparison_db(tmp_path)
    with sqlite3.connect(db) as c:
        c.execute("INSERT INTO writing (token) VALUES ('other')")
        c.execute("UPDATE results SET week = '2026-W99' WHERE doc_id = 'd2-1' AND pipeline = 'llmops'")
        assert c.execute("SELECT COUNT(*) FROM stale").fetchone()[0] == 0  # the trigger stood aside
    c.close()
    from harness.shadow.schema import unchecked_results

    conn = sqlite3.connect(db)
    assert unchecked_results(conn) == [""]
    conn.close()
    refused(*cli("shadow", "dashboard", db)[::2], "row 'd2-1 llmops'", "week")


def test_a_row_without_a_week_is_checked_in_a_file_that_allows_one(tmp_path, cli):
    """A file made elsewhere with this schema's columns but ``week`` nullable: a row whose week is set to NULL is
    in no stale week (the trigger cannot mark NULL); the readers and the refresh check such rows apart."""
    from harness.shadow.schema import SCHEMA, SUMMARY_SCHEMA

    made = comparison_db(tmp_path)
    db = tmp_path / "elsewhere.db"
    c = sqlite3.connect(db)
    c.executescript(SCHEMA.replace("week TEXT NOT NULL", "week TEXT") + SUMMARY_SCHEMA + "PRAGMA user_version = 1;")
    c.execute("ATTACH ? AS made", (str(made),))
    for table in ("results", "fields", "meta", "summaries"):
        c.execute(f"INSERT INTO main.{table} SELECT * FROM made.{table}")
    c.execute("UPDATE results SET week = NULL, latency_s = 'fast' WHERE doc_id = 'd1-0' AND pipeline = 'mlops'")
    c.commit()
    assert c.execute("SELECT COUNT(*) FROM stale WHERE week IS NULL").fetchone()[0] == 0
    c.close()
    refused(*cli("shadow", "dashboard", db, "--period", "day")[::2], "row 'd1-0 mlops'", "week")
    other = log_file(tmp_path, {**RECORD, "doc_id": "new", "received_at": "2026-03-02T09:00:00Z"}, name="more.jsonl")
    refused(*cli("shadow", "ingest", other, "--db", db)[::2], "row 'd1-0 mlops'", "week")
    refused(*cli("shadow", "decide", db)[::2], "row 'd1-0 mlops'", "week")


def test_a_row_left_in_writing_makes_the_next_ingest_check_every_week(tmp_path, cli):
    """Writes made while another program's row sat in ``writing`` were not marked; the next ingest does not just
    remove that row (the readers would then check only the stale weeks): it marks every week stale first, so its
    refresh checks them all, and refuses the bad row."""
    db = comparison_db(tmp_path)
    with sqlite3.connect(db) as c:
        c.execute("INSERT INTO writing (token) VALUES ('other')")
        c.execute("UPDATE results SET latency_s = 'fast' WHERE doc_id = 'd2-1' AND pipeline = 'llmops'")
    c.close()
    other = log_file(tmp_path, {**RECORD, "doc_id": "new", "received_at": "2026-03-02T09:00:00Z"}, name="more.jsonl")
    refused(*cli("shadow", "ingest", other, "--db", db)[::2], "row 'd2-1 llmops'", "latency_s")
    with sqlite3.connect(db) as c:
        assert c.execute("SELECT COUNT(*) FROM writing").fetchone()[0] == 0
        assert {w for (w,) in c.execute("SELECT week FROM stale")} == {"2026-W03", "2026-W10"}
    c.close()
    refused(*cli("shadow", "dashboard", db, "--period", "day")[::2], "row 'd2-1 llmops'", "latency_s")


def test_a_bad_log_line_and_another_programs_bad_row_are_both_said(tmp_path, cli):
    """The log's bad line stops the ingest; the refresh after it finds another program's bad row: one error line
    names both (before: the row's error alone, the log's line lost)."""
    db = comparison_db(tmp_path)
    with sqlite3.connect(db) as c:
        c.execute("UPDATE results SET latency_s = 'fast' WHERE doc_id = 'd2-1' AND pipeline = 'llmops'")
    c.close()
    log = log_file(tmp_path, {**RECORD, "doc_id": "ok"}, {**RECORD, "doc_id": "bad", "latency_s": "slow"},
                   name="more.jsonl")
    refused(*cli("shadow", "ingest", log, "--db", db)[::2], "more.jsonl:2: latency_s", "row 'd2-1 llmops'",
            "the weeks stay stale")


def test_a_document_id_with_a_nul_character_is_written_again_in_place(tmp_path, cli):
    """The writer finds a batch's documents already there by bound parameters (``json_each`` cut a text at a NUL:
    the second ingest of the same record failed on the fields' primary key)."""
    db = tmp_path / "c.db"
    log = log_file(tmp_path, {**RECORD, "doc_id": "a\u0000b", "fields": {"vendor": "Acme"},
                              "gold_fields": {"vendor": "Acme"}})
    for _ in range(2):
        assert cli("shadow", "ingest", log, "--db", db)[0] == 0
    with sqlite3.connect(db) as c:
        assert c.execute("SELECT doc_id, COUNT(*) FROM fields GROUP BY doc_id").fetchall() == [("a\x00b", 1)]
    c.close()
