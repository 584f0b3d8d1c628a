"""Grade a class: submissions + roster -> one variant run per student (and the reference once) -> rubric
points -> the outputs of :mod:`harness.grading.outputs`.

Variants run on an executor: ``local`` (threads in this process, each variant with its own model instance)
or ``dask`` (a ``distributed`` cluster: a ``LocalCluster`` of ``workers`` processes on loopback, or the
scheduler at ``scheduler``). Either way each variant is :func:`harness.grading.engine.run_variant` on a plain
:class:`~harness.grading.engine.Job`, and grades are computed here, after every variant is back, in roster
order: the same inputs give the same ``grades.csv`` whatever the executor, the number of workers or the order
in which variants finished.

``workers`` (local) or ``threads`` (a ``LocalCluster``'s worker process) are the model calls at once: the
slots (:class:`harness.grading.budget.CallSlots`) are shared by call, not by variant. With a model over the
network, :data:`OPEN_PER_SLOT` variants per slot are open, so a slot a variant leaves (between its items,
building its predictor, scoring) serves another variant's call and the last variants do not run alone; the
embedded local model keeps one open variant per slot (each open variant loads its own model).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Sequence

from harness.grading.engine import Job, VariantResult, run_variant
from harness.grading.roster import REFERENCE
from harness.grading.roster import Student

EXECUTORS = ("local", "dask")
OPEN_PER_SLOT = 3  # variants open per call slot when the model is called over the network


@dataclass(frozen=True)
class Entry:
    """One roster student's outcome."""
    student: Student
    status: str  # graded | over budget | invalid | missing | error
    reason: str = ""
    variant: VariantResult | None = None
    grade: object | None = None  # rubric.Grade for graded / over budget


@dataclass(frozen=True)
class ClassResult:
    assignment: object  # Assignment
    entries: tuple[Entry, ...]
    reference: VariantResult | None
    not_on_roster: tuple[str, ...] = ()
    problems: tuple[str, ...] = ()
    line_names: tuple[str, ...] = ()
    extra: dict = field(default_factory=dict)


def plan(assignment, roster: Sequence[Student], found: dict[str, Path], unsafe: dict[str, str], out: Path,
         overrides: Sequence[str]) -> tuple[list[Job], dict[str, tuple[str, str]]]:
    """The jobs (reference first, then roster order) and the students settled without a run:
    student -> (status, reason)."""
    from harness.grading.submission import Invalid, load_submission

    # the dev split is run only for the feedback's examples
    splits = ("grading", "dev") if assignment.spec.feedback_examples else ("grading",)
    jobs = [Job(REFERENCE, str(assignment.path), None, str(out / REFERENCE), tuple(overrides), splits)]
    settled: dict[str, tuple[str, str]] = {}
    for s in roster:
        if s.student_id in unsafe:
            settled[s.student_id] = ("invalid", unsafe[s.student_id])
        elif s.student_id not in found:
            settled[s.student_id] = ("missing", "no submission")
        else:
            sub = load_submission(s.student_id, found[s.student_id], assignment)
            if isinstance(sub, Invalid):
                settled[s.student_id] = ("invalid", sub.reason)
            else:
                jobs.append(Job(s.student_id, str(assignment.path), str(found[s.student_id]),
                                str(out / "students" / s.student_id), tuple(overrides), splits))
    return jobs, settled


def run_jobs(jobs: Sequence[Job], executor: str = "local", workers: int = 1, scheduler: str | None = None,
             on_done: Callable[[VariantResult], None] | None = None, threads: int = 1,
             closers: list | None = None) -> dict[str, VariantResult]:
    """Run every job on the executor (``local``: ``workers`` threads; ``dask``: ``workers`` processes of
    ``threads`` threads each); ``on_done`` sees each result as it arrives. Results by student id.

    ``closers``: when given, the Dask client and the cluster this call started are closed by a thread appended
    to it, which the caller joins once its own work is done (a ``LocalCluster``'s worker processes take seconds
    to stop, beside the grades and outputs written meanwhile), then raises its ``error`` if closing failed;
    without it they are closed before returning."""
    if executor not in EXECUTORS:
        raise ValueError(f"unknown executor {executor!r}")
    import uuid
    from contextlib import closing
    from dataclasses import replace

    from harness.grading.budget import head_start

    results: dict[str, VariantResult] = {}
    token, per_slot = uuid.uuid4().hex, open_per_slot(jobs)

    def shared(per_process: int, total: int) -> list[Job]:
        return [replace(j, calls=(token, per_process, head_start(i, len(jobs), total))) for i, j in enumerate(jobs)]

    if executor == "local":
        slots = max(1, workers)
        if slots > 1:
            jobs = shared(slots, slots)
        run = _run_local(jobs, min(len(jobs), slots * per_slot) if slots > 1 else 1)
    elif scheduler:  # another cluster's workers: their threads, one variant each, as they are
        run = _run_dask(jobs, workers, threads, scheduler, closers)
    else:
        slots = max(1, threads)
        jobs = shared(slots, slots * max(1, workers))
        run = _run_dask(jobs, workers, slots * per_slot, scheduler, closers)
    with closing(run):  # ``on_done`` raising stops the class: variants not started are cancelled
        for r in run:
            results[r.student_id] = r
            if on_done is not None:
                on_done(r)
    return results


