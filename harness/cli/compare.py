"""``harness compare`` (paired statistics between two runs) and ``harness diff`` (per-document changes)."""

from __future__ import annotations


def register(sub) -> None:
    p = sub.add_parser("compare", help="paired statistics between two runs on the same golden split")
    p.add_argument("run_a")
    p.add_argument("run_b")
    p.add_argument("--format", choices=["table", "json", "md"], default="table")
    p.set_defaults(func=compare_command)

    p = sub.add_parser("diff", help="per-document changes and metric deltas between two runs")
    p.add_argument("run_a")
    p.add_argument("run_b")
    p.add_argument("--format", choices=["text", "json"], default="text")
    p.set_defaults(func=diff_command)


def compare_command(args) -> int:
    from harness import compare
    from harness.store import load_run

    a, b = load_run(args.run_a), load_run(args.run_b)
    print(compare.comparison_table(a, b, compare.compare(a, b), args.format))
    return 0


def diff_command(args) -> int:
    from harness import compare
    from harness.files import dumps_json
    from harness.store import load_run

    d = compare.diff(load_run(args.run_a), load_run(args.run_b))
    print(dumps_json(d, indent=2, default=str) if args.format == "json" else compare.diff_text(d))
    return 0
