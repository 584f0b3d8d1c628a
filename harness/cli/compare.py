"""``harness compare`` (paired statistics between two runs) and ``harness diff`` (per-document changes)."""

from __future__ import annotations

from harness.errors import HarnessInputError


def register(sub) -> None:
    p = sub.add_parser("compare", help="paired statistics between two runs on the same golden split")
    p.add_argument("run_a")
    p.add_argument("run_b")
    p.add_argument("--format", choices=["table", "json", "md", "markdown"], default="table",
                   help="markdown: the pull-request summary (verdict, paired differences in sentences, the most "
                        "important flipped documents, cost per document), under --max-chars")
    p.add_argument("--fail-on-regression", action="store_true",
                   help="exit 1 when a metric of RUN_B is worse than RUN_A's beyond its regression.tolerance in "
                        "the criteria file and the paired 95%% interval of the difference excludes zero")
    p.add_argument("--criteria", help="criteria YAML whose regression.tolerance is judged (default: the TechCorp "
                   "pilot's)")
    add_summary_args(p)
    p.set_defaults(func=compare_command)

    p = sub.add_parser("diff", help="per-document changes and metric deltas between two runs")
    p.add_argument("run_a")
    p.add_argument("run_b")
    p.add_argument("--format", choices=["text", "json"], default="text")
    p.set_defaults(func=diff_command)


def add_summary_args(p) -> None:
    """--out, --page and --max-chars: the options of a command with a ``--format markdown`` summary."""
    p.add_argument("--out", help="write the output to this file instead of printing it (the ::error annotations "
                   "of a GitHub Actions job stay on standard output)")
    p.add_argument("--page", help="markdown: also write the HTML report page to this file and name it")
    p.add_argument("--max-chars", type=int, default=65_000,
                   help="markdown: at most this many characters, the rest cut with a note (default 65,000, under "
                        "GitHub's comment limit)")


def check_summary_args(args) -> None:
    """Exit 2 on a --max-chars out of its bounds, a --page without --format markdown, or an --out or --page that
    cannot be a file."""
    if not 1_000 <= args.max_chars <= 1_000_000:
        raise HarnessInputError(f"{args.max_chars} is out of range: 1,000 to 1,000,000", field="--max-chars")
    if args.page and args.format != "markdown":
        raise HarnessInputError("--page goes with --format markdown", field="--page")
    from harness.paths import out_file

    for path, flag in ((args.out, "--out"), (args.page, "--page")):  # refused before anything is computed
        if path:
            out_file(path, field=flag)


def compare_command(args) -> int:
    import json

    from harness import compare, summary
    from harness.cli.common import emit
    from harness.files import dumps_json
    from harness.store import load_run

    check_summary_args(args)
    a, b = load_run(args.run_a), load_run(args.run_b)
    rows = compare.compare(a, b)
    judgements, criteria = [], None
    if args.fail_on_regression or args.criteria or args.format == "markdown":  # a summary always has its verdict
        from harness.gates import load_criteria

        criteria = load_criteria(args.criteria)
        judgements = compare.judge_regressions(rows, criteria.regression.get("tolerance") or {}, a.id, b.id)
    if args.format == "markdown":
        page = None
        if args.page:
            page = summary.write_report_page([a, b], args.page, baseline=a,
                                             criteria=criteria,
                                             command=f"harness report {a.path} {b.path} --format html")
        text = summary.compare_markdown(a, b, rows, judgements, compare.diff(a, b), page, args.max_chars)
    elif args.format == "json":
        data = json.loads(compare.comparison_table(a, b, rows, "json"))
        if judgements:
            data["regression"] = [{"metric": j.metric, "status": j.status, "tolerance": j.tolerance,
                                   "allowed_difference": j.allowed, "line": j.line} for j in judgements]
        text = dumps_json(data, indent=2)
    else:
        text = compare.comparison_table(a, b, rows, args.format)
        if judgements:
            text += "\n\n" + compare.regressions_text(judgements, a.id)
    errors = summary.compare_errors(judgements) if args.fail_on_regression else []  # an ::error fails the job
    for line in summary.publish(text if args.format == "markdown" else None, errors):
        print(line)
    emit(text, args.out)
    failed = any(j.status == compare.REGRESSION for j in judgements)
    return 1 if failed and args.fail_on_regression else 0


def diff_command(args) -> int:
    from harness import compare
    from harness.files import dumps_json
    from harness.store import load_run

    d = compare.diff(load_run(args.run_a), load_run(args.run_b))
    print(dumps_json(d, indent=2, default=str) if args.format == "json" else compare.diff_text(d))
    return 0
