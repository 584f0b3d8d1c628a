"""Grading shares its slots by model call, not by variant (issue 32, row 3): the slots never let more calls run
at once than asked, a call's recorded latency is the model's alone (the wait for a slot comes before the
runner starts its clock), the budget stops at the same item, and waiting variants are served by their key."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from harness import runner
from harness.golden import load_golden_set
from harness.grading.assignment import Budget
from harness.grading.budget import BudgetedPredictor, CallSlots, Spent, head_start
from harness.predictor import Output, Predictor, TokenUsage
from harness.store import RunStore

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = ROOT / "golden_sets" / "course"
CALL_S = 0.05


class Sleeper(Predictor):
    """A classifier that takes CALL_S per call and counts the calls in flight (shared by every variant)."""

    name = "sleeper"
    capabilities = frozenset({"classify"})

    def __init__(self, gauge: dict) -> None:
        self.gauge = gauge

    def predict(self, items, task, upstream=None):
        with self.gauge["lock"]:
            self.gauge["now"] += 1
            self.gauge["most"] = max(self.gauge["most"], self.gauge["now"])
        time.sleep(CALL_S)
        with self.gauge["lock"]:
            self.gauge["now"] -= 1
        return [Output(value="invoice", usage=TokenUsage(input_tokens=10, output_tokens=2)) for _ in items]


def _variant(golden, out: Path, gauge: dict, slots: CallSlots | None, budget: Budget) -> Spent:
    predictor = BudgetedPredictor(Sleeper(gauge), budget, slots=slots)
    try:
        runner.execute(predictor, golden, "grading", out, config={}, config_hash="x", limit=6, progress=False)
    finally:
        predictor.release()
    return predictor.spent


def _class(tmp_path: Path, n_slots: int | None, budget: Budget, variants: int = 4):
    golden = load_golden_set(GOLDEN)
    gauge = {"lock": threading.Lock(), "now": 0, "most": 0}
    slots = CallSlots(n_slots) if n_slots else None
    spent: dict[int, Spent] = {}

    def one(i: int) -> None:
        spent[i] = _variant(golden, tmp_path / f"v{i}", gauge, slots, budget)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(variants)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    preds = {i: RunStore(tmp_path / f"v{i}").predictions() for i in range(variants)}
    return gauge, spent, preds


def test_slots_bound_the_calls_and_the_latency_is_the_calls_own(tmp_path):
    gauge, spent, preds = _class(tmp_path, 1, Budget())
    assert gauge["most"] == 1  # four variants open, one slot: never two calls at once
    latencies = [p.tasks["classify"].latency_s for ps in preds.values() for p in ps]
    assert len(latencies) == 24
    # every variant waited for the others about 3 calls in 4, yet each call records about its own 0.05 s
    assert max(latencies) < 3 * CALL_S, latencies
    assert all(s == Spent(72, 6, s.seconds) for s in spent.values())


def test_the_budget_stops_at_the_same_item_with_shared_slots(tmp_path):
    budget = Budget(calls=3)
    _, alone, alone_preds = _class(tmp_path / "alone", None, budget, variants=2)
    _, shared, shared_preds = _class(tmp_path / "shared", 1, budget, variants=2)
    for i in range(2):
        assert [p.error("classify") for p in shared_preds[i]] == [p.error("classify") for p in alone_preds[i]]
        assert (shared[i].calls, shared[i].tokens) == (alone[i].calls, alone[i].tokens) == (4, 48)


def test_waiting_variants_are_served_by_their_key():
    slots = CallSlots(1)
    slots.acquire()  # the slot is taken: the next three wait
    served: list[str] = []
    waiting = []
    for name, key in (("late", 5), ("first", -2), ("second", 0)):
        def wait(name=name, key=key):
            slots.acquire(key)
            served.append(name)
            slots.release()
        t = threading.Thread(target=wait)
        t.start()
        waiting.append(t)
        while len(slots._waiting) < len(waiting):  # queued in this order before the slot comes back
            time.sleep(0.001)
    slots.release()
    for t in waiting:
        t.join()
    assert served == ["first", "second", "late"]


def test_head_starts_leave_the_last_slots_worth_of_variants_even():
    assert [head_start(i, 6, 2) for i in range(6)] == [4, 3, 2, 1, 0, 0]
    assert [head_start(i, 3, 4) for i in range(3)] == [0, 0, 0]
