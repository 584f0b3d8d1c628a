"""Stream a golden split through a predictor into a run directory, resumably.

:func:`execute` is the runner proper: it writes ``run.json`` and ``predictions.jsonl`` and scores nothing.
:func:`run` is the usual composition: :func:`execute`, then :func:`harness.scoring.score_run`.

Every finished batch is appended to ``predictions.jsonl`` and flushed before the next starts. Restarting
the same command skips the ids already written (a line cut short by a kill is dropped and redone), so a
killed run loses nothing that was written and never duplicates an item.
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence

from harness.batches import predict_all, start_workers
from harness.config import strip_credentials
from harness.errors import HarnessInputError
from harness.paths import checkout_root
from harness.golden import GoldenSet, Item
from harness.predictor import OUTPUT_KEY, Prediction, Predictor
from harness.progress import progress as progress_bar
from harness.selection import ids_hash, select_items
from harness.store import RunStore, now
from harness.predictions_file import HeldPredictions, readable

# what `harness run` passes as execute's spread_from when two cores are free: items left to do from which a
# predictor that can (Predictor.in_processes) runs its batches over processes (this one and workers); below it,
# starting a worker (a new interpreter and the model, about two seconds of CPU) costs more than it saves
SPREAD_FROM = 1000

PACKAGES = ("numpy", "scikit-learn", "xgboost-cpu", "pydantic", "langchain-aws", "langchain-core", "llama-cpp-python",
            "sentence-transformers", "faiss-cpu", "torch", "ragas")


def package_versions() -> dict[str, str]:
    """Python's version, the harness's own (:data:`harness.__version__`) and those of the installed
    :data:`PACKAGES` (an extra that is not installed is simply not listed)."""
    from importlib import metadata

    from harness.version import __version__

    out = {"python": platform.python_version(), "docintel-harness": __version__}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            pass
    return out


def git_commit() -> str | None:
    """The checkout's commit (``-dirty`` with uncommitted changes); None from an installed wheel (a git
    repository around site-packages is not the harness's)."""
    root = checkout_root()
    if root is None:
        return None
    try:
        res = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True,
                             timeout=5, check=False)
        dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=5, check=False).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    commit = res.stdout.strip() or None
    return f"{commit}-dirty" if commit and dirty else commit


@dataclass(frozen=True)
class RunResult:
    out_dir: Path
    n_new: int
    n_skipped: int
    metrics: dict | None = None  # None until the run is scored
    # every prediction of predictions.jsonl as this process wrote them, for the scoring that follows
    held: HeldPredictions | None = field(default=None, repr=False, compare=False)


def run_identity(predictor: str, config_hash: str, model_version: str | None, golden_sha256: str, split: str, *,
                 limit: int | None = None, per_class: int | None = None, qa_limit: int | None = None,
                 doc_limit: int | None = None) -> dict:
    """What makes two runs the same run (``run.json``'s ``identity``): a run directory resumes only the run of
    the same identity."""
    selection = {"per_class": per_class, "qa_limit": qa_limit,
                 **({"doc_limit": doc_limit} if doc_limit is not None else {})}  # run.json as before without it
    return {"predictor": predictor, "config_hash": config_hash, "model_version": model_version,
            "golden_sha256": golden_sha256, "split": split, "limit": limit, "selection": selection}


