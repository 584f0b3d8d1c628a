"""Benchmark: the comparison database at the parallel run's volume (50,000 documents a month, both pipelines,
six months: 600,000 result rows), and how ingest and the dashboard grow with it.

    .venv/bin/python benchmarks/shadow_db.py [--rows 60000 600000] [--days 182] [--keep DIR]

For each size (result rows; half as many documents, spread evenly over ``--days`` days from 2026-01-05), not
timed: a JSONL result log is generated (both pipelines on every document, with gold, four fields each, a few
errors, one outage day). Timed:

* ``ingest``: parse, validate and write the log (``harness shadow ingest``'s path), rows/s;
* the dashboard's SQL (``dashboard.weekly``) per week and per day;
* the judge: one week (``judge_week``, after an untimed first call that imports scipy) and every week
  (``judge_all``);
* the whole ``harness shadow dashboard`` output (rows, every week judged, the table).

Prints one line per size and step, and the database's size.
"""

from __future__ import annotations

import argparse
import json
import random
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


def timed(label: str, fn):
    t0 = time.perf_counter()
    value = fn()
    elapsed = time.perf_counter() - t0
    print(f"  {label:<38} {elapsed:8.2f} s", flush=True)
    return value, elapsed


def run(rows: int, days: int, out: Path) -> None:
    from harness.shadow import dashboard, judge
    from harness.shadow.db import ingest, open_db

    log, db = out / f"results-{rows}.jsonl", out / f"cmp-{rows}.sqlite"
    for p in (db, Path(f"{db}-wal"), Path(f"{db}-shm")):
        p.unlink(missing_ok=True)
    docs = write_log(log, rows, days)
    print(f"{rows:,} result rows ({docs:,} documents x 2 pipelines over {days} days); log "
          f"{log.stat().st_size / 2**20:.0f} MiB", flush=True)
    written, secs = timed("ingest", lambda: ingest(log, db))
    print(f"  {'ingest rate':<38} {written / secs:8,.0f} rows/s")
    conn = open_db(db, create=False)
    weeks, _ = timed("dashboard.weekly (week)", lambda: dashboard.weekly(conn, "week"))
    timed("dashboard.weekly (day)", lambda: dashboard.weekly(conn, "day"))
    middle = weeks[len(weeks) // 2].period
    judge.judge_week(conn, weeks[0].period)  # not timed: imports scipy, reads the criteria file
    timed(f"judge_week ({middle})", lambda: judge.judge_week(conn, middle))
    verdicts, _ = timed(f"judge_all ({len(weeks)} weeks)", lambda: judge.judge_all(conn, "week"))
    timed("whole dashboard (rows, judge, table)", lambda: dashboard.table(
        dashboard.weekly(conn), "table", judge.judge_all(conn, "week")))
    conn.close()
    size = sum(p.stat().st_size for p in out.glob(f"cmp-{rows}.sqlite*"))
    print(f"  {'database size':<38} {size / 2**20:8.1f} MiB; weeks: "
          + ", ".join(f"{k} {v.verdict}" for k, v in list(verdicts.items())[:3]) + ", ...", flush=True)
    log.unlink()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, nargs="+", default=[60_000, 600_000], help="result rows per size")
    ap.add_argument("--days", type=int, default=182, help="days the documents are spread over (26 weeks)")
    ap.add_argument("--keep", type=Path, help="write here and keep the databases (default: a temporary folder)")
    args = ap.parse_args()
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
        for rows in args.rows:
            run(rows, args.days, args.keep)
        return
    with tempfile.TemporaryDirectory() as tmp:
        for rows in args.rows:
            run(rows, args.days, Path(tmp))


if __name__ == "__main__":
    main()
