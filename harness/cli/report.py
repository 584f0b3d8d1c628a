"""``harness report`` (runs side by side) and ``harness leaderboard`` (runs of one golden split and item set,
ranked on one metric)."""

from __future__ import annotations

from pathlib import Path

from harness.cli.common import TABLE_FORMATS


def register(sub) -> None:
    p = sub.add_parser("report", help="print the metrics of run directories side by side")
    p.add_argument("runs", nargs="+")
    p.add_argument("--format", choices=TABLE_FORMATS, default="table")
    p.add_argument("--detail", action="store_true", help="add per-class F1 and per-field accuracy")
    p.set_defaults(func=report_command)

    p = sub.add_parser("leaderboard", help="rank the runs in a results directory on one metric")
    p.add_argument("results")
    p.add_argument("--metric", default="classification.accuracy", help="a metric name ('harness metrics' lists them)")
    p.add_argument("--format", choices=["md", "html", "csv"], default="md")
    p.add_argument("--criteria", help="criteria YAML for the gate status column (default: TechCorp pilot)")
    p.add_argument("--split", help="only runs on this split")
    p.add_argument("--golden-sha", help="only runs on the golden set with this sha256 (prefix)")
    p.add_argument("--items", help="runs over different item sets: 'all' for one table per item set, or an item-set "
                   "sha256 prefix to rank only those (default: refuse to mix them)")
    p.set_defaults(func=leaderboard_command)


def report_command(args) -> int:
    from harness import report
    from harness.store import RunStore

    metrics = [RunStore(r).read_metrics() for r in args.runs]
    print(report.table([Path(r).name for r in args.runs], metrics, args.format, detail=args.detail))
    return 0


def leaderboard_command(args) -> int:
    from harness import gates, leaderboard
    from harness.store import load_runs

    runs = load_runs(args.results)
    if args.split:
        runs = [r for r in runs if r.split == args.split]
    if args.golden_sha:
        runs = [r for r in runs if str(r.golden_sha).startswith(args.golden_sha)]
    criteria = gates.load_criteria(args.criteria)
    leaderboard.rank(runs, args.metric)  # one golden set and split, a known metric: checked before grouping
    groups = leaderboard.group_by_items(runs, args.items)
    ranked = {key: leaderboard.rank(rs, args.metric, criteria) for key, rs in groups.items()}
    print(leaderboard.render_groups(ranked, args.metric, args.format))
    return 0