def open_per_slot(jobs: Sequence[Job]) -> int:
    """Variants open per call slot: :data:`OPEN_PER_SLOT` when the reference calls its model over the network
    (Bedrock), 1 with the embedded local model (an open variant holds a model of its own in memory)."""
    if not jobs:
        return 1
    try:
        from harness.grading.assignment import load_assignment
        from harness.grading.plan import variant_config

        cfg = variant_config(load_assignment(jobs[0].assignment), None, jobs[0].overrides)
    except Exception:  # noqa: BLE001 - the variant itself says what is wrong with its settings
        return 1
    return OPEN_PER_SLOT if cfg.llm.provider == "bedrock" else 1


def _run_local(jobs: Sequence[Job], workers: int) -> Iterable[VariantResult]:
    from concurrent.futures import ThreadPoolExecutor, as_completed

    if workers <= 1:
        for job in jobs:
            yield run_variant(job)
        return
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="harness-grade")
    try:
        futures = [pool.submit(run_variant, job) for job in jobs]
        for fut in as_completed(futures):
            yield fut.result()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _run_dask(jobs: Sequence[Job], workers: int, threads: int, scheduler: str | None,
              closers: list | None = None) -> Iterable[VariantResult]:
    """Variants as Dask tasks (one per student, retried never: a crash is an ``error`` result already); the
    client and cluster closed at the end, by a thread appended to ``closers`` when it is given."""
    import logging

    from distributed import Client, LocalCluster, as_completed

    logging.getLogger("distributed").setLevel(logging.ERROR)
    cluster = None
    if scheduler:
        client = Client(scheduler, timeout="30s")
    else:
        # loopback only, no dashboard: nothing listens beyond this machine
        cluster = LocalCluster(n_workers=max(1, workers), threads_per_worker=max(1, threads), processes=True, host="127.0.0.1",
                               dashboard_address=None, silence_logs=logging.ERROR)
        client = Client(cluster)
    try:
        futures = [client.submit(run_variant, job, key=f"variant-{job.student_id}", pure=False) for job in jobs]
        for fut in as_completed(futures):
            yield fut.result()
    finally:
        def close() -> None:
            client.close()
            if cluster is not None:
                cluster.close()

        if closers is None:
            close()
        else:
            import threading

            def close_keeping_error() -> None:  # the joiner raises it (``closer.error``), no traceback here
                try:
                    close()
                except BaseException as exc:  # noqa: BLE001
                    closer.error = exc

            closer = threading.Thread(target=close_keeping_error, name="harness-dask-close")
            closer.error = None
            closer.start()
            closers.append(closer)


def grade_results(assignment, roster: Sequence[Student], settled: dict[str, tuple[str, str]],
                  results: dict[str, VariantResult]) -> tuple[list[Entry], tuple[str, ...]]:
    """Rubric points for every roster student, in roster order; returns (entries, rubric line names)."""
    from harness.grading.scores import grade_variant

    ref = results.get(REFERENCE)
    entries, names = [], None
    for s in roster:
        if s.student_id in settled:
            status, reason = settled[s.student_id]
            entries.append(Entry(s, status, reason))
            continue
        r = results[s.student_id]
        if r.status not in ("graded", "over budget"):
            entries.append(Entry(s, r.status, r.reason, variant=r))
            continue
        g = grade_variant(assignment, r, ref)
        names = names or tuple(line.name for line in g.lines)
        entries.append(Entry(s, r.status, r.reason, variant=r, grade=g))
    if names is None:
        names = tuple(grade_line_names(assignment))
    return entries, names


def grade_line_names(assignment) -> list[str]:
    from harness.grading.scores import line_names

    return line_names(assignment)


def progress_bar(total: int, enabled: bool | None):
    """The class-level progress: variants done of ``total``, with running/failed/tokens as its note."""
    from harness.progress import progress

    return progress(total, "grading", "variant", enabled=enabled)
