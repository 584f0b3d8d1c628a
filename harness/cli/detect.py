"""``harness detect``: the offline hallucination detector on a labelled file (HaluEval, SummEdits, JSONL)."""

from __future__ import annotations

from harness.render import table as render_table


def register(sub) -> None:
    p = sub.add_parser("detect", help="run the offline hallucination detector on a labelled file")
    p.add_argument("file")
    p.add_argument("--format", dest="fmt", choices=["halueval", "summedits", "jsonl"], required=True)
    p.add_argument("--out", help="directory for per-item verdicts (verdicts.jsonl) and detect.json")
    p.add_argument("--json", action="store_true", help="print the figures as JSON")
    p.add_argument("--min-support", type=float, help="override the documented threshold")
    p.set_defaults(func=detect_command)


def detect_command(args) -> int:
    from harness.detect import run_detect
    from harness.files import dumps_json
    from harness.paths import out_dir, out_file

    if args.out:  # checked before the detector runs: a file, or a folder where a file goes, is exit 2
        out = out_dir(args.out)
        files = out_file(out / "verdicts.jsonl"), out_file(out / "detect.json")
    report, verdicts = run_detect(args.fmt, args.file, args.min_support)
    if args.out:
        from harness.pages import write_page

        write_page(files[0], "".join(dumps_json(v, ensure_ascii=False) + "\n" for v in verdicts))
        write_page(files[1], dumps_json(report, indent=2) + "\n")
    if args.json:
        print(dumps_json(report, indent=2))
        return 0

    def pct(v):
        return "-" if v is None else f"{100 * v:.1f}%"

    print(f"{args.fmt}: {args.file} (min_support {report['min_support']:g})")
    rows = [[title, report[key]["n"], pct(report[key]["precision"]), pct(report[key]["recall"]), pct(report[key]["f1"]),
             pct(report[key]["balanced_accuracy"])]
            for key, title in (("half_A_tuning", "half A (tuning)"), ("half_B_held_out", "half B (held out)"),
                               ("all", "all"))]
    print(render_table(["items", "n", "precision", "recall", "F1", "balanced acc"], rows))
    return 0
