"""Bulk steps that build many small objects at once (reading a predictions file, a golden split's items,
scoring a run) pause Python's cyclic garbage collector.

Such a step makes hundreds of thousands of dicts, lists and frozen dataclasses that hold no reference cycles
(reference counting frees them); with the collector on, every few hundred allocations trigger a collection
that walks the young objects, and the full collections walk everything the step has built so far, which made
scoring a month of 50,000 documents several seconds slower than the work itself. Pausing changes no result;
anything cyclic made meanwhile is collected as usual once the collector is back on.
"""

from __future__ import annotations

import gc
from contextlib import contextmanager
from typing import Any, Callable, Iterable, Iterator


@contextmanager
def gc_paused(kept: bool = False) -> Iterator[None]:
    """Pause the cyclic garbage collector for the block (re-entrant: an inner pause leaves it to the outer).

    ``kept``: what the block builds is kept long (a split's items, a run's predictions): on leaving, every
    object is moved to the oldest generation unwalked (``gc.freeze()`` then ``gc.unfreeze()``), where only a full
    collection looks at it, instead of the next collections walking all of it (0.25 s after a month's 50,000
    predictions). Nothing is lost: a cycle among them is collected at the next full collection. Where the
    program has frozen objects of its own (``gc.freeze()``, as before a fork), they stay frozen and this is
    skipped."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        if kept and not gc.get_freeze_count():  # (unfreeze would release another's frozen objects too)
            gc.freeze()
            gc.unfreeze()
        gc.enable()


def in_order(pool: Any, fn: Callable[..., Any], calls: Iterable[tuple], window: int) -> Iterator[Any]:
    """``fn(*args)`` of each of ``calls`` submitted to ``pool`` (a ``concurrent.futures`` executor), the results
    yielded in the calls' order, at most ``window`` calls more than the one awaited in flight; the calls not yet
    done are cancelled when the caller stops early."""
    from collections import deque

    pending: deque = deque()
    try:
        for args in calls:
            pending.append(pool.submit(fn, *args))
            while len(pending) > window:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
    finally:
        for fut in pending:
            fut.cancel()
