"""A student's budget, enforced around the pipeline's predictor.

Items of one variant run one at a time in the golden split's order; before each task the spend so far is
checked, and once it is over the budget every remaining task is recorded as failed with ``over budget: ...``
(no call is made). Tokens and calls count whether or not the call came from the cache, and a cached call's
time is the time it took when it was made, so the point where a variant stops does not depend on which
student was graded first. A resumed run starts from what its written predictions spent.

Model calls, not whole variants, share a class's slots (:class:`CallSlots`): more variants are open than there
are slots, and each item's calls wait for a slot before the runner starts its clock, so a slot freed by one
variant (between its items, while it builds or scores) goes to another one's next call, and a call's recorded
latency is the model's alone, as when every variant had a slot of its own.
"""

from __future__ import annotations

import heapq
import itertools
import threading
import time
from dataclasses import dataclass
from typing import Any, Iterable, Mapping, Sequence

from harness.golden import Item
from harness.grading.assignment import Budget
from harness.grading.rubric import OVER_BUDGET
from harness.predictor import Output, Prediction, Predictor


@dataclass(frozen=True)
class Spent:
    """What a variant has used: model tokens (input + output), calls, model seconds."""
    tokens: int = 0
    calls: int = 0
    seconds: float = 0.0

    def plus(self, tokens: int, calls: int, seconds: float) -> "Spent":
        return Spent(self.tokens + tokens, self.calls + calls, self.seconds + seconds)

    def over(self, budget: Budget) -> str | None:
        """Which limit is passed (a sentence), or None."""
        if budget.tokens is not None and self.tokens > budget.tokens:
            return f"{OVER_BUDGET}: {self.tokens:,} tokens of {budget.tokens:,}"
        if budget.calls is not None and self.calls > budget.calls:
            return f"{OVER_BUDGET}: {self.calls:,} calls of {budget.calls:,}"
        if budget.wall_s is not None and self.seconds > budget.wall_s:
            return f"{OVER_BUDGET}: {self.seconds:.0f} s of model time of {budget.wall_s:g} s"
        return None


def spent_by(predictions: Iterable[Prediction]) -> Spent:
    """What written predictions spent (a resumed run continues from here)."""
    total = Spent()
    for p in predictions:
        for r in p.tasks.values():
            if r.usage is not None:
                total = total.plus(r.usage.input_tokens + r.usage.output_tokens, 1, r.model_latency_s or 0.0)
    return total


class CallSlots:
    """At most ``n`` items' model calls at once among the variants of a class (threads of one process).

    A waiting variant is served by the lowest key (its calls so far less its head start, then first come):
    with no head start the variants advance together, so the last ones do not run alone while slots idle; a
    head start (:func:`head_start`) lets the first variants finish early, so their scoring overlaps others'
    calls instead of piling up at the end. :attr:`building` lets one variant build its predictor at a time
    (builds are Python work: one at a time, the first variants start calling at once).
    """

    def __init__(self, n: int) -> None:
        if n < 1:
            raise ValueError("a class needs at least one call slot")
        self.n = n
        self._free = n
        self._lock = threading.Lock()
        self._waiting: list[tuple[int, int, threading.Event]] = []
        self._order = itertools.count()
        self.building = threading.Lock()

    def acquire(self, progress: int = 0) -> None:
        """Wait for a slot; ``progress``: the variant's key, its calls so far less its head start (lower first)."""
        with self._lock:
            if self._free and not self._waiting:
                self._free -= 1
                return
            turn = threading.Event()
            heapq.heappush(self._waiting, (progress, next(self._order), turn))
        turn.wait()  # the slot is handed over by release()

    def release(self) -> None:
        """Give the slot back: straight to the next waiting variant, if any."""
        with self._lock:
            if self._waiting:
                heapq.heappop(self._waiting)[2].set()
            else:
                self._free += 1


_SLOTS: dict[str, CallSlots] = {}
_SLOTS_LOCK = threading.Lock()


def head_start(index: int, jobs: int, slots: int) -> int:
    """The head start (in calls) of the ``index``-th of ``jobs`` variants sharing ``slots`` slots: the last
    ``slots`` variants have none and finish together (the slots stay busy to the end); each one before them
    one call more, so they finish one after another, their scoring beside other variants' calls."""
    return max(0, jobs - slots - index)


def call_slots(key: str, n: int) -> CallSlots:
    """The process's slots of one class run (``key``: the run's token): the same object for every variant of
    that run in this process (a thread of the local executor, or a Dask worker's thread)."""
    with _SLOTS_LOCK:
        slots = _SLOTS.get(key)
        if slots is None:
            slots = _SLOTS[key] = CallSlots(n)
        return slots


class BudgetedPredictor(Predictor):
    """``inner`` with a budget: one item at a time, nothing called once the budget is spent. Returns values;
    the spend so far is readable as :attr:`spent` (the runner's records hold the same figures).

    With ``slots`` (:class:`CallSlots`), an item's calls hold one slot: taken when the runner asks the item's
    tasks (after :meth:`prepare`, just before it starts the item's clock; before that it asks only to plan),
    given back after the item's last task. :meth:`release` gives back a slot still held (the variant's end)."""

    def __init__(self, inner: Predictor, budget: Budget, spent: Spent = Spent(), slots: CallSlots | None = None,
                 ahead: int = 0) -> None:
        self.inner = inner
        self.name = inner.name
        self.capabilities = inner.capabilities
        self.budget = budget
        self.spent = spent
        self.slots = slots
        self.ahead = ahead  # head start less the calls of the variant's splits run before this one
        self._running = False  # prepare() was called: tasks_for now means "this item starts"
        self._held = 0  # tasks of the current item still to predict while holding a slot (0: no slot held)

    def _take(self, tasks: int) -> None:
        if self.slots is not None and not self._held:
            self.slots.acquire(self.spent.calls - self.ahead)
            self._held = tasks

    def release(self) -> None:
        """Give back the slot this variant holds, if any."""
        if self._held:
            self._held = 0
            self.slots.release()

    def predict(self, items: Sequence[Item], task: str,
                upstream: Sequence[Mapping[str, Any]] | None = None) -> list[Output]:
        if not self._held and not self.spent.over(self.budget):
            self._take(1)  # not announced by tasks_for: a slot all the same (never more calls than slots)
        try:
            outs = []
            for i, it in enumerate(items):
                stop = self.spent.over(self.budget)
                if stop:
                    outs.append(Output(error=stop))
                    continue
                t0 = time.perf_counter()
                out = self.inner.predict([it], task, [upstream[i]] if upstream else None)[0]
                took = time.perf_counter() - t0
                if out.usage is not None:
                    seconds = out.meta.get("original_latency_s") if out.meta.get("cache_hit") else took
                    self.spent = self.spent.plus(out.usage.input_tokens + out.usage.output_tokens, 1, seconds or 0.0)
                outs.append(out)
            return outs
        finally:
            if self._held == 1:
                self.release()
            elif self._held:
                self._held -= 1

    def config(self) -> dict:
        return self.inner.config()

    def describe(self) -> dict:
        return {**self.inner.describe(), "budget": self.budget.model_dump(mode="json")}

    def tasks_for(self, item: Item) -> list[str]:
        tasks = self.inner.tasks_for(item)
        if self._running and tasks and not self.spent.over(self.budget):
            self._take(len(tasks))  # waited for here, before the runner times the item's calls
        return tasks

    def prepare(self, items: Sequence[Item]) -> None:
        self.inner.prepare(items)
        self._running = True

    def close(self) -> None:
        self.inner.close()


