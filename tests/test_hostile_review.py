"""What a fresh-eyes review of issues 25-27 found still breaking, each case as it was reproduced: the class of
bug named in the test's docstring, the instance in its body."""

from __future__ import annotations

import io
import json
import os
import shutil
import sqlite3

import pytest

from test_gates import make_run

pytest_plugins = ["pytester"]


def one_line(code: int, err: str) -> str:
    assert code == 2, err
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    return lines[0]


def test_a_typo_in_harness_criterion_is_refused_not_a_vanished_gate(tiny_golden, tmp_path, pytester):
    """A gate selected by an unknown id would collect nothing and pass: refused, as `gates --only` does."""
    run = make_run(tiny_golden, tmp_path / "r")
    pytester.makepyfile(test_mine="def test_x():\n    assert True\n")
    res = pytester.runpytest_subprocess("--harness-run", str(run), "--harness-criterion", "bogus")
    assert res.ret == 4 and "unknown criterion id(s): bogus" in res.stderr.str()


def test_the_report_page_shows_the_gate_status_of_harness_gates(tiny_golden, tmp_path, cli):
    """One status everywhere: the page's words are `harness gates`'s (exit 1 there is 'fail' here)."""
    run = make_run(tiny_golden, tmp_path / "r")
    code, out, _ = cli("gates", run)
    status = next(ln for ln in out.splitlines() if ln.startswith("gates for r: ")).removeprefix("gates for r: ")
    assert code == 1 and status.startswith("fail (")
    code, html, _ = cli("report", run, "--format", "html")
    assert code == 0 and f'<span class="status status-fail">{status}</span>' in html


def test_no_prediction_counts_items_not_task_slots(tiny_golden, tmp_path, cli):
    """3 documents without a prediction are 3 items, whatever number of tasks they miss."""
    from harness.golden import load_golden_set

    docs = load_golden_set(tiny_golden).items("test", kinds=("document",))
    preds = [{"id": d.id, "label": d.label, "fields": {"number": None}} for d in docs[3:]]
    (tmp_path / "p.jsonl").write_text("".join(json.dumps(p) + "\n" for p in preds))
    code, _, err = cli("score", "--golden", tiny_golden, "--split", "test", "--predictions", tmp_path / "p.jsonl",
                       "--out", tmp_path / "s")
    counts = json.loads((tmp_path / "s" / "metrics.json").read_text())["counts"]
    assert code == 0 and counts["unscored"] == 3
    assert counts["by_task"]["classify"]["unscored"] == counts["by_task"]["extract"]["unscored"] == 3


def test_lone_surrogates_are_refused_where_they_are_read(tiny_golden, tmp_path, cli):
    """Text UTF-8 cannot encode (a lone \\udcff escape in JSON, undecodable bytes in an argument) stops where it
    enters, in one line, not as a traceback where it is written."""
    (tmp_path / "p.jsonl").write_text('{"id": "d012", "label": "inv\\udcff"}\n')
    err = one_line(*cli("score", "--golden", tiny_golden, "--split", "test", "--predictions",
                        tmp_path / "p.jsonl", "--out", tmp_path / "s")[::2])
    assert "p.jsonl:1" in err and "not a surrogate pair" in err
    assert not (tmp_path / "s" / "predictions.jsonl").exists()
    err = one_line(*cli("guardrails", "check", "--", "caf\udcff")[::2])
    assert "argument 4 is not valid UTF-8" in err
    from harness.files import loads_json

    assert loads_json('{"a": "\\ud83d\\ude00"}') == {"a": "\U0001F600"}  # a pair is a character: kept


def test_a_backslash_in_a_run_name_is_text_on_every_page(tiny_golden, tmp_path, cli):
    """A name from a file reached a regular expression's replacement in the plots (\\q: re.error)."""
    run = make_run(tiny_golden, tmp_path / "r")
    odd = tmp_path / "r\\q"
    shutil.copytree(run, odd)
    code, html, err = cli("report", odd, "--format", "html")
    assert code == 0, err
    assert 'aria-label="' in html and "r\\q" in html


def test_out_never_replaces_a_device_or_a_pipe(tiny_golden, tmp_path, cli):
    """--out naming a FIFO (or /dev/full as root) replaced it with a page; refused, and the pipe is kept."""
    run = make_run(tiny_golden, tmp_path / "r")
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    err = one_line(*cli("report", run, "--format", "html", "--out", fifo)[::2])
    assert "is not a regular file" in err and fifo.is_fifo()
    target = tmp_path / "real.html"
    target.write_text("old")
    (tmp_path / "link.html").symlink_to(target)
    code, _, _ = cli("report", run, "--format", "html", "--out", tmp_path / "link.html")
    assert code == 0 and (tmp_path / "link.html").is_symlink() and "<!DOCTYPE html>" in target.read_text()


def test_the_run_lock_never_follows_a_link(tiny_golden, tmp_path, cli):
    """A run directory from someone else with .writer.lock linked to a file: the lock truncated it."""
    run = make_run(tiny_golden, tmp_path / "r")
    victim = tmp_path / "victim.txt"
    victim.write_text("precious data")
    (run / ".writer.lock").unlink(missing_ok=True)
    (run / ".writer.lock").symlink_to(victim)
    err = one_line(*cli("score", "--golden", tiny_golden, "--split", "test", "--predictions",
                        run / "predictions.jsonl", "--out", run)[::2])
    assert "lock file" in err and victim.read_text() == "precious data"


def test_run_selection_options_must_be_positive(tmp_path, cli):
    """--limit -1 ran every item but the last."""
    for flag, low in (("--limit", 1), ("--per-class", 0), ("--qa-limit", 0)):  # --per-class 0: questions only
        err = one_line(*cli("run", "--pipeline", "mlops", flag, "-1", "--out", tmp_path / "r")[::2])
        assert f"{flag}: must be {low} or more" in err


def test_interrupted_work_says_where_it_stopped():
    """A crashed or interrupted step printed "3/10 items done"."""
    from harness.progress import progress

    out = io.StringIO()
    with pytest.raises(KeyboardInterrupt):
        with progress(10, "mlops:test", stream=out, interval=60) as p:
            p.update(3)
            raise KeyboardInterrupt
    assert out.getvalue().splitlines()[-1].startswith("mlops:test: stopped at 3/10 items after ")


@pytest.fixture
def shadow_db(tmp_path, cli):
    from test_fuzz_inputs import SHADOW_LOG

    log = tmp_path / "log.jsonl"
    log.write_text("".join(json.dumps(r) + "\n" for r in SHADOW_LOG))
    db = tmp_path / "s.db"
    code, _, err = cli("shadow", "ingest", log, "--db", db)
    assert code == 0, err
    return db, log


def test_a_week_that_is_not_its_days_iso_week_is_named(shadow_db, cli):
    """W00 (or W54, or another day's week) passed the value check and crashed decide and cutover."""
    db, _ = shadow_db
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE results SET week = '2027-W00' WHERE doc_id = 'a1'")
    for command in (("decide", db), ("cutover", db, "--start", "2027-01-04")):
        err = one_line(*cli("shadow", *command)[::2])
        assert "table results" in err and "week holds a value this harness never writes" in err


def test_a_trigger_in_a_comparison_database_is_refused(shadow_db, cli):
    """Another program's trigger deleted what ingest wrote while ingest said it wrote it."""
    db, log = shadow_db
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TRIGGER t AFTER INSERT ON results BEGIN DELETE FROM results "
                     "WHERE pipeline = 'llmops'; END")
    err = one_line(*cli("shadow", "ingest", log, "--db", db)[::2])
    assert "triggers: t" in err
