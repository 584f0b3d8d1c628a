"""The comparison database's week summaries (issue 32, row 4): the dashboard, the judge and decide read one row a
week, and every figure equals the one computed over every result by the SQL of before (the reference: the same
file without its summaries). Writes by another program mark their weeks stale (triggers); a file from before the
summaries is read as it is and upgraded when opened to write; the cutover's one pass equals the pass per step."""

from __future__ import annotations

import random
import shutil
import sqlite3
from collections import deque
from datetime import date, datetime, timedelta, timezone

import pytest

from harness.errors import HarnessInputError
from harness.shadow import cutover, dashboard, decide, judge
from harness.shadow.db import Writer, has_summaries, open_db
from harness.shadow.schema import SUMMARY_TABLES
from harness.shadow.records import ResultRecord

START = datetime(2026, 1, 5, 8, tzinfo=timezone.utc)
LABELS = ("invoice", "receipt", "contract", "letter")


def records(docs: int = 1500, days: int = 30, seed: int = 3, changed: float = 0.0):
    rng = random.Random(seed)
    for i in range(docs):
        at = START + timedelta(seconds=days * 86400 * i // docs)
        gold = {"vendor": f"v {rng.randrange(20)}", "total": f"{rng.randrange(10, 99)}.00",
                "codes": [f"c-{rng.randrange(5)}", f"d-{rng.randrange(5)}"]}
        gold_label = LABELS[rng.randrange(len(LABELS))]
        for pipeline in ("mlops", "llmops"):
            llm = pipeline == "llmops"
            rec = {"doc_id": f"d{i:05d}", "pipeline": pipeline, "role": "shadow" if llm else "production",
                   "received_at": at.isoformat(), "latency_s": round(rng.lognormvariate(0.2 if llm else -0.2, 0.3), 3),
                   "cost_usd": rng.choice((0.02, 0.021, 0.019)) if llm else 0.01, "input_tokens": 900 if llm else 0,
                   "gold_label": gold_label, "gold_fields": gold}
            if llm and (at - START).days == 11:
                rec.update(available=False, latency_s=0.0, cost_usd=None)
            elif rng.random() < 0.02:
                rec["error"] = "timeout"
            else:
                rec["label"] = gold_label if rng.random() < (0.9 - changed if llm else 0.88) else "letter"
                rec["fields"] = {k: (v if rng.random() < 0.85 else None) for k, v in gold.items()}
                rec["hallucinated"] = rng.random() < 0.03 if llm else None
                if llm and rng.random() < 0.01:
                    rec["guardrail_events"] = [{"policy": "pii", "action": "masked", "exposed": rng.random() < 0.3}]
            yield ResultRecord.model_validate(rec)


def everything(conn):
    """Every figure the readers give: weekly rows, every week's verdict, the decision."""
    rows = dashboard.weekly(conn)
    verdicts = judge.judge_all(conn, "week")
    return rows, {k: v.to_dict() for k, v in verdicts.items()}, decide.decide(conn)


def reference(path, tmp_path):
    """The same figures from a copy of the file without its summaries: the SQL over every result, as before."""
    copy = tmp_path / f"ref-{random.random()}.sqlite"
    src = sqlite3.connect(path)
    dst = sqlite3.connect(copy)
    src.backup(dst)
    src.close()
    for (name,) in dst.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'").fetchall():
        dst.execute(f"DROP TRIGGER {name}")
    for table in SUMMARY_TABLES:
        dst.execute(f"DROP TABLE {table}")
    dst.commit()
    dst.close()
    conn = open_db(copy, create=False)
    try:
        assert not has_summaries(conn)
        return everything(conn)
    finally:
        conn.close()


@pytest.fixture()
def db(tmp_path):
    path = tmp_path / "cmp.sqlite"
    conn = open_db(path)
    writer = Writer(conn, batch=700, summarise=judge.week_summary)
    writer.add(records())
    writer.add(list(records(docs=300, seed=9, changed=0.2))[:400])  # rewritten documents: replaced rows
    assert writer.refresh() == 5
    conn.close()
    return path


def test_the_summaries_give_every_figure_of_the_sql_over_every_result(db, tmp_path):
    conn = open_db(db, create=False)
    assert conn.execute("SELECT COUNT(*) FROM summaries").fetchone()[0] == 5
    assert conn.execute("SELECT COUNT(*) FROM stale").fetchone()[0] == 0
    got = everything(conn)
    conn.close()
    want = reference(db, tmp_path)
    assert got[0] == want[0]  # dataclass equality: every float to the last bit
    assert got[1] == want[1]
    assert got[2] == want[2]
    assert dashboard.table(got[0], "md") == dashboard.table(want[0], "md")
    assert {r.period for r in got[0]} == {"2026-W02", "2026-W03", "2026-W04", "2026-W05", "2026-W06"}


def test_another_programs_writes_mark_their_weeks_stale(db, tmp_path):
    with sqlite3.connect(db) as c:  # with this schema, by hand: no Writer
        touched = sorted({w for (w,) in c.execute("SELECT week FROM results WHERE doc_id IN ('d00100', 'd01400', "
                                                   "'d00700')")})
        assert len(touched) == 3
        c.execute("UPDATE results SET label = 'receipt', label_correct = 0 WHERE doc_id = 'd00100' "
                  "AND pipeline = 'llmops'")
        c.execute("DELETE FROM results WHERE doc_id = 'd01400'")
        c.execute("DELETE FROM fields WHERE doc_id = 'd00700' AND pipeline = 'mlops'")
        stale = sorted(w for (w,) in c.execute("SELECT week FROM stale"))
    c.close()
    assert stale == touched
    conn = open_db(db, create=False)
    got = everything(conn)  # stale weeks computed on demand
    conn.close()
    assert got == reference(db, tmp_path)
    conn = open_db(db)
    assert Writer(conn, summarise=judge.week_summary).refresh() == 3
    got = everything(conn)
    conn.close()
    assert got == reference(db, tmp_path)


def test_a_file_from_before_the_summaries_is_read_and_upgraded(db, tmp_path):
    want = reference(db, tmp_path)
    old = tmp_path / "old.sqlite"
    shutil.copy(db, old)
    with sqlite3.connect(old) as c:
        for (name,) in c.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'").fetchall():
            c.execute(f"DROP TRIGGER {name}")
        for table in SUMMARY_TABLES:
            c.execute(f"DROP TABLE {table}")
    c.close()
    conn = open_db(old, create=False)  # read as it is: nothing written
    assert not has_summaries(conn) and everything(conn) == want
    conn.close()
    conn = open_db(old)  # opened to write: the summaries' tables, every week stale
    assert has_summaries(conn) and conn.execute("SELECT COUNT(*) FROM stale").fetchone()[0] == 5
    assert everything(conn) == want
    Writer(conn, summarise=judge.week_summary).refresh()
    assert everything(conn) == want
    conn.close()


def test_a_summary_another_program_wrote_is_refused(db, tmp_path, cli):
    with sqlite3.connect(db) as c:
        c.execute("UPDATE summaries SET body = json_set(body, '$.judge.counts.mlops.n', 'many') "
                  "WHERE week = '2026-W03'")
    c.close()
    conn = open_db(db, create=False)
    with pytest.raises(HarnessInputError, match="table summaries, row '2026-W03'"):
        dashboard.weekly(conn)
    conn.close()
    with sqlite3.connect(db) as c:
        c.execute("UPDATE summaries SET body = 'not json' WHERE week = '2026-W03'")
    c.close()
    code, _, err = cli("shadow", "dashboard", db)
    assert code == 2 and "summaries" in err and "body" in err and "Traceback" not in err, err
    with sqlite3.connect(db) as c:
        c.execute("DROP TRIGGER fields_delete_stale")
    c.close()
    code, _, err = cli("shadow", "dashboard", db)
    assert code == 2 and "missing triggers: fields_delete_stale" in err, err


def _records_reference(conn, first, last, share_on):
    """The cutover's monitoring records as computed before: the trailing 24 hours summed anew per record."""
    rows = conn.execute(
        "SELECT l.doc_id, l.received_at, l.available, l.label_correct, l.hallucinated, l.pii_exposed, l.cost_usd, "
        "m.label_correct FROM results l LEFT JOIN results m ON m.doc_id = l.doc_id AND m.pipeline = 'mlops' "
        "WHERE l.pipeline = 'llmops' AND l.day BETWEEN ? AND ? ORDER BY l.received_at", (first, last)).fetchall()
    day = timedelta(hours=24)
    mine, base, out = deque(), deque(), []
    for doc_id, ts, available, correct, halluc, exposed, cost, base_ok in rows:
        t = datetime.fromisoformat(ts)
        if base_ok is not None:
            base.append((t, base_ok))
        while base and t - base[0][0] > day:
            base.popleft()
        rec = {"timestamp": ts, "_ts": t, "available": bool(available)}
        out.append(rec)
        if not cutover.served(doc_id, share_on(ts[:10])):
            continue
        rec.update({"served": True, "pii_exposure": bool(exposed), "cost": cost})
        if correct is not None and available:
            mine.append((t, correct))
        while mine and t - mine[0][0] > day:
            mine.popleft()
        if len(mine) >= cutover.MIN_ACCURACY_RECORDS and base:
            rec["accuracy"] = sum(v for _, v in mine) / len(mine)
            rec["baseline_accuracy"] = sum(v for _, v in base) / len(base)
        if halluc is not None:
            rec["hallucination_rate"] = float(halluc)
    return out


def test_the_cutovers_one_pass_equals_the_pass_per_step(db):
    conn = open_db(db, create=False)
    start = date(2026, 1, 6)

    def share_on(day_text):
        n = (date.fromisoformat(day_text) - start).days + 1
        return max((s for d, s in cutover.RAMP if d <= n), default=0.0)

    whole = cutover._records(conn, "2026-01-06", "2026-01-25", share_on)
    assert whole == _records_reference(conn, "2026-01-06", "2026-01-25", share_on)
    part = _records_reference(conn, "2026-01-06", "2026-01-12", share_on)
    assert whole[:len(part)] == part and len(part) < len(whole)  # a step's records: a prefix of the ramp's
    result = cutover.cutover(conn, start)
    conn.close()
    assert result.status == "rolled back" and result.trigger  # the outage of day 11
