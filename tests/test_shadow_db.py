"""The parallel run's comparison database (harness/shadow): the record format, ingest, the SQL dashboard checked
against figures computed here in plain Python from the same records, WAL readers, and the weekly judge."""

from __future__ import annotations

import json
import math
import random
import sqlite3
from datetime import datetime, timedelta, timezone

import pytest

from harness.errors import HarnessInputError
from harness.golden import FieldSpec
from harness.shadow import dashboard, judge
from harness.shadow.db import Writer, open_db
from harness.shadow.ingest import ingest
from harness.shadow.records import ResultRecord

START = datetime(2026, 1, 5, tzinfo=timezone.utc)  # the Monday of ISO week 2026-W02
CLEAN, BAD, OUTAGE, EMPTY = "2026-W02", "2026-W03", "2026-W04", "2026-W05"
LABELS = ("invoice", "receipt", "contract", "letter")
VENDORS = ("acme corp", "globex", "initech ltd", "umbrella")
CODES = ("a-1", "b-2", "c-3", "d-4", "e-5")


def _variant(rng: random.Random, value: str) -> str:
    """The same value as a pipeline may write it: case and spacing differ, the normalised text does not."""
    return rng.choice([value, value.upper(), "  " + value.replace(" ", "   ") + " "])


def _result(rng: random.Random, pipeline: str, week: int, day: int, base: dict) -> dict:
    llm = pipeline == "llmops"
    rec = {**base, "pipeline": pipeline, "role": "shadow" if llm else "production",
           "latency_s": round(rng.lognormvariate(0.2 if llm else -0.2, 0.3), 4),
           "cost_usd": round(0.015 + rng.random() * 0.01, 5) if llm else 0.01,
           "input_tokens": 900 if llm else 0, "output_tokens": 120 if llm else 0,
           "model_version": "claude-3-haiku" if llm else "mlops-1.4", "hallucinated": (rng.random() < 0.01) if llm
           else None}
    if llm and week == 2 and day % 7 == 2:  # OUTAGE week, Wednesday: LLMOps down all day
        return {**rec, "available": False, "latency_s": 0.0, "cost_usd": None, "hallucinated": None}
    if rng.random() < 0.015:
        return {**rec, "error": "timeout", "label": None}
    p_label = (0.70 if week == 1 else 0.95) if llm else 0.92  # LLMOps much worse in the BAD week
    gold = base["gold_fields"]
    rec["label"] = base["gold_label"] if rng.random() < p_label else \
        rng.choice([x for x in LABELS if x != base["gold_label"]])
    fields = {"vendor": _variant(rng, gold["vendor"]) if rng.random() < (0.93 if llm else 0.9) else "wrong co",
              "total": gold["total"] if rng.random() < 0.9 else "1.00",
              "codes": list(reversed(gold["codes"])) if rng.random() < 0.9 else ["z-9"]}
    if rng.random() < 0.1:
        fields["vendor"] = None
    rec["fields"] = fields
    if llm and rng.random() < 0.05:
        rec["guardrail_events"] = [{"policy": "pii", "action": "masked", "exposed": False}]
    return rec


