"""Benchmark: the comparison database at the parallel run's volume (50,000 documents a month, both pipelines:
six months are 600,000 result rows, a year of TechCorp 1,200,000), and how ingest and the readers grow with it.

    .venv/bin/python benchmarks/shadow_db.py [--rows 600000 1200000] [--days N] [--repeat 3] [--ingest-repeat 3]
        [--keep DIR]

For each size (result rows; half as many documents, spread evenly over ``--days`` days from 2026-01-05, by
default the days of a 3,300-a-day stream: 182 for 600,000 rows, 364 for 1,200,000), not timed: a JSONL result
log is generated (both pipelines on every document, with gold, four fields each, a few errors, one outage day).
Timed (the median is the figure): ``--ingest-repeat`` ingests, each into a new database, then ``--repeat`` runs
of the readers over the last one:

* ``ingest``: parse, validate and write the log and summarise its weeks (``harness shadow ingest``'s path,
  in worker processes when two cores are free), records/s; goal >= 50,000 records/s. Apart, once: SQLite's own
  insert of the same rows, the preparing of them and the weeks' summaries, each alone on one core, and the best
  two cores can do with them (:func:`parts`);
* the whole ``harness shadow dashboard`` output (rows, every week judged, the table); goal <= 1 s;
* ``decide`` (the go/no-go week by week); goal <= 1 s;
* ``cutover`` (the ramp replayed from the stream's fifth week, 20 days of rollback checks); goal <= 1 s;
  each of the three with the file opened to read as its command opens it (the schema and value checks);
* beside them, not goals: the dashboard's day rows (computed on demand), one week judged, opening the file
  to read alone, and ``harness shadow dashboard`` as a whole process.

Each goal is printed as a ratio (measured / goal for times, goal / measured for the rate: <= 1 is met) with
"met" or "not met", and the machine's load (/proc/loadavg) before and after.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

LABELS = ("invoice", "receipt", "contract", "purchase_order", "letter", "form")
VENDORS = tuple(f"vendor {i}" for i in range(200))
START = datetime(2026, 1, 5, tzinfo=timezone.utc)


def write_log(path: Path, rows: int, days: int, seed: int = 0) -> int:
    """``rows`` result lines (two per document) over ``days`` days; returns the documents written."""
    rng = random.Random(seed)
    docs = rows // 2
    span = days * 86400
    with open(path, "w", encoding="utf-8") as fh:
        for i in range(docs):
            at = START + timedelta(seconds=span * i // docs)
            gold_label = LABELS[rng.randrange(len(LABELS))]
            gold = {"vendor": VENDORS[rng.randrange(200)], "total": f"{rng.randrange(10, 9999)}.00",
                    "issue_date": f"2026-0{1 + rng.randrange(6)}-1{rng.randrange(10)}",
                    "codes": [f"c-{rng.randrange(50)}", f"d-{rng.randrange(50)}"]}
            base = {"doc_id": f"doc-{i:07d}", "received_at": at.isoformat(), "gold_label": gold_label,
                    "gold_fields": gold}
            outage = (at - START).days == days // 2
            for pipeline in ("mlops", "llmops"):
                llm = pipeline == "llmops"
                rec = {**base, "pipeline": pipeline, "role": "shadow" if llm else "production",
                       "latency_s": round(rng.lognormvariate(0.2 if llm else -0.2, 0.3), 4),
                       "cost_usd": 0.02 if llm else 0.01, "input_tokens": 900 if llm else 0}
                if llm and outage:
                    rec.update(available=False, latency_s=0.0, cost_usd=None)
                elif rng.random() < 0.01:
                    rec.update(error="timeout")
                else:
                    rec["label"] = gold_label if rng.random() < (0.95 if llm else 0.92) else "letter"
                    rec["fields"] = {k: (v if rng.random() < 0.9 else None) for k, v in gold.items()}
                    rec["hallucinated"] = (rng.random() < 0.01) if llm else None
                fh.write(json.dumps(rec) + "\n")
    return docs


def load() -> str:
    """The machine's load averages (1, 5, 15 min), as /proc/loadavg says them."""
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "unknown"


