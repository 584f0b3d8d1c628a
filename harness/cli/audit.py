"""``harness audit``: a chained governance record of one run (case study section 4, EU AI Act Art. 12), and
``harness audit --verify RESULTS_DIR``, the check of every chain in a results directory."""

from __future__ import annotations


def register(sub) -> None:
    p = sub.add_parser("audit", help="a governance record of a run, chained in its results directory; --verify "
                       "checks the chain")
    p.add_argument("run", nargs="?", metavar="RUN", help="the run directory to record")
    p.add_argument("--verify", metavar="RESULTS_DIR", help="check every record's hash, link and cited files in "
                   "RESULTS_DIR/audit/ (exit 1 naming the first record that does not match)")
    p.add_argument("--format", choices=["md", "json", "html"], default="md")
    p.add_argument("--out", metavar="FILE", help="write the record to this file instead of printing")
    p.add_argument("--governance", metavar="FILE", help="the system, intended purpose and risk analysis (default: "
                   "the case study's TechCorp analysis, harness/governance/governance.yaml)")
    p.add_argument("--criteria", metavar="FILE", help="criteria file (default: the TechCorp pilot's)")
    p.add_argument("--incidents", metavar="FILE", help="incident log (YAML: incidents: [{type: ..., ...}])")
    p.set_defaults(func=audit_command)


def audit_command(args) -> int:
    from harness.errors import HarnessInputError

    if bool(args.run) == bool(args.verify):
        raise HarnessInputError("give a RUN to record or --verify RESULTS_DIR (one of the two)", field="RUN")
    if args.verify:
        from pathlib import Path

        from harness.governance.audit import verify_chain, verify_text

        if not Path(args.verify).is_dir():
            raise HarnessInputError("not a directory of runs", path=args.verify)
        problems = verify_chain(args.verify)
        print(verify_text(args.verify, problems))
        return 1 if problems else 0
    from harness.cli.common import emit, info
    from harness.files import dumps_json
    from harness.paths import out_file
    from harness.governance.audit import append_record, record_markdown
    from harness.governance.risk import load_governance
    from harness.store import load_run

    if args.out:
        out_file(args.out)
    run = load_run(args.run)
    record = append_record(run, load_governance(args.governance), criteria_path=args.criteria,
                           incidents_path=args.incidents)
    info(f"record {record['seq']} of {record['system']} appended to {run.path.parent / 'audit' / (record['system'] + '.jsonl')} "
         f"(hash {record['hash'][:16]})")
    if args.format == "json":
        text = dumps_json(record, indent=2, default=str)
    elif args.format == "html":
        from harness.pages.governance import audit_page

        text = audit_page(record, command="harness audit " + args.run)
    else:
        text = record_markdown(record)
    emit(text, args.out)
    return 0
