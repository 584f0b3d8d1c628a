"""Run one variant (a student's submission or the reference) on the dev and grading splits.

:func:`run_variant` takes a :class:`Job` made of plain values, so the same function runs in a thread of this
process or on a Dask worker; it writes only under the job's own directory (``OUT/students/<id>/`` or
``OUT/reference/``) and returns a :class:`VariantResult` as plain data. A variant already run with the same
assignment, submission and overrides is not run again (its ``result.json`` is read back); a variant killed
half-way resumes from its run directories (the run store keeps every finished item).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from harness.errors import HarnessInputError
from harness.extras import MissingExtra
from harness.files import dumps_json, read_json
from harness.grading.roster import REFERENCE

RESULT = "result.json"


@dataclass(frozen=True)
class Job:
    """One variant to run: plain values only (pickled to Dask workers)."""
    student_id: str
    assignment: str  # path of assignment.yaml
    folder: str | None  # the submission folder (None: the reference)
    work_dir: str  # OUT/students/<id> or OUT/reference
    overrides: tuple[str, ...] = ()  # the instructor's --set
    splits: tuple[str, ...] = ("grading", "dev")  # which of the assignment's splits to run ("grading", "dev")
    calls: tuple[str, int, int] | None = None  # (the class run's token, call slots in this process, head start
    # in calls: budget.head_start); None: no limit but the executor's threads


@dataclass(frozen=True)
class VariantResult:
    """What running one variant gave (plain data; ``result.json``)."""
    student_id: str
    status: str  # graded | over budget | invalid | error
    reason: str = ""
    identity: str = ""
    runs: dict = field(default_factory=dict)  # split role -> run directory
    spent: dict = field(default_factory=dict)  # split role -> {tokens, calls, seconds}
    over_budget: dict = field(default_factory=dict)  # split role -> sentence
    failures: dict = field(default_factory=dict)  # split role -> {failure kind: count}
    prompts: dict = field(default_factory=dict)  # task -> {ref, sha256, own}
    settings: dict = field(default_factory=dict)  # the student's settings
    notes: tuple = ()

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, d: dict) -> "VariantResult":
        return cls(**{**d, "notes": tuple(d.get("notes", ()))})


def identity(assignment_sha: str, submission_sha: str | None, overrides: tuple[str, ...],
             splits: tuple[str, ...]) -> str:
    """What a variant's outcome depends on: assignment, submission, instructor overrides, splits run."""
    data = json.dumps([assignment_sha, submission_sha, list(overrides), list(splits)])
    return hashlib.sha256(data.encode()).hexdigest()


def _quiet(_msg: str) -> None:
    """Pipeline notes inside a variant are not printed (one line per student is, by the coordinator)."""


def run_variant(job: Job) -> VariantResult:
    """Run one variant (see the module docstring). Never raises for a problem of the submission or of a model
    call: those come back as ``invalid`` or ``error`` with a reason that names no hidden document."""
    from harness.grading.assignment import load_assignment
    from harness.grading.submission import Invalid, load_submission
    from harness.locks import DirectoryBusy, hold_directory

    assignment = load_assignment(job.assignment)
    work = Path(job.work_dir)
    sub = None
    if job.folder is not None:
        sub = load_submission(job.student_id, Path(job.folder), assignment)
        if isinstance(sub, Invalid):
            return VariantResult(job.student_id, "invalid", sub.reason)
    ident = identity(assignment.sha256, sub.sha256 if sub else None, job.overrides, job.splits)
    try:
        with hold_directory(work, f"harness grade ({job.student_id})", noun="variant folder"):
            return _run_held(job, assignment, sub, ident, work)
    except DirectoryBusy as exc:
        # another process's lock is never the student's fault: an error for the instructor, retried next run
        return VariantResult(job.student_id, "error", f"not run: {exc.problem}", identity=ident)


def _run_held(job: Job, assignment, sub, ident: str, work: Path) -> VariantResult:
    """:func:`run_variant` once the variant's folder is held."""
    from harness.locks import DirectoryBusy

    done = work / RESULT
    if done.is_file():
        try:
            old = VariantResult.from_json(read_json(done, "variant result"))
            if old.identity == ident and old.status != "error":  # a crash is retried on the next run
                return old
        except (HarnessInputError, TypeError):
            pass  # unreadable or from another version: run again
    try:
        result = _run(job, assignment, sub, ident, work / ident[:12])
    except (DirectoryBusy, MissingExtra):  # a run folder held by another process, an extra not installed here:
        raise  # not the submission's fault (run_variant); a missing extra stops the class with its one line
    except HarnessInputError as exc:
        # a setting or prompt the pipeline refused: the submission's fault, said without hidden data
        result = VariantResult(job.student_id, "invalid", exc.problem[:200], identity=ident)
    except Exception as exc:  # noqa: BLE001 - one variant's crash never stops the class
        import traceback

        # the traceback (which may quote hidden documents) goes to the instructor's folder, not the reason
        work.mkdir(parents=True, exist_ok=True)
        (work / "error.txt").write_text(traceback.format_exc(), encoding="utf-8")
        result = VariantResult(job.student_id, "error", f"{type(exc).__name__} while running the variant (the "
                               f"traceback is in {work.name}/error.txt, for the instructor)", identity=ident)
    work.mkdir(parents=True, exist_ok=True)
    tmp = done.with_suffix(".tmp")
    tmp.write_text(dumps_json(result.to_json(), indent=2), encoding="utf-8")
    tmp.replace(done)
    return result


