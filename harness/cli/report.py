"""``harness report`` (runs side by side) and ``harness leaderboard`` (runs of one golden split and item set,
ranked on one metric)."""

from __future__ import annotations

from pathlib import Path

from harness.cli.common import TABLE_FORMATS, emit
from harness.errors import HarnessInputError


def register(sub) -> None:
    p = sub.add_parser("report", help="the metrics of run directories side by side; --format html writes the "
                       "report page (verdict, plots, the documents that differ)")
    p.add_argument("runs", nargs="+")
    p.add_argument("--format", choices=TABLE_FORMATS + ["html"], default="table")
    p.add_argument("--detail", action="store_true", help="add per-class F1 and per-field accuracy (tables)")
    p.add_argument("--out", help="write to this file instead of printing (the usual way for --format html)")
    p.add_argument("--baseline", help="html: the baseline run (default: the one MLOps run among several, else the "
                   "first); the go/no-go and paired statistics compare every other run with it")
    p.add_argument("--criteria", help="html: criteria YAML for the verdict (default: the TechCorp pilot's)")
    p.set_defaults(func=report_command)

    p = sub.add_parser("leaderboard", help="rank the runs in a results directory on one metric")
    p.add_argument("results")
    p.add_argument("--metric", default="classification.accuracy", help="a metric name ('harness metrics' lists them)")
    p.add_argument("--format", choices=["md", "html", "csv"], default="md")
    p.add_argument("--out", help="write to this file instead of printing")
    p.add_argument("--criteria", help="criteria YAML for the gate status column (default: TechCorp pilot)")
    p.add_argument("--split", help="only runs on this split")
    p.add_argument("--golden-sha", help="only runs on the golden set with this sha256 (prefix)")
    p.add_argument("--items", help="runs over different item sets: 'all' for one table per item set, or an item-set "
                   "sha256 prefix to rank only those (default: refuse to mix them)")
    p.set_defaults(func=leaderboard_command)


def report_command(args) -> int:
    from harness import report
    from harness.store import RunStore

    if args.format == "html":
        return _html_report(args)
    metrics = [RunStore(r).read_metrics() for r in args.runs]
    emit(report.table([Path(r).name for r in args.runs], metrics, args.format, detail=args.detail), args.out)
    return 0


def _html_report(args) -> int:
    from harness import gates
    from harness.pages.report import report_page

    runs = [gates.load_run(r) for r in args.runs]
    baseline = gates.load_run(args.baseline) if args.baseline else default_baseline(runs)
    html = report_page(runs, gates.load_criteria(args.criteria), baseline,
                       command="harness report " + " ".join(args.runs) + " --format html")
    emit(html, args.out)
    return 0


def default_baseline(runs):
    """The baseline of a side-by-side page: the only MLOps run among several runs, else the first run; none
    for a single run."""
    if len(runs) < 2:
        return None
    mlops = [r for r in runs if r.pipeline == "mlops"]
    return mlops[0] if len(mlops) == 1 else runs[0]


def leaderboard_command(args) -> int:
    from harness import gates, leaderboard
    from harness.store import load_runs

    runs = load_runs(args.results)
    for flag, value, key in (("--split", args.split, lambda r: r.split),
                             ("--golden-sha", args.golden_sha, lambda r: str(r.golden_sha))):
        if value and runs:
            kept = [r for r in runs if (key(r).startswith(value) if flag == "--golden-sha" else key(r) == value)]
            if not kept:  # a mistyped value names what is there, not "no run directories found"
                there = ", ".join(sorted({key(r)[:12] for r in runs}))
                raise HarnessInputError(f"no run of {args.results} has {value!r} (there: {there})", field=flag)
            runs = kept
    criteria = gates.load_criteria(args.criteria)
    leaderboard.rank(runs, args.metric)  # one golden set and split, a known metric: checked before grouping
    groups = leaderboard.group_by_items(runs, args.items)
    ranked = {key: leaderboard.rank(rs, args.metric, criteria) for key, rs in groups.items()}
    if args.format == "html":
        from harness.pages.leaderboard import leaderboard_page

        text = leaderboard_page(ranked, args.metric, criteria.path, command=f"harness leaderboard {args.results}")
    else:
        text = leaderboard.render_groups(ranked, args.metric, args.format)
    emit(text, args.out)
    return 0