def timed(fn):
    t0 = time.perf_counter()
    value = fn()
    return value, time.perf_counter() - t0


def ingested(log: Path, db: Path) -> dict[str, float]:
    """One ingest of the log into a new database: seconds and records/s."""
    from harness.shadow.ingest import ingest, spread
    from harness.shadow.judge import week_summary

    for p in (db, Path(f"{db}-wal"), Path(f"{db}-shm")):
        p.unlink(missing_ok=True)
    workers = spread(log)
    written, secs = timed(lambda: ingest(log, db, summarise=week_summary, processes=workers))
    return {"ingest": secs, "rate": written / secs, "workers": workers}


def parts(log: Path, db: Path) -> dict[str, float]:
    """The limits the ingest wraps, measured apart in this process, each on one core: SQLite's own insert of the
    log's rows (the writer's transactions alone, the rows prepared beforehand), the preparing of the rows alone
    (parse, validate, score) and the weeks' summaries (SQLite's indexed aggregates over each week); and from them
    the best two cores could do, the inserts being one writer and the summaries coming after them, a week per
    core: n / (max(insert, (insert + prepare) / 2) + summaries / 2), in seconds."""
    from harness.shadow.db import Writer, database
    from harness.shadow.ingest import _batches, prepare
    from harness.shadow.judge import week_summary

    for p in (db, Path(f"{db}-wal"), Path(f"{db}-shm")):
        p.unlink(missing_ok=True)
    prep = sql = 0.0
    n = 0
    with database(db) as conn:
        writer = Writer(conn, summarise=week_summary)
        for lines in _batches(log, 5000):
            part, secs = timed(lambda: prepare(str(log), lines, None))
            prep += secs
            sql += timed(lambda: writer.write_rows(part.rows))[1]
            n += part.records
        summaries = timed(writer.refresh)[1]
    return {"insert rate": n / sql, "prepare rate": n / prep, "summaries": summaries,
            "best": n / (max(sql, (sql + prep) / 2) + summaries / 2)}


