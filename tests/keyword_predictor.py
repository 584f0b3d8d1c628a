"""A small, real rule-based predictor used to exercise the runner (no model needed)."""

from __future__ import annotations

import re
import time

from harness.predictor import Output, Predictor, TokenUsage

WORDS = {"invoice": "invoice", "receipt": "receipt", "agreement": "contract"}


class KeywordPredictor(Predictor):
    name = "keyword"
    capabilities = frozenset({"classify", "extract", "answer"})

    def __init__(self, fail_ids=(), raise_ids=(), sleep_s=0.0, stream=False):
        self.fail_ids, self.raise_ids, self.sleep_s, self.stream = set(fail_ids), set(raise_ids), sleep_s, stream

    def config(self):
        return {"sleep_s": self.sleep_s}

    def predict(self, items, task, upstream=None):
        if any(it.id in self.raise_ids for it in items):
            raise RuntimeError("backend exploded")
        outs = []
        for it in items:
            t0 = time.perf_counter()
            if self.sleep_s:
                time.sleep(self.sleep_s)
            if it.id in self.fail_ids:
                outs.append(Output(error="invalid model output"))
            elif task == "classify":
                first = it.text.split()[0].lower()
                outs.append(Output(value=WORDS.get(first, "invoice"), usage=TokenUsage(len(it.text.split()), 1),
                                   first_token_at=t0 + 0.001 if self.stream else None))
            elif task == "extract":
                num = re.search(r"N-\d+", it.text)
                outs.append(Output(value={"number": num.group() if num else None, "total": None}))
            else:
                outs.append(Output(value=it.text.splitlines()[2], contexts=(it.text.splitlines()[2],)))
        return outs


def slow_in_workers(sleep_s: float) -> KeywordPredictor:
    """The keyword predictor, ``sleep_s`` a call in a worker process and none in the process that started it:
    a worker that falls behind (for the runner's batches over processes)."""
    import multiprocessing

    return KeywordPredictor(sleep_s=sleep_s if multiprocessing.parent_process() is not None else 0.0)
