"""``harness gates`` (pilot criteria and the go/no-go verdict for a run) and ``harness rollback`` (rollback
triggers over monitoring records)."""

from __future__ import annotations

import json

from harness.cli.compare import add_summary_args, check_summary_args
from harness.errors import HarnessInputError
from harness.render import table as render_table


def register(sub) -> None:
    p = sub.add_parser("gates", help="evaluate pilot success criteria and the go/no-go verdict for a run")
    p.add_argument("run")
    p.add_argument("--baseline", help="the baseline run (the MLOps pipeline) for relative conditions")
    p.add_argument("--criteria", help="criteria YAML (default: the TechCorp pilot's)")
    p.add_argument("--history", help="directory of dated runs for the 'consecutive weeks' conditions")
    p.add_argument("--ratings", help="user ratings CSV (column 'rating', 1-5)")
    p.add_argument("--audit", help="audit checklist YAML (items: [{id, satisfied}])")
    p.add_argument("--incidents", help="incident log YAML (incidents: [{type, severity, date}])")
    p.add_argument("--only", help="comma-separated criterion ids to evaluate (default: all)")
    p.add_argument("--require-go", action="store_true", help="exit 1 unless the verdict is GO")
    p.add_argument("--format", choices=["table", "json", "markdown"], default="table",
                   help="markdown: the pull-request summary (verdict, criteria table, cost per document)")
    add_summary_args(p)
    p.set_defaults(func=gates_command)

    p = sub.add_parser("rollback", help="evaluate rollback triggers over monitoring records (JSONL)")
    p.add_argument("monitoring")
    p.add_argument("--criteria")
    p.add_argument("--format", choices=["table", "json"], default="table")
    p.set_defaults(func=rollback_command)


def evaluate(criteria, run, baseline=None, history=(), ratings=None, audit=None, incidents=None, only=None):
    """Criteria results, the go/no-go verdict and ``gates.json`` (written through the run store)."""
    from harness import gates

    results = gates.evaluate_criteria(criteria, run, ratings, only)
    verdict = gates.evaluate_go_no_go(criteria, run, baseline, history, ratings, audit, incidents)
    data = gates.results_json(results, verdict)
    data["run"], data["baseline"], data["criteria_file"] = run.id, baseline.id if baseline else None, criteria.path
    run.store.write_gates(json.loads(gates.dumps(data)))
    return results, verdict, data


def gates_command(args) -> int:
    from harness import gates, summary
    from harness.cli.common import emit

    check_summary_args(args)
    criteria = gates.load_criteria(args.criteria)
    run = gates.load_run(args.run)
    baseline = gates.load_run(args.baseline) if args.baseline else None
    history = gates.load_runs(args.history) if args.history else []
    ratings = gates.read_ratings(args.ratings) if args.ratings else None
    audit = gates.read_audit(args.audit) if args.audit else None
    incidents = gates.read_incidents(args.incidents) if args.incidents else None
    only = [x.strip() for x in args.only.split(",")] if args.only else None
    if only:
        unknown = set(only) - {c.id for c in criteria.criteria}
        if unknown:
            raise HarnessInputError(f"unknown criterion id(s): {', '.join(sorted(unknown))}", field="--only")
    results, verdict, data = evaluate(criteria, run, baseline, history, ratings, audit, incidents, only)
    if args.format == "markdown":
        page = None
        if args.page:
            page = summary.write_report_page([run], args.page, baseline=baseline, criteria=criteria,
                                             command=f"harness report {run.path} --format html")
        text = summary.gates_markdown(run, results, verdict, baseline, page, args.max_chars)
    else:
        text = gates.dumps(data) if args.format == "json" else gates_table(results, verdict, run, baseline)
    for line in summary.publish(text if args.format == "markdown" else None, summary.gates_errors(results)):
        print(line)
    emit(text, args.out)
    ok = gates.must_haves_hold(results) and (verdict.verdict == "GO" or not args.require_go)
    return 0 if ok else 1


def gates_table(results, verdict, run, baseline) -> str:
    from harness import gates

    def num(v):
        return "-" if v is None else f"{v:.4g}"

    rows = [[r.title, num(r.observed), r.bound, r.status, r.evidence] for r in results]
    out = [render_table(["criterion", "observed", "target / must-have", "status", "evidence"], rows,
                        right_align_from=5), "", f"gates for {run.id}: {gates.gate_status(results)}"]
    out.append(f"go/no-go for {run.id}" + (f" against {baseline.id}" if baseline else "") + f": {verdict.verdict}")
    for label, conds in (("GO condition", verdict.go), ("NO-GO condition", verdict.no_go)):
        for c in conds:
            out.append(f"  {label} {c.id}: {c.detail}")
    if verdict.weeks:
        out.append("weekly ledger:")
        for w in verdict.weeks:
            out.append(f"  {w['condition']} {w['week']}: {w['run'] or '-'} = {num(w['value'])}, "
                       f"baseline {w['baseline_run'] or '-'} = {num(w['baseline_value'])}")
    return "\n".join(out)


def rollback_command(args) -> int:
    from harness import gates
    from harness.files import dumps_json

    criteria = gates.load_criteria(args.criteria)
    records = gates.read_monitoring(args.monitoring)
    fired = gates.evaluate_rollback(criteria.rollback_triggers, records)
    if args.format == "json":
        print(dumps_json([t.__dict__ for t in fired], indent=2))
    else:
        for t in fired:
            window = f" window {t.window[0]} .. {t.window[1]}" if t.window else ""
            print(f"{'FIRED' if t.fired else 'ok   ' if t.measured else 'n/m  '}  {t.id}: {t.detail}{window}")
    return 1 if any(t.fired for t in fired) else 0
