"""A big run's bootstrap intervals computed in a second process while this one computes the per-item outcomes.

Scoring a month of 50,000 documents spends about half its time on the intervals (drawing 1,000 resamples of
50,000 items, then summing each metric over them) and half on the per-item outcomes they are computed from.
With ``beside=True`` and at least :data:`BESIDE_FROM` items, :func:`intervals` starts one worker process
(a new interpreter) that draws the resamples as soon as the number of documents is known, while this process
computes the outcomes, and then takes each interval computation as the scorers hand it over; the scorers hold
:class:`Pending` results that scoring reads at its end. The functions are pure and deterministic: the same
intervals, to the last bit, as computed here (where the second process cannot start or fails, they are).
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Callable, Iterator

BESIDE_FROM = 20_000  # items from which a second process pays for itself (its start is about 0.3 s of CPU)


class Pending:
    """The result of one call made in the second process (or here): :meth:`result` waits for it. A call the
    second process could not make (it failed to start or died) is made here instead."""

    def __init__(self, fn: Callable[..., Any], args: tuple, kwargs: dict, future: Any = None) -> None:
        self._call, self._future = (fn, args, kwargs), future

    def result(self) -> Any:
        from concurrent.futures import BrokenExecutor, CancelledError

        fn, args, kwargs = self._call
        if self._future is not None:
            try:
                return self._future.result()
            except (BrokenExecutor, CancelledError, OSError, EOFError):
                pass  # the process is gone: computed here, the same result
        return fn(*args, **kwargs)


def resolved(value: Any) -> Any:
    """``value``'s result when it is :class:`Pending`, else ``value``."""
    return value.result() if isinstance(value, Pending) else value


class Submit:
    """Where the scorers hand their interval computations: ``submit(fn, *args, **kwargs) -> Pending``, into the
    second process when there is one, else made here when read. :meth:`ahead` starts work there that a later
    call needs (the resamples); here it does nothing."""

    def __init__(self, pool: Any = None) -> None:
        self._pool = pool

    def __call__(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Pending:
        if self._pool is not None:
            try:
                return Pending(fn, args, kwargs, self._pool.submit(fn, *args, **kwargs))
            except Exception:  # noqa: BLE001 - the pool is broken or shut: made here when read
                pass
        return Pending(fn, args, kwargs)

    def ahead(self, fn: Callable[..., Any], *args: Any) -> None:
        if self._pool is not None:
            try:
                self._pool.submit(fn, *args)
            except Exception:  # noqa: BLE001 - nothing computed ahead; the same results
                pass


HERE = Submit()  # everything made here


@contextmanager
def intervals(n_items: int, beside: bool) -> Iterator[Submit]:
    """A :class:`Submit` for the scorers' interval computations: into one worker process when ``beside`` and the
    run has at least :data:`BESIDE_FROM` items, else :data:`HERE`. The worker starts at once (a new interpreter,
    never a fork of this process and its threads, which imports the caller's ``__main__``: a script that passes
    ``beside`` keeps its work under ``if __name__ == "__main__":``) and is shut down on leaving."""
    if not beside or n_items < BESIDE_FROM:
        yield HERE
        return
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    pool = None
    try:
        pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"))
        pool.submit(int)  # the process starts now, while the caller reads the run
    except Exception:  # noqa: BLE001 - no second process here: everything is made here
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)
        yield HERE
        return
    try:
        yield Submit(pool)
    finally:
        pool.shutdown(wait=False, cancel_futures=True)


__all__ = ["BESIDE_FROM", "HERE", "Pending", "Submit", "intervals", "resolved"]
