"""``harness grade check`` (a student's self-check on the dev split), ``harness grade run`` (an instructor
grades the class), ``harness grade override`` (a regrade), ``harness grade gradescope-bundle`` (a Gradescope
autograder) and ``harness grade autograde`` (what the autograder runs)."""

from __future__ import annotations

import sys

from harness.cli.common import info, progress_flag
from harness.errors import HarnessInputError

MAX_PARALLEL = 256  # --workers, --threads: variants (or worker processes) at once


def register(sub) -> None:
    p = sub.add_parser("grade", help="grade student prompt variants (instructors) or check one (students)")
    gsub = p.add_subparsers(dest="grade_command", required=True)

    c = gsub.add_parser("check", help="validate a submission and run it on the dev split, with the grade's breakdown")
    c.add_argument("submission", help="the submission folder (or a zip of its files)")
    c.add_argument("--assignment", required=True, help="the course's assignment.yaml")
    c.add_argument("--out", default="results/grade-check", help="where the dev runs go (default %(default)s)")
    c.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override a pipeline setting of the assignment (e.g. a Bedrock endpoint)")
    c.add_argument("--log", help="the check log this check is appended to (default: OUT/check-log.jsonl); hand "
                   "it in if your instructor asks for it")
    c.set_defaults(func=check_command)

    r = gsub.add_parser("run", help="grade a class: grades.csv, gradebook import, Gradescope results, feedback, "
                        "leaderboard, summary")
    r.add_argument("--assignment", required=True)
    r.add_argument("--submissions", required=True, help="a folder of <student_id>/ folders, or a zip of them")
    r.add_argument("--roster", required=True, help="roster.csv (student_id,name,email[,section,sis_login_id]) or "
                   "Canvas's gradebook export as downloaded")
    r.add_argument("--out", required=True, help="output folder (a rerun resumes and reuses what is graded)")
    r.add_argument("--workers", type=int, default=1, help="local: variants run at once (threads); dask: worker "
                   "processes of the LocalCluster (default %(default)s)")
    r.add_argument("--threads", type=int, default=1, help="dask: variants run at once in each worker process "
                   "(default %(default)s; more than 1 pays off with Bedrock, not with the local model)")
    r.add_argument("--executor", choices=["local", "dask"], default="local",
                   help="local: threads in this process; dask: a Dask cluster (default %(default)s)")
    r.add_argument("--scheduler", help="dask: address of a running scheduler, tcp://HOST:8786 (default: a "
                   "LocalCluster of --workers processes on loopback)")
    r.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override a pipeline setting of the assignment, as in harness run")
    r.add_argument("--times", help="when each student submitted: a CSV student_id,submitted_at or Gradescope's "
                   "submission_metadata.yml (against the assignment's due time; unknown: on time)")
    r.add_argument("--extensions", help="a CSV student_id and one of days, hours or due: extensions of the due "
                   "time")
    r.add_argument("--check-logs", help="a folder of the students' check logs (<student id>.jsonl, from "
                   "harness grade check): the summary shows how many checks each student ran")
    r.add_argument("--dry-run", action="store_true", help="validate every submission and print the plan (calls, "
                   "tokens, budget) without calling a model")
    r.add_argument("--no-progress", action="store_true")
    r.set_defaults(func=run_command)

    o = gsub.add_parser("override", help="override a student's grade (or one rubric line) with a reason; every "
                        "export is written again and regrades.jsonl keeps the record")
    o.add_argument("out", metavar="OUT", help="the folder harness grade run wrote")
    o.add_argument("--student", required=True, help="the student id (grades.csv's student_id)")
    o.add_argument("--points", required=True, type=float, help="the new total (or the line's new points)")
    o.add_argument("--reason", required=True, help="why (the student reads it in the feedback)")
    o.add_argument("--rubric-line", help="override this rubric line's points instead of the total")
    o.add_argument("--by", help="who overrides (default: the user name)")
    o.set_defaults(func=override_command)

    b = gsub.add_parser("gradescope-bundle", help="write a Gradescope autograder zip (setup.sh, run_autograder) for "
                        "the assignment")
    b.add_argument("--assignment", required=True)
    b.add_argument("--out", required=True, help="the zip to write, e.g. autograder.zip")
    b.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="a pipeline setting the autograder uses (e.g. llm.provider=bedrock), added to the "
                   "assignment's pipeline.set")
    b.set_defaults(func=bundle_command)

    a = gsub.add_parser("autograde", help="grade one submission on the grading split into Gradescope's "
                        "results.json (what the bundle's run_autograder runs)")
    a.add_argument("--assignment", required=True)
    a.add_argument("--submission", required=True, help="the student's files (/autograder/submission)")
    a.add_argument("--results", required=True, help="results.json to write (/autograder/results/results.json)")
    a.add_argument("--work", required=True, help="a folder for the runs (/autograder/work)")
    a.set_defaults(func=autograde_command)


