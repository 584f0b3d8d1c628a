"""How a run's batches are predicted: one call per task and batch, timed (:func:`run_batch`), in this process, in
threads (``concurrency``: each item written as soon as it is done) or over processes (a predictor's
:meth:`~harness.predictor.Predictor.in_processes`: this one and worker processes, guided batches). The runner
(:mod:`harness.runner`) decides which and writes what comes back; nothing here writes a file.
"""

from __future__ import annotations

import time
from typing import Any, Callable, Mapping, Sequence

from harness.golden import Item
from harness.predictor import OUTPUT_KEY, Output, Prediction, Predictor, TaskResult


def _call(predictor: Predictor, items: Sequence[Item], task: str,
          upstream: Sequence[Mapping[str, Any]]) -> list[tuple[Output, TaskResult]]:
    """Call the predictor once for ``items`` and time it. Never raises for a predictor failure."""
    t0 = time.perf_counter()
    try:
        outputs = list(predictor.predict(items, task, upstream=upstream))
        if len(outputs) != len(items):
            raise RuntimeError(f"predictor returned {len(outputs)} outputs for {len(items)} items")
    except Exception as exc:  # noqa: BLE001 - a failed call is recorded per item, never lost
        elapsed = time.perf_counter() - t0
        msg = f"{type(exc).__name__}: {exc}"
        return [(Output(error=msg), TaskResult(latency_s=elapsed / len(items), error=msg, batch_size=len(items)))
                for _ in items]
    elapsed = time.perf_counter() - t0
    per_item = elapsed / len(items)
    results = []
    for out in outputs:
        ttft = out.first_token_at - t0 if out.first_token_at is not None else None
        results.append((out, TaskResult(latency_s=per_item, ttft_s=ttft, usage=out.usage, error=out.error,
                                        batch_size=len(items), meta=dict(out.meta))))
    return results


def predict_all(predictor: Predictor, todo: Sequence[Item], batch_size: int, concurrency: int, append, bar, *,
                spread: tuple[Callable[[], Predictor], int] | None = None, workers: Any = None) -> None:
    """``todo`` through ``predictor``, each finished batch (or item, with ``concurrency`` > 1) to ``append``; with
    ``spread`` (:meth:`~harness.predictor.Predictor.in_processes`), batches over processes (:func:`_run_processes`;
    ``workers``: the workers :func:`start_workers` started for it, else they start now)."""
    if concurrency > 1:
        _run_concurrent(predictor, todo, concurrency, append, bar)
    elif spread is not None:
        _run_processes(*spread, todo, batch_size, append, bar, workers)
    else:
        for start in range(0, len(todo), batch_size):
            batch = todo[start:start + batch_size]
            append(run_batch(predictor, batch))
            bar.update(len(batch))


_WORKER: Predictor | None = None  # a worker process's predictor (_run_processes)


def _start_worker(build: Callable[[], Predictor]) -> None:
    """Build the worker's predictor, then leave what is built out of every later garbage collection
    (``gc.freeze``) and collect only after each batch: unpickling a batch of items and pickling its predictions
    make tens of thousands of acyclic objects, and with the collector on, its collections walked the imported
    libraries and the model each time (see harness.bulk)."""
    import gc

    global _WORKER
    _WORKER = build()
    gc.freeze()
    gc.disable()


def _worker_batch(batch: Sequence[Item]) -> list[Prediction]:
    import gc

    try:
        return run_batch(_WORKER, batch)
    finally:
        gc.collect()  # whatever cycles the batch made: the frozen objects are not walked


