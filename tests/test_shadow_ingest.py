"""The ingest of a result log (harness/shadow/ingest.py): prepared in worker processes it writes the same
database as in this process, and a bad line stops it at the same place either way, the lines before it kept."""

from __future__ import annotations

import json
import sqlite3

import pytest

from harness.errors import HarnessInputError
from harness.golden import FieldSpec
from harness.shadow.ingest import ingest
from harness.shadow.judge import week_summary
from test_shadow_db import make_records, write_jsonl

SCHEMA = {"vendor": FieldSpec("vendor", "string"), "codes": FieldSpec("codes", "list")}


def _contents(path) -> list:
    conn = sqlite3.connect(path)
    try:
        return [conn.execute(f"SELECT * FROM {table} ORDER BY {order}").fetchall()
                for table, order in (("results", "1, 2"), ("fields", "1, 2, 3"), ("summaries", "1"), ("stale", "1"))]
    finally:
        conn.close()


@pytest.mark.parametrize("schema", [None, SCHEMA], ids=["plain", "golden"])
def test_worker_processes_write_the_same_database_as_one_process(tmp_path, schema):
    records = make_records(docs_per_day=8, weeks=3)
    log = tmp_path / "log.jsonl"
    write_jsonl(log, records + records[:7])  # a rewrite of earlier records, in a later batch
    one = ingest(log, tmp_path / "one.sqlite", schema, batch=40, summarise=week_summary, processes=0)
    two = ingest(log, tmp_path / "two.sqlite", schema, batch=40, summarise=week_summary, processes=2)
    assert one == two == len(records) + 7
    contents = _contents(tmp_path / "one.sqlite")
    assert contents == _contents(tmp_path / "two.sqlite")
    results, fields, summaries, stale = contents
    assert len(results) == len(records) and fields and len(summaries) == 3 and not stale


@pytest.mark.parametrize("processes", [0, 2])
@pytest.mark.parametrize("bad_line, where", [("{not json", r"log.jsonl:58: broken JSON"),
                                             ('{"doc_id": ""}', r"log.jsonl:58: doc_id: "),
                                             ('{"doc_id": "' + "x" * 5000 + '"}',
                                              r"log.jsonl:58: line longer than 2,000 bytes")],
                         ids=["json", "field", "too-long"])
def test_a_bad_line_keeps_every_line_before_it_even_in_its_batch(tmp_path, monkeypatch, processes, bad_line, where):
    monkeypatch.setattr("harness.files.MAX_JSONL_LINE_BYTES", 2000)  # read in this process: workers get lines
    records = make_records(docs_per_day=4, weeks=3)
    log = tmp_path / "log.jsonl"
    lines = [json.dumps(r) for r in records[:57]] + [bad_line] + [json.dumps(r) for r in records[57:]]
    log.write_text("\n".join(lines) + "\n", encoding="utf-8")
    db = tmp_path / "cmp.sqlite"
    with pytest.raises(HarnessInputError, match=where):
        ingest(log, db, batch=20, summarise=week_summary, processes=processes)
    results, _, summaries, stale = _contents(db)
    assert len(results) == 57  # lines 41-57 share the bad line's batch, and are kept
    assert summaries and not stale  # what was written is summarised


def test_a_summarise_no_worker_can_receive_runs_here(tmp_path):
    records = make_records(docs_per_day=3, weeks=3)
    log = tmp_path / "log.jsonl"
    write_jsonl(log, records)
    calls = []

    def summarise(conn, week):  # a closure: it cannot be sent to a worker process
        calls.append(week)
        return week_summary(conn, week)

    ingest(log, tmp_path / "a.sqlite", batch=30, summarise=summarise, processes=2)
    ingest(log, tmp_path / "b.sqlite", batch=30, summarise=week_summary, processes=2)
    assert calls == ["2026-W02", "2026-W03", "2026-W04"]
    assert _contents(tmp_path / "a.sqlite") == _contents(tmp_path / "b.sqlite")


@pytest.mark.skipif(not __import__("os").path.isdir("/proc/self/task"),
                    reason="Linux's /proc: elsewhere free_cores counts every core as free")
def test_free_cores_can_leave_out_this_process_own_running_threads():
    """``free_cores(own_threads=False)`` (the spread decisions) takes this process's own running threads out of the
    machine's running count: a thread pool an import had just started spun for a moment, counted as another task,
    and ``harness shadow ingest`` stayed in one process on an idle machine (a 300,000-record log: 21 s, 12 s
    spread)."""
    import threading

    import numpy as np

    from harness.models.llm import _own_running

    assert _own_running() >= 1  # this reader itself
    stop = threading.Event()
    big = np.random.default_rng(0).random(1_000_000)

    def spin() -> None:
        while not stop.is_set():
            np.sort(big)  # releases the GIL: the thread runs while this one reads /proc

    thread = threading.Thread(target=spin)
    thread.start()
    try:
        seen = []
        for _ in range(40):
            seen.append(_own_running())
            stop.wait(0.005)
    finally:
        stop.set()
        thread.join()
    assert max(seen) >= 2
