"""Instructor grading of student prompt variants (``harness grade check | run``).

Flow: ``assignment.yaml`` (:mod:`.assignment`) + submissions (:mod:`.submission`: folders or a zip, contained)
+ ``roster.csv`` (:mod:`.roster`) -> one LLMOps run per variant on the dev and grading splits, with a budget
(:mod:`.engine`, :mod:`.budget`), on a local or Dask executor (:mod:`.classroom`) -> rubric points
(:mod:`.rubric`, :mod:`.scores`) -> feedback (:mod:`.feedback`) -> files (:mod:`.outputs`, the one writer).

Public face: :func:`grade_class` and :func:`check_submission`.
"""

from __future__ import annotations

import sys
from functools import partial
from pathlib import Path
from typing import Callable, Sequence

from harness.errors import HarnessInputError


def _info(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def _golden(assignment):
    from harness.golden import load_golden_set

    golden = load_golden_set(assignment.golden_dir)
    for key in ("dev_split", "grading_split"):
        split = getattr(assignment.spec, key)
        if split not in golden.manifest.splits:
            raise HarnessInputError(f"the golden set has no split {split!r} (it has {', '.join(golden.manifest.splits)})",
                                    path=assignment.path, field=key)
    return golden


def public_split_warning(assignment, golden) -> str | None:
    """One line when the grading split comes from a golden set shipped in the repository (its documents file is
    the public one: every student who clones the repository can read it), else None."""
    from golden_sets.profiles import public_profile

    prof = public_profile(golden.manifest.files.get("documents.jsonl"))
    if prof is None:
        return None
    return (f"warning: the grading split {assignment.spec.grading_split!r} is public: {golden.root} is the set "
            f"{prof.out} of the repository (seed {prof.seed}), which students can read; for a real course "
            f"generate a private one (harness golden generate --profile course --seed <a private number> --out "
            "<a private folder>) and point the assignment's golden: at it")


def grade_class(assignment_path: str | Path, submissions: str | Path, roster_path: str | Path, out: str | Path, *,
                workers: int = 1, executor: str = "local", scheduler: str | None = None, threads: int = 1,
                overrides: Sequence[str] = (), dry_run: bool = False, progress: bool | None = None,
                info: Callable[[str], None] = _info, command: str = "harness grade run",
                times: str | Path | None = None, extensions: str | Path | None = None,
                check_logs: str | Path | None = None):
    """Grade a class into ``out`` (see :mod:`harness.grading.outputs` for the files). Returns the
    :class:`~harness.grading.classroom.ClassResult`, or the plan's rows with ``dry_run``. ``times`` and
    ``extensions``: submission times and extensions against the assignment's due time
    (:mod:`harness.grading.deadlines`)."""
    from harness.paths import out_dir
    from harness.grading import canvas, classroom, deadlines, similarity
    from harness.grading.assignment import load_assignment
    from harness.grading.plan import estimate_rows
    from harness.grading.roster import load_roster, match_folders
    from harness.grading.submission import discover
    from harness.locks import hold_directory

    if executor == "dask" and not dry_run:  # before anything is read or written
        from harness.extras import require

        require("distributed", "dask", "grading on a Dask cluster", field="--executor")
    assignment = load_assignment(assignment_path)
    roster_file = load_roster(roster_path)
    roster = list(roster_file.students)
    golden = _golden(assignment)
    clock = deadlines.read_inputs(assignment, roster, times, extensions)
    if check_logs:
        from harness.grading.checklog import read_check_logs

        checks = read_check_logs(check_logs, roster, assignment.spec.name)
    else:
        checks = None
    out = out_dir(out)
    source = Path(submissions)
    if source.is_dir() and source.resolve() in (out.resolve(), *out.resolve().parents):
        raise HarnessInputError("is inside --submissions: the next run would read its folders as students'; "
                                "choose a folder outside the submissions", path=out, field="--out")
    public = public_split_warning(assignment, golden)
    if public:
        info(public)
    # one writer of OUT at a time: a second run stops here, naming the first (a killed one's lock is released)
    with hold_directory(out, "harness grade run" + (" --dry-run" if dry_run else ""), noun="grading folder"):
        source, marked_late, staged_problems = canvas.class_folder(source, out, assignment)
        found, problems, unsafe = discover(source, out / "staging", assignment.spec.limits)
        problems = [*staged_problems, *problems]
        found, unsafe, clashes = match_folders(roster, found, unsafe)  # folders named by a Canvas id too
        problems = [*problems, *clashes]
        on_roster = {s.student_id for s in roster}
        not_on_roster = tuple(sorted((set(found) | set(unsafe)) - on_roster))
        # near-duplicate prompts, flagged for a person (never a grade change); then the deadline
        # (a thunk: computed beside the variants' calls, see _grade; it imports scikit-learn, seconds cold)
        similar = None if dry_run else partial(similarity.flagged, assignment,
                                               {k: v for k, v in found.items() if k in on_roster})
        lateness = deadlines.assess_class(assignment, roster, found, clock, info)
        for sid in sorted(marked_late & set(found)):
            if not lateness or lateness.get(sid, {}).get("submitted") is None:
                info(f"{sid}: Canvas marked the submission late; its time is not known (give it with --times)")
        for sid in not_on_roster:
            info(f"not on the roster, not graded: {sid}")
        for problem in problems:
            info(f"not graded: {problem}")
        jobs, settled = classroom.plan(assignment, roster, found, unsafe, out, overrides)
        if dry_run:
            return estimate_rows(assignment, golden, jobs, settled, roster, overrides)
        return _grade(assignment, golden, roster, jobs, settled, out, not_on_roster, problems, workers=workers,
                      executor=executor, scheduler=scheduler, threads=threads, progress=progress, info=info,
                      command=command, extra={"roster": roster_file, "lateness": lateness, "similar": similar,
                                                   "checks": checks})


def _grade(assignment, golden, roster, jobs, settled, out: Path, not_on_roster, problems, *, workers, executor,
           scheduler, threads, progress, info, command, extra=None):
    """Run the planned variants (the reference first), grade them and write every output. ``extra["similar"]``
    may be a function: it runs in a thread from the first variant's result on (beside the others' calls, not
    before the first call), and its value is what the outputs get."""
    from concurrent.futures import ThreadPoolExecutor

    from harness.grading import classroom
    from harness.grading.roster import REFERENCE

    bar = classroom.progress_bar(len(jobs), progress)
    tally = {"done": 0, "failed": 0, "tokens": 0}
    extra = dict(extra or {})
    later = extra.get("similar") if callable(extra.get("similar")) else None
    beside = ThreadPoolExecutor(max_workers=1, thread_name_prefix="harness-grade-similar") if later else None
    pending = []

    def done(r) -> None:
        if beside is not None and not pending:
            pending.append(beside.submit(later))
        if r.student_id == REFERENCE:
            reference_checked(r, out, info)
        tally["done"] += 1
        tally["failed"] += r.status not in ("graded", "over budget")
        tally["tokens"] += sum(s.get("tokens", 0) for s in r.spent.values())
        slots = max(1, workers) * (max(1, threads) if executor == "dask" else 1)
        running = min(slots, len(jobs) - tally["done"])
        bar.note(f"running {running}, failed {tally['failed']}, tokens {tally['tokens']:,}")
        bar.update(1)
        spent = r.spent.get("grading", {})
        line = f"{r.student_id}: {r.status}" + (f" ({r.reason})" if r.reason else "")
        if spent:
            line += f", {spent['tokens']:,} tokens in {spent['calls']:,} calls on the grading split"
        bar.write(line)

    closers: list = []  # a Dask cluster stops beside the grading and the outputs (joined before returning)
    try:
        try:
            results = classroom.run_jobs(jobs, executor, workers, scheduler, on_done=done, threads=threads,
                                         closers=closers)
        finally:
            bar.close()
        if later is not None:
            extra["similar"] = pending[0].result() if pending else later()
        graded = _outputs(assignment, golden, roster, settled, results, out, not_on_roster, problems, command,
                          info, extra)
    finally:
        if beside is not None:
            beside.shutdown(wait=True)
        for closer in closers:
            closer.join()
    for closer in closers:
        if closer.error is not None:
            raise closer.error
    return graded


def _outputs(assignment, golden, roster, settled, results, out: Path, not_on_roster, problems, command, info,
             extra):
    """Grade the variants' results and write every output (:func:`_grade`'s second half)."""
    from harness.grading import classroom, deadlines, feedback, outputs
    from harness.grading.roster import REFERENCE

    entries, names = classroom.grade_results(assignment, roster, settled, results)
    entries, names = deadlines.apply(assignment, entries, names, (extra or {}).get("lateness"))
    result = classroom.ClassResult(assignment, tuple(entries), results.get(REFERENCE), not_on_roster,
                                   tuple(problems), names, dict(extra or {}))
    feedbacks = {e.student.student_id: feedback.student_feedback(assignment, e, result.reference, golden)
                 for e in entries}
    for sid, lt in ((extra or {}).get("lateness") or {}).items():
        if sid in feedbacks:
            feedbacks[sid]["lateness"] = deadlines.describe(lt, assignment.spec)
    outputs.write_all(result, out, feedbacks, command, info=info)
    from harness.grading.regrades import apply_regrades, read_regrades

    return apply_regrades(result, feedbacks, read_regrades(out))[0]  # as the files show it: overrides applied


def reference_checked(r, out: Path, info: Callable[[str], None]) -> None:
    """Every student is graded beside the reference: one that was not run (``invalid`` or ``error``) stops the
    class (exit 2, nothing written; graded variants are kept), one over the budget is said in a warning."""
    if r.status == "over budget":
        info(f"warning: the reference variant went over the per-student budget ({r.reason}): lines relative to "
             "the reference compare with its partial run; raise budget.tokens or budget.calls in the assignment")
    elif r.status != "graded":
        raise HarnessInputError(f"the reference variant was not run ({r.status}: {r.reason}); no student is graded "
                                "against a missing reference (nothing was written; graded variants are kept for "
                                "the next run)", path=out / "reference")


def check_submission(submission: str | Path, assignment_path: str | Path, out: str | Path, *,
                     overrides: Sequence[str] = (), info: Callable[[str], None] = _info,
                     log: str | Path | None = None):
    """A student's self-check: validate the submission, run it and the reference on the dev split only, and
    grade the dev run with the rubric; the check is appended to the student's log (``log``, default
    ``OUT/check-log.jsonl``: :mod:`harness.grading.checklog`). Returns (Invalid | (Grade, feedback dict))."""
    from harness.paths import out_dir
    from harness.grading import classroom, feedback
    from harness.grading.assignment import load_assignment
    from harness.grading.engine import Job
    from harness.grading.roster import REFERENCE
    from harness.grading.roster import Student
    from harness.grading.scores import grade_variant
    from harness.grading.submission import Invalid, load_submission, open_one
    from harness.locks import hold_directory
    from harness.store import load_run

    assignment = load_assignment(assignment_path)
    golden = _golden(assignment)
    out = out_dir(out)
    with hold_directory(out, "harness grade check", noun="self-check folder"):
        folder = open_one(Path(submission), out / "staging", assignment.spec.limits)
        if isinstance(folder, Invalid):
            return folder
        sub = load_submission("self", folder, assignment)
        if isinstance(sub, Invalid):
            return sub
        info(f"submission valid: {', '.join(sorted(sub.prompts)) or 'no prompt of its own'}"
             + (f"; settings {', '.join(f'{k}={v}' for k, v in sorted(sub.settings.items()))}" if sub.settings
                else ""))
        jobs = [Job(REFERENCE, str(assignment.path), None, str(out / REFERENCE), tuple(overrides), splits=("dev",)),
                Job("self", str(assignment.path), str(folder), str(out / "self"), tuple(overrides), splits=("dev",))]
        results = classroom.run_jobs(jobs)
    reference_checked(results[REFERENCE], out, info)
    mine = results["self"]
    if mine.status == "error":  # a crash or a folder held by another process: not the submission's fault
        raise HarnessInputError(mine.reason, path=out / "self")
    if mine.status not in ("graded", "over budget"):
        return Invalid("self", mine.reason or mine.status)
    g = grade_variant(assignment, mine, results[REFERENCE], role="dev")
    from harness.grading.checklog import LOG, append_check, check_record

    append_check(Path(log) if log else out / LOG, check_record(sub.sha256, assignment, g))
    entry = classroom.Entry(Student("self", "you", ""), mine.status, mine.reason, variant=mine, grade=g)
    fb = feedback.student_feedback(assignment, entry, None, golden, role="dev")
    fb["comparison"] = feedback.comparison(load_run(results[REFERENCE].runs["dev"]), load_run(mine.runs["dev"]), golden)
    return g, fb
