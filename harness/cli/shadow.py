"""``harness shadow ingest`` (result log -> comparison database) and ``harness shadow dashboard`` (the parallel
run's comparison dashboard, each period judged)."""

from __future__ import annotations

from harness.cli.common import TABLE_FORMATS, emit, info
from harness.errors import HarnessInputError


def register(sub) -> None:
    group = sub.add_parser("shadow", help="the parallel run: simulate or ingest traffic into a comparison database, dashboard, go/no-go, cutover")
    shadow = group.add_subparsers(dest="shadow_command", required=True)

    p = shadow.add_parser("ingest", help="load a JSONL result log (one record per document and pipeline) into "
                          "the comparison database")
    p.add_argument("log", metavar="LOG.jsonl")
    p.add_argument("--db", required=True, metavar="FILE", help="the comparison database (SQLite; created if absent)")
    p.add_argument("--golden", metavar="DIR", help="golden set whose field schema scores extraction against gold "
                   "(default: values compared as normalised strings)")
    p.add_argument("--batch", type=int, default=5000, help="records per transaction (default 5000)")
    p.set_defaults(func=ingest_command)

    p = shadow.add_parser("dashboard", help="MLOps vs LLMOps per week (or day): match, time, cost, errors, status")
    p.add_argument("db", metavar="DB")
    p.add_argument("--period", choices=["week", "day"], default="week")
    p.add_argument("--format", choices=TABLE_FORMATS + ["html"], default="table",
                   help="html: the dashboard page with trend plots and the go/no-go week by week")
    p.add_argument("--out", metavar="FILE", help="write to this file instead of printing (the usual way for html)")
    p.add_argument("--at", metavar="PERIOD", help="the period shown in detail, e.g. 2026-W03 (default: the latest)")
    p.add_argument("--alpha", type=float, default=0.05, help="significance level of the per-metric tests")
    p.add_argument("--criteria", metavar="FILE", help="criteria file with the go/no-go allowances (default: "
                   "harness/criteria/techcorp.yaml)")
    p.set_defaults(func=dashboard_command)

    from harness.cli import shadow_run

    shadow_run.register(shadow)


def ingest_command(args) -> int:
    from harness.shadow.ingest import ingest
    from harness.shadow.judge import week_summary

    if args.batch < 1:
        raise HarnessInputError("must be at least 1", field="--batch")
    schema = None
    if args.golden:
        from harness.golden import load_golden_set

        schema = load_golden_set(args.golden).manifest.fields
    n = ingest(args.log, args.db, schema, batch=args.batch, summarise=week_summary)
    info(f"{n:,} records written to {args.db}")
    return 0


def dashboard_command(args) -> int:
    from harness.gates import load_criteria
    from harness.shadow import dashboard, judge
    from harness.shadow.db import database

    if not 0 < args.alpha < 1:
        raise HarnessInputError("must be between 0 and 1", field="--alpha")
    if args.out is not None:
        from harness.paths import out_file

        out_file(args.out)  # before the work, not after it
    criteria = load_criteria(args.criteria)
    with database(args.db, create=False) as conn:
        rows = dashboard.weekly(conn, args.period)
        if args.at and args.at not in {r.period for r in rows}:
            raise HarnessInputError(f"no results in {args.period} {args.at!r}", path=args.db, field="--at")
        verdicts = judge.judge_all(conn, args.period, args.alpha, criteria)
        if args.format == "html":
            text = _page(conn, args, rows, verdicts, criteria)
    if args.format != "html":
        text = dashboard.table(rows, args.format, verdicts, at=args.at, period=args.period)
    emit(text, args.out)
    return 0


def _page(conn, args, rows, verdicts, criteria) -> str:
    from harness.pages.shadow import dashboard_page
    from harness.shadow.cutover import cutover, ramp_start
    from harness.shadow.db import events, meta
    from harness.shadow.decide import GO, decide

    # the weekly page's go/no-go reuses the weeks and verdicts computed above (no second pass over the rows)
    decision = decide(conn, criteria, rows, verdicts) if args.period == "week" and rows else None
    ramp = None
    if decision is not None and decision.status == GO:
        ramp = cutover(conn, ramp_start(decision), criteria)
    command = f"harness shadow dashboard {args.db} --format html" + (" --period day" if args.period == "day" else "")
    return dashboard_page(rows, verdicts, period=args.period, at=args.at, meta=meta(conn), events=events(conn),
                          decision=decision, ramp=ramp, command=command)
