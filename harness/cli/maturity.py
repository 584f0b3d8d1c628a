"""``harness maturity``: the maturity level a results directory shows (case study section 3), from evidence."""

from __future__ import annotations


def register(sub) -> None:
    p = sub.add_parser("maturity", help="LLMOps and MLOps maturity level from a results directory's evidence "
                       "(case study section 3)")
    p.add_argument("results_dir", metavar="RESULTS_DIR", help="a directory of run directories (e.g. results)")
    p.add_argument("--shadow", metavar="DB", help="a comparison database (harness shadow simulate/ingest): its weeks "
                   "add to the trends and monitoring")
    p.add_argument("--format", choices=["table", "md", "json", "html"], default="table")
    p.add_argument("--out", metavar="FILE", help="write to this file instead of printing (the usual way for html)")
    p.add_argument("--reproduce", type=int, default=2, metavar="N",
                   help="recorded model calls to make again from the call cache (default 2; each is a real call; "
                   "0: not checked)")
    p.add_argument("--maturity", metavar="FILE", help="the entries and their evidence kinds (default: "
                   "harness/governance/maturity.yaml, case study section 3)")
    p.set_defaults(func=maturity_command)


def maturity_command(args) -> int:
    from harness.cli.common import emit, info
    from harness.errors import HarnessInputError
    from harness.files import dumps_json
    from harness.paths import out_file

    if args.out:
        out_file(args.out)
    if not 0 <= args.reproduce <= 1000:
        raise HarnessInputError("must be 0 to 1000", field="--reproduce")
    from harness.governance.maturity import assess, assessment_text, load_maturity

    a = assess(args.results_dir, shadow=args.shadow, maturity=load_maturity(args.maturity),
               reproduce=args.reproduce, progress=info)
    if args.format == "html":
        from harness.pages.governance import maturity_page

        text = maturity_page(a, command="harness maturity " + args.results_dir)
    elif args.format == "json":
        text = dumps_json(a.to_dict(), indent=2, default=str)
    else:
        text = assessment_text(a, args.format)
    emit(text, args.out)
    return 0