def start_workers(build: Callable[[], Predictor], processes: int):
    """The ``processes - 1`` worker processes of :func:`_run_processes` started now, each a new interpreter that
    imports what ``build`` needs and builds its predictor (seconds of CPU), for a caller with other work to do
    first: the start-up then runs beside that work, on a core that would wait. None when ``processes`` < 2. The
    caller shuts them down (``shutdown(wait=False, cancel_futures=True)``) if it does not hand them on."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    if processes < 2:
        return None
    pool = ProcessPoolExecutor(processes - 1, mp_context=multiprocessing.get_context("spawn"),
                               initializer=_start_worker, initargs=(build,))
    try:
        for _ in range(processes - 1):
            pool.submit(int)  # the pool starts a process for each call it cannot give an idle one: all of them now
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    return pool


def _run_processes(build: Callable[[], Predictor], processes: int, todo: Sequence[Item], batch_size: int,
                   append, bar, workers: Any = None) -> None:
    """Batches over ``processes`` processes: this one and ``processes - 1`` workers, each predicting through its
    own ``build()`` (a worker is a new interpreter, never a fork of this one and its threads, and builds its
    predictor once; this process has everything imported already and starts at once). Written in item order as
    each is done: the same outputs as one process would write, the cores shared by the Python work around the
    models.

    This process takes the first batch and the workers the next ones (at most two each in flight); this process
    runs at most ``2 * processes`` batches ahead of the last one written, so a slow worker never holds back more
    finished work than that (a kill loses at most those). The batches are :func:`guided_batches`, so that the
    processes finish together rather than one running the last batch alone. Python's cyclic garbage collector
    is paused in this process meanwhile (the batches pickled and their predictions unpickled in the pool's
    thread are acyclic, and each collection walked the golden set and every prediction so far; see
    harness.bulk) and run on the young objects after each batch this process predicts."""
    import gc

    from harness.bulk import gc_paused

    if not todo:
        return
    batches = guided_batches(todo, batch_size, processes)
    n_workers = processes - 1 if workers is not None else min(processes, len(batches)) - 1
    pool = workers if workers is not None else start_workers(build, n_workers + 1)
    window, ahead = 2 * n_workers, 2 * processes
    done: dict[int, list[Prediction]] = {}  # batch index -> predictions not written yet
    in_flight: dict[int, Any] = {}  # batch index -> the worker's future
    here: Predictor | None = None
    try:
        with gc_paused(kept=True):  # the predictions are held for scoring
            nxt = written = 0
            while written < len(batches):
                take = None
                if nxt < len(batches) and nxt - written <= ahead:  # this process takes the next batch
                    take, nxt = nxt, nxt + 1
                while pool is not None and nxt < len(batches) and len(in_flight) < window:
                    in_flight[nxt] = pool.submit(_worker_batch, batches[nxt])
                    nxt += 1
                if take is not None:
                    here = here or build()
                    done[take] = run_batch(here, batches[take])
                    gc.collect(0)  # cycles the batch made among the young objects
                elif written in in_flight:
                    in_flight[written].result()  # wait for the next one due
                for k in [k for k, fut in in_flight.items() if fut.done()]:
                    done[k] = in_flight.pop(k).result()
                while written in done:
                    append(done.pop(written))
                    bar.update(len(batches[written]))
                    written += 1
    except BaseException:
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
        raise
    finally:
        if here is not None:
            here.close()
    if pool is not None:
        pool.shutdown(wait=False)  # the workers exit on their own while the run is written and scored


def guided_batches(todo: Sequence[Item], batch_size: int, workers: int) -> list[Sequence[Item]]:
    """``todo`` in order, in batches for ``workers`` worker processes: each batch a ``2 * workers``-th of the
    items left, at most ``batch_size`` and at least an eighth of it (OpenMP's "guided" schedule). The last
    batches are small, so the workers finish close together instead of one running a whole last batch alone.

    >>> [len(b) for b in guided_batches(list(range(20)), 8, 2)]
    [5, 4, 3, 2, 2, 1, 1, 1, 1]
    >>> [len(b) for b in guided_batches(list(range(3)), 8, 2)]
    [1, 1, 1]
    """
    out, lo, floor = [], 0, max(1, batch_size // 8)
    while lo < len(todo):
        size = min(batch_size, max(floor, -(-(len(todo) - lo) // (2 * workers))))
        out.append(todo[lo:lo + size])
        lo += size
    return out


def _run_concurrent(predictor: Predictor, todo: Sequence[Item], concurrency: int, append, bar) -> None:
    """Items in a bounded thread pool; each item's tasks run in order in one worker and it is written as soon
    as it is done."""
    from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait

    pending = iter(todo)
    with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="harness-item") as pool:
        running = set()
        try:
            for it in pending:
                running.add(pool.submit(run_batch, predictor, [it]))
                if len(running) >= concurrency:
                    done, running = wait(running, return_when=FIRST_COMPLETED)
                    for fut in done:
                        append(fut.result())
                        bar.update(1)
            for fut in running:
                append(fut.result())
                bar.update(1)
        except BaseException:
            for fut in running:
                fut.cancel()
            raise


def run_batch(predictor: Predictor, batch: Sequence[Item]) -> list[Prediction]:
    """The predictions of ``batch``: each task of its items in order, earlier outputs passed as ``upstream``."""
    per_item: dict[str, dict] = {it.id: {"tasks": {}} for it in batch}
    by_task: dict[str, list[Item]] = {}
    for it in batch:
        for task in predictor.tasks_for(it):
            by_task.setdefault(task, []).append(it)
    for task, group in by_task.items():
        # the outputs of this item's earlier tasks (classify before extract), passed explicitly
        upstream = [{t: per_item[it.id][OUTPUT_KEY[t]] for t in per_item[it.id]["tasks"]
                     if OUTPUT_KEY[t] in per_item[it.id]} for it in group]
        for it, (out, result) in zip(group, _call(predictor, group, task, upstream)):
            rec = per_item[it.id]
            rec["tasks"][task] = result
            if out.error is None:
                rec[OUTPUT_KEY[task]] = out.value
            if task == "answer" and out.contexts is not None:  # kept even when the answer failed
                rec["contexts"] = tuple(out.contexts)
    return [Prediction(id=it.id, **per_item[it.id]) for it in batch]
