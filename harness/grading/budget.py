"""A student's budget, enforced around the pipeline's predictor.

Items of one variant run one at a time in the golden split's order; before each task the spend so far is
checked, and once it is over the budget every remaining task is recorded as failed with ``over budget: ...``
(no call is made). Tokens and calls count whether or not the call came from the cache, and a cached call's
time is the time it took when it was made, so the point where a variant stops does not depend on which
student was graded first. A resumed run starts from what its written predictions spent.
"""

from __future__ import annotations

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


class BudgetedPredictor(Predictor):
    """``inner`` with a budget: one item at a time, nothing called once the budget is spent. Returns values;
    the spend so far is readable as :attr:`spent` (the runner's records hold the same figures)."""

    def __init__(self, inner: Predictor, budget: Budget, spent: Spent = Spent()) -> None:
        self.inner = inner
        self.name = inner.name
        self.capabilities = inner.capabilities
        self.budget = budget
        self.spent = spent

    def predict(self, items: Sequence[Item], task: str,
                upstream: Sequence[Mapping[str, Any]] | None = None) -> list[Output]:
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

    def config(self) -> dict:
        return self.inner.config()

    def describe(self) -> dict:
        return {**self.inner.describe(), "budget": self.budget.model_dump(mode="json")}

    def tasks_for(self, item: Item) -> list[str]:
        return self.inner.tasks_for(item)

    def prepare(self, items: Sequence[Item]) -> None:
        self.inner.prepare(items)

    def close(self) -> None:
        self.inner.close()