def make_records(docs_per_day: int = 30, weeks: int = 3, seed: int = 0) -> list[dict]:
    """Both pipelines on the same documents, with gold: a clean week, a week where LLMOps labels badly, a week
    with a day-long LLMOps outage and one PII exposure."""
    rng = random.Random(seed)
    out = []
    for day in range(7 * weeks):
        for i in range(docs_per_day):
            received = START + timedelta(days=day, minutes=47 * i, seconds=rng.randint(0, 59))
            base = {"doc_id": f"d{day:03d}-{i:03d}", "received_at": received.isoformat(),
                    "gold_label": rng.choice(LABELS),
                    "gold_fields": {"vendor": rng.choice(VENDORS), "total": f"{rng.randint(10, 999)}.00",
                                    "codes": sorted(rng.sample(CODES, 2)), "po_number": None}}
            out += [_result(rng, p, day // 7, day, base) for p in ("mlops", "llmops")]
    exposed = next(r for r in out if r["pipeline"] == "llmops" and r["doc_id"].startswith("d015"))
    exposed["guardrail_events"] = [{"policy": "pii", "action": "none", "exposed": True}]
    return out


def write_jsonl(path, records) -> None:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")


@pytest.fixture(scope="module")
def records():
    return make_records()


@pytest.fixture
def db(tmp_path, records):
    log = tmp_path / "results.jsonl"
    write_jsonl(log, records)
    path = tmp_path / "cmp.sqlite"
    assert ingest(log, path, batch=200) == len(records)
    return path


# ---------------------------------------------------------------------------------------------- independent figures
def _norm(value):
    if value is None:
        return None
    if isinstance(value, list):
        return tuple(sorted(" ".join(v.split()).casefold() for v in value))
    return " ".join(value.split()).casefold() or None


def _week(rec) -> str:
    iso = datetime.fromisoformat(rec["received_at"]).astimezone(timezone.utc).isocalendar()
    return f"{iso.year}-W{iso.week:02d}"


def _mean(xs):
    xs = list(xs)
    return sum(xs) / len(xs) if xs else None


def expected(records, week: str, pipeline: str) -> dict:
    rs = [r for r in records if _week(r) == week and r["pipeline"] == pipeline]
    up = [r for r in rs if r.get("available", True)]
    lat = sorted(r["latency_s"] for r in up)
    right = total = 0
    for r in up:
        pred = r.get("fields") or {}
        for k, g in r["gold_fields"].items():
            if g is not None:
                total += 1
                right += _norm(pred.get(k)) == _norm(g)
    return {"classification_match": _mean(r.get("label") == r["gold_label"] for r in up),
            "extraction_match": right / total, "latency_p95": lat[math.ceil(0.95 * len(lat)) - 1],
            "latency_mean": _mean(lat), "cost_per_doc": _mean(r["cost_usd"] for r in rs if r["cost_usd"] is not None),
            "error_rate": _mean(bool(r.get("error")) or not r.get("available", True) for r in rs), "n": len(rs),
            "pii_exposures": sum(e["exposed"] for r in rs for e in r.get("guardrail_events", []))}


def expected_agreement(records, week: str) -> tuple[float, float]:
    by_doc: dict[str, dict] = {}
    for r in records:
        by_doc.setdefault(r["doc_id"], {})[r["pipeline"]] = r
    labels, fields = [], []
    for pair in by_doc.values():
        m, l = pair["mlops"], pair["llmops"]
        if _week(m) != week:
            continue
        if m.get("label") is not None and l.get("label") is not None:
            labels.append(m["label"] == l["label"])
        if all(x.get("available", True) and not x.get("error") for x in (m, l)):
            for k in set(m["fields"]) | set(l["fields"]):
                a, b = _norm(m["fields"].get(k)), _norm(l["fields"].get(k))
                if a is not None or b is not None:
                    fields.append(a == b)
    return _mean(labels), _mean(fields)


# ---------------------------------------------------------------------------------------------- tests
def test_dashboard_equals_figures_computed_in_python(db, records):
    conn = open_db(db, create=False)
    rows = {r.period: r for r in dashboard.weekly(conn)}
    assert list(rows) == [CLEAN, BAD, OUTAGE]
    for week, row in rows.items():
        for pipeline in ("mlops", "llmops"):
            got = getattr(row, pipeline)
            for key, value in expected(records, week, pipeline).items():
                assert getattr(got, key) == pytest.approx(value), (week, pipeline, key)
        labels, fields = expected_agreement(records, week)
        assert row.label_agreement == pytest.approx(labels) and row.field_agreement == pytest.approx(fields)
    assert rows[OUTAGE].llmops.pii_exposures == 1 and rows[OUTAGE].llmops.n_processed == rows[OUTAGE].llmops.n - 30
    days = dashboard.weekly(conn, "day")
    assert len(days) == 21 and sum(d.mlops.n for d in days) == sum(r.mlops.n for r in rows.values())
    conn.close()


def test_ingest_is_idempotent_and_replaces_a_record(db, records, tmp_path):
    conn = open_db(db)
    before = conn.execute("SELECT COUNT(*) FROM results").fetchone()[0], \
        conn.execute("SELECT COUNT(*) FROM fields").fetchone()[0]
    log = tmp_path / "again.jsonl"
    changed = {**records[0], "fields": {"vendor": "other"}, "label": "letter"}
    write_jsonl(log, records[:50] + [changed])
    ingest(log, db)
    after = conn.execute("SELECT COUNT(*) FROM results").fetchone()[0]
    assert after == before[0] == len(records)
    assert conn.execute("SELECT label FROM results WHERE doc_id = ? AND pipeline = ?",
                        (changed["doc_id"], changed["pipeline"])).fetchone() == ("letter",)
    fields = conn.execute("SELECT field, value FROM fields WHERE doc_id = ? AND pipeline = ? AND value IS NOT NULL",
                          (changed["doc_id"], changed["pipeline"])).fetchall()
    assert fields == [("vendor", "other")]  # the old record's fields are gone
    conn.close()



def test_ingest_replaces_fields_another_program_left_and_keeps_the_other_pipelines(db, records, tmp_path):
    """The writer deletes the fields of the keys it writes whose documents have fields already (found in one
    query): fields left without their result row go, the same document's other pipeline keeps its own."""
    conn = open_db(db)
    rec = next(r for r in records if r["pipeline"] == "mlops" and r.get("fields"))
    key = (rec["doc_id"], "mlops")
    other = conn.execute("SELECT field, value, correct FROM fields WHERE doc_id = ? AND pipeline = 'llmops' "
                         "ORDER BY field", (rec["doc_id"],)).fetchall()
    assert other  # the document's other pipeline has fields rows
    conn.execute("DELETE FROM results WHERE doc_id = ? AND pipeline = ?", key)  # its fields stay behind
    conn.execute("INSERT INTO fields VALUES (?, ?, 'stray', 'x', NULL)", key)
    log = tmp_path / "again.jsonl"
    write_jsonl(log, [{**rec, "fields": {"vendor": "other"}}])
    assert ingest(log, db) == 1
    assert conn.execute("SELECT field, value FROM fields WHERE doc_id = ? AND pipeline = ? AND value IS NOT NULL",
                        key).fetchall() == [("vendor", "other")]
    assert conn.execute("SELECT field, value, correct FROM fields WHERE doc_id = ? AND pipeline = 'llmops' "
                        "ORDER BY field", (rec["doc_id"],)).fetchall() == other
    conn.close()

def test_bad_line_names_file_line_field_and_keeps_the_rows_before(tmp_path, records):
    log = tmp_path / "bad.jsonl"
    bad = {**records[3], "latency_s": "fast"}
    write_jsonl(log, records[:3] + [bad] + records[4:10])
    with pytest.raises(HarnessInputError, match=r"bad.jsonl:4: latency_s: .*valid number"):
        ingest(log, tmp_path / "b.sqlite", batch=2)
    conn = open_db(tmp_path / "b.sqlite")
    assert conn.execute("SELECT COUNT(*) FROM results").fetchone()[0] == 3
    for broken, where in [({**records[0], "colour": "red"}, "colour: unknown key"),
                          ({**records[0], "received_at": "2026-01-05T10:00:00"}, "received_at: .*timezone"),
                          ({**records[0], "guardrail_events": [{"policy": "pii", "action": "x", "exposed": 1}]},
                           r"guardrail_events\[0\].exposed")]:
        write_jsonl(log, [broken])
        with pytest.raises(HarnessInputError, match=rf"bad.jsonl:1: {where}"):
            ingest(log, tmp_path / "b.sqlite")
    conn.close()


def test_wal_lets_a_reader_read_while_a_writer_holds_a_transaction(db, records):
    writer = open_db(db)
    assert writer.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    n = len(records)
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("DELETE FROM results WHERE doc_id LIKE 'd000-%'")
    reader = open_db(db, create=False)
    reader.execute("PRAGMA busy_timeout = 0")  # would raise "database is locked" rather than wait
    assert reader.execute("SELECT COUNT(*) FROM results").fetchone()[0] == n  # the last committed state
    assert dashboard.weekly(reader)[0].mlops.n == 210
    writer.execute("COMMIT")
    assert reader.execute("SELECT COUNT(*) FROM results").fetchone()[0] == n - 60
    writer.close()
    reader.close()


def test_schema_version_and_foreign_files_are_refused(tmp_path):
    path = tmp_path / "new.sqlite"
    open_db(path).close()
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == 1
    conn.execute("PRAGMA user_version = 7")
    conn.close()
    with pytest.raises(HarnessInputError, match="schema 7; this harness reads up to 1"):
        open_db(path)
    (tmp_path / "text.sqlite").write_text("not a database at all" * 100)
    with pytest.raises(HarnessInputError, match="not a comparison database"):
        open_db(tmp_path / "text.sqlite")
    with pytest.raises(HarnessInputError, match="no comparison database"):
        open_db(tmp_path / "absent.sqlite", create=False)


def test_field_schema_scores_extraction_with_the_golden_normalisers(tmp_path):
    schema = {"total": FieldSpec("total", "money"), "codes": FieldSpec("codes", "list")}
    rec = ResultRecord.model_validate({
        "doc_id": "x", "pipeline": "llmops", "role": "shadow", "received_at": "2026-01-05T23:30:00-05:00",
        "latency_s": 1, "fields": {"total": "USD 1,234.5", "codes": ["B-2", "a-1"], "extra": "x"},
        "gold_fields": {"total": "1234.50", "codes": ["a-1", "b-2"]}, "gold_label": "invoice", "label": "invoice"})
    for field_schema, expected_right in [(schema, 2), (None, 1)]:  # plain strings: "usd 1,234.5" != "1234.50"
        conn = open_db(tmp_path / f"s{expected_right}.sqlite")
        Writer(conn, field_schema).add([rec])
        row = conn.execute("SELECT fields_correct, fields_total, day, week, label_correct FROM results").fetchone()
        assert row == (expected_right, 2, "2026-01-06", "2026-W02", 1)
        conn.close()


def test_judge_fails_the_bad_weeks_passes_the_clean_one_and_has_no_data_for_an_empty_one(db):
    conn = open_db(db, create=False)
    clean = judge.judge_week(conn, CLEAN)
    assert clean.verdict == "pass", clean.reasons
    assert clean.metric("Classification match").verdict in ("pass", "better")
    assert clean.metric("Processing time").verdict == "pass"  # slower, yet within the 2x allowance
    bad = judge.judge_week(conn, BAD)
    cls = bad.metric("Classification match")
    assert (cls.verdict, cls.critical, bad.verdict) == ("worse", True, "fail") and cls.p_value < 0.001
    assert any(r.startswith("Classification match: worse (critical)") for r in bad.reasons)
    outage = judge.judge_week(conn, OUTAGE)
    assert outage.metric("Error rate").verdict == "worse" and outage.metric("PII exposures").verdict == "worse"
    assert outage.verdict == "fail"
    empty = judge.judge_week(conn, EMPTY)
    assert empty.verdict == "no-data" and {m.verdict for m in empty.metrics} == {"no-data"}
    conn.close()


def test_judge_reads_the_allowances_from_the_criteria_file(db, tmp_path):
    import yaml

    from harness.gates import load_criteria
    from harness.gates.criteria import DEFAULT_CRITERIA

    data = yaml.safe_load(DEFAULT_CRITERIA.read_text(encoding="utf-8"))
    for cond in data["go_no_go"]["go"]:
        if cond["id"] == "p95_below_2x_baseline":
            cond["factor"] = 1.1
    path = tmp_path / "tight.yaml"
    path.write_text(yaml.safe_dump(data))
    conn = open_db(db, create=False)
    tight = judge.judge_week(conn, CLEAN, criteria=load_criteria(path))
    assert tight.metric("Processing time").verdict == "worse" and "allowed < 1.1x" in tight.metric(
        "Processing time").test
    assert tight.verdict == "fail"  # not critical, but one worse metric of seven is below the pass score
    conn.close()


def test_dashboard_cli_shows_the_case_study_metrics(db, tmp_path, records, cli):
    log = tmp_path / "cli.jsonl"
    write_jsonl(log, records[:40])
    code, _, err = cli("shadow", "ingest", log, "--db", tmp_path / "cli.sqlite")
    assert code == 0 and "40 records" in err
    for fmt in ("table", "md"):
        code, out, _ = cli("shadow", "dashboard", db, "--format", fmt, "--at", CLEAN)
        assert code == 0
        for name in ("Classification match", "Extraction match", "Processing time", "Cost per doc", "Error rate",
                     "MLOps", "LLMOps", "Delta", "Status", BAD, "fail"):
            assert name in out, (fmt, name)
        assert f"Week {CLEAN}: PASS" in out
    code, out, _ = cli("shadow", "dashboard", db, "--format", "json", "--period", "day")
    data = json.loads(out)
    assert len(data["rows"]) == 21 and data["verdicts"]["2026-01-05"]["verdict"] in ("pass", "fail", "no-data")
    assert cli("shadow", "dashboard", tmp_path / "none.sqlite")[0] == 2
    assert cli("shadow", "dashboard", db, "--at", "2030-W01")[0] == 2
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"doc_id": "x"}\n')
    code, _, err = cli("shadow", "ingest", bad, "--db", tmp_path / "cli.sqlite")
    assert code == 2 and "bad.jsonl:1: pipeline" in err