def finished(out_dir: str | Path, identity: Mapping[str, Any], extra: Mapping[str, Any] | None = None
             ) -> dict | None:
    """``metrics.json`` of the run in ``out_dir`` when running it again has nothing left to do, else None.

    Nothing is left when the directory holds a finished run (``ended_at`` set: every item went through) of
    this ``identity`` (:func:`run_identity`) with these ``extra`` values in ``run.json``, written by this
    version of the harness, with one prediction line per item, and ``metrics.json`` was written after both
    ``run.json`` and ``predictions.jsonl`` (scored after its last change). Reads those three files and no model,
    golden record or prediction: a re-run's answer in a fraction of a second. Any doubt (a file missing or
    unreadable, a run cut short, a line count that differs) is None: the caller then runs as usual, which
    resumes, repairs and scores."""
    from harness.version import __version__

    store = RunStore(out_dir)
    try:
        stamps = [p.stat().st_mtime_ns for p in (store.run_path, store.predictions_path, store.metrics_path)]
        record = store.read_run()
        if (record.get("identity") != dict(identity) or not record.get("ended_at")
                or any(record.get(k) != v for k, v in (extra or {}).items())
                or (record.get("packages") or {}).get("docintel-harness") != __version__
                or stamps[2] < max(stamps[:2])):
            return None
        with open(store.predictions_path, "rb") as fh:
            lines = sum(block.count(b"\n") for block in iter(lambda: fh.read(1 << 20), b""))
        if lines != record.get("n_items"):
            return None
        return store.read_metrics()
    except (OSError, HarnessInputError):
        return None


def run(predictor: Predictor, golden: GoldenSet, split: str, out_dir: str | Path, **kwargs) -> RunResult:
    """:func:`execute` then :func:`harness.scoring.score_run`: predictions and ``metrics.json`` in ``out_dir``."""
    from dataclasses import replace

    from harness.scoring import score_run

    with RunStore(out_dir).writing(f"harness run --pipeline {predictor.name} --split {split}"):
        result = execute(predictor, golden, split, out_dir, **kwargs)
        # the predictions handed to scoring are not kept in what run returns
        return replace(result, metrics=score_run(result.out_dir, golden, held=result.held,
                                                 beside=kwargs.get("spread_from") is not None), held=None)


def _open(store: RunStore, identity: dict, overwrite: bool | str) -> dict | None:
    """The run already in the directory (to resume), or None; refuses a different run unless ``overwrite``."""
    if not store.exists():
        return None
    old = store.read_run()
    diff = [k for k in identity if old.get("identity", {}).get(k) != identity[k]]
    if overwrite is True or (overwrite == "stale" and diff):
        store.discard_results()
        return None
    if diff:
        raise HarnessInputError(f"holds a different run ({', '.join(diff)} differ); choose another --out or "
                                "pass --overwrite", path=store.root)
    return old


def _described(predictor: Predictor, config: dict, config_hash: str) -> dict:
    return strip_credentials({"name": predictor.name, "config": config, "config_hash": config_hash,
                              **predictor.describe()})


def _record(predictor: Predictor, golden: GoldenSet, split: str, items: Sequence[Item], identity: dict,
            old: dict | None, started: str, *, config: dict, config_hash: str, batch_size: int, concurrency: int,
            extra: dict | None) -> dict:
    """What ``run.json`` says about this run (a resumed run keeps its first start and adds a session)."""
    sel = identity["selection"]
    return {
        "identity": identity,
        "predictor": _described(predictor, config, config_hash),
        "golden": golden.describe(),
        "split": split,
        "limit": identity["limit"],
        "tasks": sorted({t for it in items for t in predictor.tasks_for(it)}, key=list(OUTPUT_KEY).index),
        "item_ids_sha256": ids_hash(items),
        "n_items": len(items),
        "batch_size": batch_size,
        "concurrency": concurrency,
        "selection": {"limit": identity["limit"], **sel},
        "packages": package_versions(),
        "git_commit": git_commit(),
        "host": {"platform": platform.platform(), "cpus": os.cpu_count()},
        "started_at": old["started_at"] if old else started,
        "sessions": (old.get("sessions", []) if old else []) + [{"started_at": started}],
        "ended_at": None,
        "wall_s": old.get("wall_s", 0.0) if old else 0.0,
        **(extra or {}),
    }