def _command(args) -> str:
    parts = ["harness grade run", "--assignment", args.assignment, "--submissions", args.submissions, "--roster",
             args.roster, "--out", args.out]
    for flag in ("times", "extensions", "check_logs"):
        if getattr(args, flag):
            parts += [f"--{flag.replace('_', '-')}", getattr(args, flag)]
    return " ".join(parts)


def run_command(args) -> int:
    from harness.grading import grade_class
    from harness.grading.outputs import _total
    from harness.render import table

    for name in ("workers", "threads"):
        if not 1 <= getattr(args, name) <= MAX_PARALLEL:
            raise HarnessInputError(f"must be between 1 and {MAX_PARALLEL}", field=f"--{name}")
    if args.scheduler and args.executor != "dask":
        raise HarnessInputError("--scheduler needs --executor dask", field="--scheduler")
    result = grade_class(args.assignment, args.submissions, args.roster, args.out, workers=args.workers,
                         executor=args.executor, scheduler=args.scheduler, threads=args.threads, overrides=args.overrides,
                         dry_run=args.dry_run, progress=progress_flag(args), info=info, command=_command(args),
                         times=args.times, extensions=args.extensions, check_logs=args.check_logs)
    if args.dry_run:
        cols = ["student", "status", "calls", "input_tokens", "max_output_tokens", "grading_tokens_max",
                "budget_tokens", "budget_calls", "fits", "reason"]
        rows = [[_cell(r.get(c)) for c in cols] for r in result]
        print(table(cols, rows))
        print("dry run: no model was called. Tokens are estimates (about 4 characters per token; outputs at most "
              "max_tokens).")
        return 0
    rows = [[e.student.student_id, e.status, e.reason[:90] + ("..." if len(e.reason) > 90 else ""),
             _total(e)] for e in result.entries]
    print(table(["student", "status", "reason", "total"], rows, right_align_from=3))
    print(f"\nwrote {args.out}/grades.csv, gradebook.csv, gradescope/, feedback/, leaderboard.html, summary.html")
    return 0


def override_command(args) -> int:
    import getpass

    from harness.grading.outputs import override
    from harness.grading.regrades import POINTS_LIMIT

    if not -POINTS_LIMIT <= args.points <= POINTS_LIMIT:
        raise HarnessInputError(f"must be between {-POINTS_LIMIT:,.0f} and {POINTS_LIMIT:,.0f}", field="--points")
    if args.rubric_line is None and args.points < 0:
        raise HarnessInputError("a total cannot be negative", field="--points")
    try:
        by = args.by or getpass.getuser()
    except (KeyError, OSError):
        by = "unknown"
    r = override(args.out, args.student, args.points, args.reason, args.rubric_line, by)
    old = "none" if r.old is None else f"{r.old:.2f}"
    print(f"{r.student}: {r.rubric_line or 'total'} {old} -> {r.new:.2f} (by {r.by}: {r.reason}); recorded in "
          f"{args.out}/regrades.jsonl, every export written again")
    return 0


def bundle_command(args) -> int:
    from harness.grading.gradescope import bundle

    path, names = bundle(args.assignment, args.out, args.overrides)
    print(f"wrote {path}: setup.sh, run_autograder and the assignment ({len(names) - 2} files); upload it as the "
          "assignment's autograder on Gradescope (Configure Autograder > Zip file upload)")
    return 0


def autograde_command(args) -> int:
    from harness.grading.gradescope import autograde

    return autograde(args.assignment, args.submission, args.results, args.work)


def _cell(v) -> str:
    if v is None:
        return "-"
    return f"{v:,}" if isinstance(v, int) else str(v)


def check_command(args) -> int:
    from harness.grading import check_submission
    from harness.grading.markdown import feedback_md
    from harness.grading.outputs import _md_table
    from harness.grading.submission import Invalid

    res = check_submission(args.submission, args.assignment, args.out, overrides=args.overrides, info=info,
                           log=args.log)
    if isinstance(res, Invalid):
        print(f"invalid: {res.reason}", file=sys.stderr)
        return 1
    _, fb = res
    fb = {**fb, "title": fb["title"] + " (dev split: your self-check)"}
    print(feedback_md(fb, _md_table))
    print("These points are computed on the dev split; the grade uses the same rubric on the hidden grading split.")
    return 0