def readers(db: Path, days: int) -> dict[str, float]:
    """Every reader once over the database: seconds per step. Each goal (dashboard, decide, cutover) opens the
    file to read as its command does (the schema and value checks), then computes; ``dashboard command`` is
    ``harness shadow dashboard`` as a whole process (Python's start, the imports, the table printed)."""
    import subprocess
    from datetime import date

    from harness.shadow import cutover, dashboard, decide, judge
    from harness.shadow.db import open_db

    def opened(fn):
        conn = open_db(db, create=False)
        try:
            return fn(conn)
        finally:
            conn.close()

    out: dict[str, float] = {}
    conn, out["open to read"] = timed(lambda: open_db(db, create=False))
    judge.judge_week(conn, "2026-W02")  # not timed: imports scipy, reads the criteria file
    conn.close()
    _, out["dashboard"] = timed(lambda: opened(lambda c: dashboard.table(dashboard.weekly(c), "table",
                                                                         judge.judge_all(c, "week"))))
    _, out["decide"] = timed(lambda: opened(lambda c: decide.decision_text(decide.decide(c))))
    start = date(2026, 1, 5) + timedelta(days=min(28, days // 3))
    c, out["cutover"] = timed(lambda: opened(lambda c: cutover.cutover(c, start)))
    out["cutover steps"] = len(c.steps)
    _, out["day rows (on demand)"] = timed(lambda: opened(lambda c: dashboard.weekly(c, "day")))
    _, out["one week judged"] = timed(lambda: opened(lambda c: judge.judge_week(c, "2026-W10")))
    _, out["dashboard command"] = timed(lambda: subprocess.run(
        [sys.executable, "-m", "harness.cli", "shadow", "dashboard", str(db)], check=True, stdout=subprocess.DEVNULL))
    out["MiB"] = sum(p.stat().st_size for p in db.parent.glob(db.name + "*")) / 2**20
    return out


GOALS = {"ingest": ("rate", 50_000.0), "dashboard": ("s", 1.0), "decide": ("s", 1.0), "cutover": ("s", 1.0)}


def run(rows: int, days: int, out: Path, repeat: int, ingest_repeat: int) -> None:
    log, db = out / f"results-{rows}.jsonl", out / f"cmp-{rows}.sqlite"
    docs = write_log(log, rows, days)
    os.sync()  # the log's pages written back now: the kernel's flush would count as a busy core (free_cores)
    print(f"{rows:,} result rows ({docs:,} documents x 2 pipelines over {days} days); log "
          f"{log.stat().st_size / 2**20:.0f} MiB", flush=True)
    loads = [load()]
    ingests, runs = [], []
    for r in range(ingest_repeat):
        ingests.append(ingested(log, db))
        loads.append(load())
        print(f"  ingest {r + 1}: {ingests[-1]['ingest']:.1f} s, {ingests[-1]['rate']:,.0f} records/s "
              f"({ingests[-1]['workers']} worker processes); load {loads[-1]}", flush=True)
    for r in range(repeat):
        runs.append(readers(db, days))
        loads.append(load())
        print(f"  readers {r + 1}: " + ", ".join(f"{k} {v:,.2f}" for k, v in runs[-1].items()) + f"; load {loads[-1]}",
              flush=True)
    floor = parts(log, out / f"parts-{rows}.sqlite")
    for p in out.glob(f"parts-{rows}.sqlite*"):
        p.unlink()
    loads.append(load())
    print(f"  apart: SQLite's own insert of the rows {floor['insert rate']:,.0f} records/s, preparing them "
          f"{floor['prepare rate']:,.0f} records/s, the weeks' summaries {floor['summaries']:.1f} s (one core each); "
          f"the best two cores can do: {floor['best']:,.0f} records/s; load {loads[-1]}", flush=True)
    med = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
    med.update({k: statistics.median(r[k] for r in ingests) for k in ingests[0]})
    for step, (kind, goal) in GOALS.items():
        if kind == "rate":
            ratio = goal / med["rate"]
            figure = (f"{med['rate']:,.0f} records/s ({med['ingest']:.1f} s; {med['rate'] / floor['best']:.0%} of the "
                      "best two cores can do)")
            wanted = f">= {goal:,.0f} records/s"
        else:
            ratio = med[step] / goal
            figure = f"{med[step]:.2f} s"
            wanted = f"<= {goal:g} s"
        print(f"  {step:<10} median of {ingest_repeat if kind == 'rate' else repeat}: {figure}; goal {wanted}: ratio {ratio:.2f} "
              f"({'met' if ratio <= 1 else 'not met'})", flush=True)
    print(f"  beside them (medians): open to read {med['open to read']:.2f} s, the dashboard command as a whole "
          f"process {med['dashboard command']:.2f} s, day rows on demand "
          f"{med['day rows (on demand)']:.2f} s, one week judged {med['one week judged']:.3f} s, cutover steps "
          f"{med['cutover steps']:.0f}; database {med['MiB']:.0f} MiB; load before and after each run: "
          f"{'; '.join(loads)}", flush=True)
    log.unlink()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, nargs="+", default=[600_000, 1_200_000], help="result rows per size")
    ap.add_argument("--days", type=int, help="days the documents are spread over (default: 3,300 rows a day)")
    ap.add_argument("--repeat", type=int, default=3, help="runs of the readers per size (the median is the figure)")
    ap.add_argument("--ingest-repeat", type=int, help="ingests per size, each into a new database (default: --repeat)")
    ap.add_argument("--keep", type=Path, help="write here and keep the databases (default: a temporary folder)")
    args = ap.parse_args()

    def days(rows: int) -> int:
        return args.days or max(14, round(182 * rows / 600_000))

    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
        for rows in args.rows:
            run(rows, days(rows), args.keep, args.repeat, args.ingest_repeat or args.repeat)
        return
    with tempfile.TemporaryDirectory() as tmp:
        for rows in args.rows:
            run(rows, days(rows), Path(tmp), args.repeat, args.ingest_repeat or args.repeat)


if __name__ == "__main__":
    main()