def execute(predictor: Predictor, golden: GoldenSet, split: str, out_dir: str | Path, *, config: dict,
            config_hash: str, limit: int | None = None, per_class: int | None = None, qa_limit: int | None = None,
            doc_limit: int | None = None, batch_size: int = 1, concurrency: int = 1, progress: bool | None = None, overwrite: bool | str = False,
            extra: dict | None = None, repeats: int = 1, spread_from: int | None = None) -> RunResult:
    """Run ``predictor`` over ``split`` of ``golden`` into ``out_dir`` (``run.json`` + ``predictions.jsonl``).

    ``limit`` keeps the first N items; ``per_class`` the first N documents of each label, ``doc_limit`` the
    first N documents and ``qa_limit`` the first N QA items (a stratified subset). With ``concurrency`` > 1, items run in that many threads
    (at most that many calls in flight), each written as soon as it is done; otherwise items go to the
    predictor ``batch_size`` at a time; with ``spread_from`` (``harness run`` passes :data:`SPREAD_FROM`), over
    processes, this one and workers, when the predictor allows it (:meth:`~harness.predictor.Predictor.in_processes`)
    and at least that many items are left to do (the same outputs, in the same order). Worker processes start as new
    interpreters that import the caller's main script: a script that passes ``spread_from`` keeps its work
    under ``if __name__ == "__main__":``. Resumes when ``out_dir`` holds a run of the same predictor, config,
    golden set, split and selection; refuses (exit 2) when it holds a different one, unless ``overwrite``
    (``True``: always start afresh; ``"stale"``: start afresh only when the run there differs). ``repeats`` > 1
    runs every item that many times: repeat 1 as always, the others into ``repeats.jsonl`` (see :func:`_repeat`;
    ``run.json`` then says ``repeats``).
    """
    store = RunStore(out_dir)
    with store.writing(f"harness run --pipeline {predictor.name} --split {split}"):
        identity = run_identity(predictor.name, config_hash, predictor.describe().get("model_version"), golden.hash,
                                split, limit=limit, per_class=per_class, qa_limit=qa_limit, doc_limit=doc_limit)
        old = _open(store, identity, overwrite)
        # a fresh run of a whole split that will spread: its workers start now, beside what comes before the
        # first batch (the items, run.json, this process's own predictor)
        whole = old is None and limit is None and per_class is None and qa_limit is None and doc_limit is None
        spread = (predictor.in_processes() if whole and _spreads(golden.size(split), spread_from, concurrency,
                                                                 batch_size) else None)
        workers = start_workers(*spread) if spread is not None else None
        try:
            items = run_items(predictor, golden, split, limit=limit, per_class=per_class, qa_limit=qa_limit,
                              doc_limit=doc_limit)
            if repeats > 1:
                extra = {**(extra or {}), "repeats": repeats}
            return _execute(store, predictor, golden, split, items, identity, old, config=config,
                            config_hash=config_hash, batch_size=batch_size, concurrency=concurrency,
                            progress=progress, extra=extra, repeats=repeats, spread_from=spread_from, workers=workers)
        finally:
            if workers is not None:  # handed on, they are shut down already; else not needed after all
                workers.shutdown(wait=False, cancel_futures=True)


def _spreads(n_left: int, spread_from: int | None, concurrency: int, batch_size: int) -> bool:
    """Whether ``n_left`` items go over processes: ``spread_from`` given and reached, one item at a time in
    flight, and more than one batch."""
    return spread_from is not None and concurrency == 1 and n_left >= max(spread_from, batch_size + 1)


def run_items(predictor: Predictor, golden: GoldenSet, split: str, *, limit: int | None = None,
              per_class: int | None = None, qa_limit: int | None = None, doc_limit: int | None = None) -> list[Item]:
    """The items a run of ``predictor`` covers: the selection, less the items it has no task for (exit 2 when
    none is left)."""
    items = select_items(golden.items(split), limit=limit, per_class=per_class, qa_limit=qa_limit,
                         doc_limit=doc_limit)
    items = [it for it in items if predictor.tasks_for(it)]
    if not items:
        raise HarnessInputError(f"predictor {predictor.name!r} has no task for any item of split {split!r} "
                                f"(it can: {', '.join(sorted(predictor.capabilities))})", path=golden.root)
    return items