def variant_overrides(assignment, sub, prompt_refs: dict, prompt_dir: Path, extra: tuple[str, ...]) -> list[str]:
    """The pipeline settings of a variant, in order: the assignment's, the tasks and prompts, the student's
    settings, then the instructor's ``--set`` (which wins)."""
    from harness.grading.submission import overrides as student_settings

    out = list(assignment.spec.pipeline.set)
    out.append("tasks=[" + ", ".join(assignment.spec.tasks) + "]")
    out.append(f"prompts.dir={prompt_dir.resolve()}")
    out += [f"prompts.{task}={ref}" for task, ref in sorted(prompt_refs.items())]
    if sub is not None:
        out += student_settings(sub)
    return out + list(extra)


def _run(job: Job, assignment, sub, ident: str, where: Path) -> VariantResult:
    from contextlib import nullcontext

    from harness import runner
    from harness.golden import load_golden_set
    from harness.grading.budget import BudgetedPredictor, call_slots, spent_by
    from harness.grading.rubric import failure_kind
    from harness.grading.plan import reference_templates, variant_config
    from harness.grading.submission import Submission, write_prompt_dir
    from harness.models import shared_clients
    from harness.pipelines import build_predictor
    from harness.scoring import score_run
    from harness.store import RunStore

    golden = load_golden_set(assignment.golden_dir)
    baseline = {t: p.ref for t, p in reference_templates(assignment, variant_config(assignment, None)).items()}
    refs = write_prompt_dir(sub or Submission(job.student_id, where, {}, {}, ""), assignment.reference_prompts,
                            where / "prompts", assignment.spec.tasks, reference=baseline)
    sets = variant_overrides(assignment, sub, refs, where / "prompts", job.overrides)
    slots = call_slots(*job.calls[:2]) if job.calls else None
    # one build at a time; the variants of this process share one Bedrock client (as many connections as slots)
    with (slots.building if slots else nullcontext()), (shared_clients(slots.n) if slots else nullcontext()):
        built = build_predictor("llmops", golden, str(assignment.pipeline_config) if assignment.pipeline_config
                                else None, sets, progress=_quiet)
    splits = {"grading": assignment.spec.grading_split, "dev": assignment.spec.dev_split}
    runs, spent, over, failures = {}, {}, {}, {}
    ahead = job.calls[2] if job.calls else 0
    with built.predictor as inner:
        for role in job.splits:
            run_dir = where / role
            predictor = BudgetedPredictor(inner, assignment.spec.budget,
                                          spent_by(RunStore(run_dir).predictions()) if RunStore(run_dir).exists()
                                          else spent_by(()), slots=slots, ahead=ahead)
            try:
                result = runner.execute(predictor, golden, splits[role], run_dir, config=built.config,
                                        config_hash=built.config_hash, batch_size=1, concurrency=1,
                                        progress=False, overwrite="stale",
                                        extra={"grading": {"student": job.student_id, "role": role}})
            finally:
                predictor.release()  # a slot still held (an item that raised) goes back to the class
            ahead -= predictor.spent.calls
            metrics = score_run(run_dir, golden, progress=False, info=_quiet, held=result.held)
            preds = RunStore(run_dir).predictions(result.held)
            total = spent_by(preds)
            runs[role] = str(run_dir)
            cost = (metrics.get("cost") or {}).get("measured")  # model and embedding usage, priced; no fixed rows
            spent[role] = {"tokens": total.tokens, "calls": total.calls, "seconds": round(total.seconds, 3),
                           "cost_usd": cost}
            kinds: dict[str, int] = {}
            for p in preds:
                for r in p.tasks.values():
                    if r.error:
                        k = failure_kind(r.error)
                        kinds[k] = kinds.get(k, 0) + 1
            failures[role] = dict(sorted(kinds.items()))
            if kinds.get("over_budget"):
                over[role] = _first_over(preds)
    prompts = {task: {"ref": ref, "own": sub is not None and task in sub.prompts} for task, ref in refs.items()}
    status = "over budget" if "grading" in over else "graded"
    return VariantResult(job.student_id, status, over.get("grading", ""), identity=ident, runs=runs, spent=spent,
                         over_budget=over, failures=failures, prompts=prompts,
                         settings=dict(sub.settings) if sub else {}, notes=tuple(sub.notes) if sub else ())


def _first_over(preds) -> str:
    for p in preds:
        for r in p.tasks.values():
            if r.error and r.error.startswith("over budget"):
                return r.error
    return "over budget"