def _execute(store: RunStore, predictor: Predictor, golden: GoldenSet, split: str, items: Sequence[Item],
             identity: dict, old: dict | None, *, config: dict, config_hash: str, batch_size: int,
             concurrency: int, progress: bool | None, extra: dict | None, repeats: int = 1,
             spread_from: int | None = None, workers: Any = None) -> RunResult:
    """``execute`` once the run directory is held: resume (repairing what a kill or a shared writer left), then
    predict what is not done yet (``workers``: those :func:`~harness.batches.start_workers` started)."""
    store.repair_tail()
    dropped = store.repair_duplicates()
    if dropped:
        print(f"repaired {store.predictions_path}: {dropped} duplicate record(s) dropped, the first of each id "
              "kept", file=sys.stderr)
    written = store.predictions()  # what the file holds, then each batch as it is appended
    refused: list[int] = []  # set when a record written would not pass the reader's check: held is then unused
    done = {p.id for p in written}
    todo = [it for it in items if it.id not in done]
    record = _record(predictor, golden, split, items, identity, old, now(), config=config, config_hash=config_hash,
                     batch_size=batch_size, concurrency=concurrency, extra=extra)
    store.write_run(record)
    predictor.prepare(items)  # indexes, warm-up: before the clock starts
    record = {**record, "predictor": _described(predictor, config, config_hash)}  # now with what prepare built
    store.write_run(record)
    t_start = time.perf_counter()
    bar = progress_bar(len(items), f"{predictor.name}:{split}", "item", initial=len(items) - len(todo),
                       enabled=progress)
    try:
        spread = predictor.in_processes() if _spreads(len(todo), spread_from, concurrency, batch_size) else None
        predict_all(predictor, todo, batch_size, concurrency, lambda preds: _append(store, written, refused, preds),
                    bar, spread=spread, workers=workers if spread is not None else None)
    finally:
        bar.close()
        record = {**record, "wall_s": record["wall_s"] + (time.perf_counter() - t_start),
                  "sessions": [*record["sessions"][:-1], {**record["sessions"][-1], "ended_at": now()}]}
        store.write_run(record)
    if repeats > 1:
        _repeat(predictor, items, repeats, store, batch_size, concurrency, progress, f"{predictor.name}:{split}")
    store.write_run({**record, "ended_at": now()})
    return RunResult(out_dir=store.root, n_new=len(todo), n_skipped=len(items) - len(todo),
                     held=None if refused else store.held(written, items))


def _append(store: RunStore, written: list[Prediction], refused: list[int], predictions: Sequence[Prediction]
            ) -> None:
    """Append ``predictions`` to the store and to ``written``; note in ``refused`` (where ``written`` stood) the
    first batch with a record the reader would refuse (a predictor's value of the wrong type): scoring then
    reads the file, and says which line, as without the hand-over."""
    records = store.append(predictions)
    if not refused and not all(map(readable, records)):
        refused.append(len(written))
    written.extend(predictions)


def _repeat(predictor: Predictor, items: Sequence[Item], repeats: int, store: RunStore, batch_size: int,
            concurrency: int, progress: bool | None, what: str) -> None:
    """Repeats 2..``repeats`` of every item into the store's repeats file (:meth:`Predictor.for_repeat`: the
    call cache bypassed, the repeat's own seed); a repeat resumes where a killed one stopped."""
    store.repair_tail(store.repeats_path)
    done = {(rep, p.id) for rep, preds in store.repeats().items() for p in preds}
    for rep in range(2, repeats + 1):
        todo = [it for it in items if (rep, it.id) not in done]
        if not todo:
            continue
        view = predictor.for_repeat(rep)
        bar = progress_bar(len(items), f"{what} repeat {rep}/{repeats}", "item", initial=len(items) - len(todo),
                           enabled=progress)
        try:
            predict_all(view, todo, batch_size, concurrency, lambda preds, rep=rep: store.append_repeat(rep, preds),
                        bar)
        finally:
            bar.close()
