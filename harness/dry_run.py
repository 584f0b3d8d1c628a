"""``harness run --dry-run``: what a run would do and spend, with no model called.

The pipeline is built for planning (``build(..., dry_run=True)``: its language model is a
:class:`~harness.models.dry_run.DryRunLLM`) and every selected item goes through the runner's own
:func:`harness.batches.run_batch`, so each prompt is built by the pipeline's code exactly as in a run, retrieval
included (the index is built as the run builds it; embedding is no call to the language model). Each call is
counted, looked up in the call cache, and priced with the project's price files (:mod:`harness.cost.run_cost`).

What is not known before the calls is stated as a range:

* output tokens: the cache's answer when it holds one, else at most the task's ``max_tokens``;
* an extract prompt names the document type classify returned: unless classify's answer is cached, it is
  counted with the item's gold label, the range spanning every label and none;
* an answer prompt holds the passages retrieved: exact with the local embedder; with Titan the local MiniLM
  stands in, the range spanning the shortest to the longest ``k`` passages of the index.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Mapping, Sequence

from harness.golden import GoldenSet, Item
from harness.predictor import Output, Predictor


@dataclass
class _Tally:
    calls: int = 0
    cached: int = 0
    items: int = 0
    input: list[int] = field(default_factory=lambda: [0, 0, 0])  # estimate, low, high
    output: list[int] = field(default_factory=lambda: [0, 0, 0])

    def add(self, other: "_Tally") -> None:
        self.calls += other.calls
        self.cached += other.cached
        self.items += other.items
        for mine, theirs in ((self.input, other.input), (self.output, other.output)):
            for i in range(3):
                mine[i] += theirs[i]

    def to_dict(self) -> dict:
        return {"items": self.items, "calls": self.calls, "cached": self.cached,
                "input_tokens": self.input[0], "input_tokens_low": self.input[1], "input_tokens_high": self.input[2],
                "output_tokens": self.output[0], "output_tokens_low": self.output[1],
                "output_tokens_high": self.output[2]}


class _Planner(Predictor):
    """The pipeline's predictor, noting the planned calls of each (item, task) and their ranges."""

    def __init__(self, inner: Predictor, repeats: int) -> None:
        self.inner, self.llm, self.repeats = inner, inner.llm, repeats
        self.name, self.capabilities = inner.name, inner.capabilities
        self.by_task: dict[str, _Tally] = {}
        self._chunk_tokens: dict[str, tuple[int, int, int]] = {}

    def tasks_for(self, item: Item) -> list[str]:
        return self.inner.tasks_for(item)

    def _calls(self, items, task, upstream):
        n0 = len(self.llm.planned)
        outs = self.inner.predict(items, task, upstream)
        return outs, self.llm.planned[n0:]

    def predict(self, items: Sequence[Item], task: str, upstream=None) -> Sequence[Output]:
        outs, calls = self._calls(items, task, upstream)
        tally = self.by_task.setdefault(task, _Tally())
        tally.items += len(items)
        for i, (it, out) in enumerate(zip(items, outs)):  # one item: plan() runs the runner's batches of one
            if not calls:  # blocked before the model (an input guardrail)
                continue
            call = calls[i]
            est, low, high = call.input_tokens, call.input_low, call.input_high
            if not call.cached and task == "extract" and not (upstream and upstream[i].get("classify")):
                est, low, high = self._extract_range(it)
            if not call.cached and task == "answer":
                low, high = self._answer_range(out, est, low, high)
            for r in range(self.repeats):  # a repeat bypasses the cache: its output is known only to max_tokens
                known = call.output_tokens if call.cached else None
                tally.calls += 1
                tally.cached += call.cached and r == 0
                for j, v in enumerate((est, low, high)):
                    tally.input[j] += v
                if known is not None and r == 0:
                    out_est = out_low = out_high = known
                else:
                    out_est, out_low, out_high = known if known is not None else call.max_tokens, 0, call.max_tokens
                for j, v in enumerate((out_est, out_low, out_high)):
                    tally.output[j] += v
        return outs

    def _extract_range(self, item: Item) -> tuple[int, int, int]:
        """An extract prompt with every document type classify could return (and none): (the gold label's
        count, the lowest, the highest)."""
        labels = list(self.inner.golden.manifest.labels)
        counts = {}
        for label in labels + [None]:
            _, calls = self._calls([item], "extract", [{"classify": label} if label else {}])
            if calls:
                counts[label] = calls[0]
        est = counts.get(item.label) or counts.get(None)
        return (est.input_tokens, min(c.input_low for c in counts.values()),
                max(c.input_high for c in counts.values()))

    def _answer_range(self, out: Output, est: int, low: int, high: int) -> tuple[int, int]:
        """The answer prompt's range over any ``k`` passages of the index (the shortest to the longest)."""
        index = getattr(self.inner, "index", None)
        retrieved = [r["id"] for r in (out.meta or {}).get("retrieved", [])]
        if index is None or not retrieved:
            return low, high
        if not self._chunk_tokens:
            self._chunk_tokens = {c.id: self.llm.count_text(f"[{c.id}] {c.text}") for c in index.chunks}
        k = len(retrieved)
        got = sum(self._chunk_tokens[i][1] for i in retrieved)
        lows = sorted(t[0] for t in self._chunk_tokens.values())[:k]
        highs = sorted((t[2] for t in self._chunk_tokens.values()), reverse=True)[:k]
        # k tokens of slack each way: passages counted apart may split one token differently at their joins
        return min(low, est - got + sum(lows) - k), max(high, est - got + sum(highs) + k)


def _cost(provider: str, model_id: str, total: _Tally) -> dict:
    from harness.cost.run_cost import load_settings, model_prices

    key = f"{provider}/{model_id}"
    found = model_prices(load_settings(), key)
    if found is None:
        return {"usd": None, "note": f"no price file for model {key} (harness/cost/runs.yaml: models)"}
    pin, pout, path = found

    def usd(tin: int, tout: int) -> float:
        return float(round((Decimal(tin) * pin.usd + Decimal(tout) * pout.usd) / 1000, 8))

    return {"usd": usd(total.input[0], total.output[0]), "usd_low": usd(total.input[1], total.output[1]),
            "usd_high": usd(total.input[2], total.output[2]),
            "basis": f"model tokens x {key} prices ({path.name}: ${pin.usd}/1K in, ${pout.usd}/1K out; "
                     f"{pin.note}); the model calls only (the cost section of a run adds embeddings and the fixed rows)"}


def plan(predictor: Predictor, golden: GoldenSet, split: str, *, limit: int | None = None,
         per_class: int | None = None, qa_limit: int | None = None, doc_limit: int | None = None,
         repeats: int = 1, config: Mapping[str, Any] | None = None, judge: str | None = None) -> dict:
    """What a run of ``predictor`` (built with ``dry_run=True``) over the selection would call and spend
    (``judge``: the judge's provider when the run is to be judged; its calls are not planned, which is said)."""
    from harness.models.dry_run import DryRunLLM
    from harness.batches import run_batch
    from harness.runner import run_items

    items = run_items(predictor, golden, split, limit=limit, per_class=per_class, qa_limit=qa_limit,
                      doc_limit=doc_limit)
    tasks: dict[str, int] = {}
    for it in items:
        for t in predictor.tasks_for(it):
            tasks[t] = tasks.get(t, 0) + 1
    out: dict[str, Any] = {"dry_run": True, "pipeline": predictor.name, "split": split, "repeats": repeats,
                           "items": [it.id for it in items],
                           "documents": sum(it.kind == "document" for it in items),
                           "questions": sum(it.kind == "qa" for it in items), "tasks": tasks}
    llm = getattr(predictor, "llm", None)
    if not isinstance(llm, DryRunLLM):
        return {**out, "model": None, "calls": 0, "by_task": {},
                "method": {"note": f"the {predictor.name} pipeline calls no language model: a run of it makes no "
                                   "model calls and spends no tokens"}}
    predictor.prepare(items)  # the index, as the run builds it
    planner = _Planner(predictor, repeats)
    for it in items:
        run_batch(planner, [it])
    total = _Tally()
    for t in planner.by_task.values():
        total.add(t)
    cfg = config or {}
    embeddings = (cfg.get("embeddings") or {}).get("provider")
    method = {"input": llm.method + "; a call the cache answered: the tokens recorded then",
              "output": "from the call cache where it holds the answer, else at most the task's max_tokens (an upper "
                        "bound; the low end of the range is 0)" + ("; repeats 2.. bypass the cache, so at most "
                                                                   "max_tokens" if repeats > 1 else ""),
              }
    if tasks.get("extract"):
        method["extract"] = ("where classify's answer is not cached, the extract prompt is counted with the item's "
                             "gold label; the range spans every label and none")
    if tasks.get("answer"):
        method["retrieval"] = ("the vector index built as the run builds it (local MiniLM): the passages are the "
                               "run's" if embeddings != "bedrock" else
                               "Titan is not called: the local MiniLM stands in to retrieve passages, which may "
                               "differ from Titan's") + "; the range spans the shortest to the longest k passages"
    if (cfg.get("guardrails") or {}).get("config") and (cfg.get("guardrails") or {}).get("provider") == "bedrock":
        method["guardrails"] = ("the offline engine on the same guardrail JSON stands in for Bedrock's ApplyGuardrail "
                                "(not called): its masking may differ a little")
    if judge and judge != "none":
        method["judge"] = (f"not planned: the {judge} judge's calls come when the answers are scored "
                           "(harness run --judge); this plan covers the pipeline's model calls")
    return {**out, "model": f"{llm.provider}/{llm.model_id}", "calls": total.calls,
            "by_task": {t: planner.by_task[t].to_dict() for t in tasks if t in planner.by_task},
            "total": total.to_dict(), "cost": _cost(llm.provider, llm.model_id, total), "method": method}


def lines(p: Mapping[str, Any], fmt: str = "table") -> str:
    """The plan as the console shows it (``fmt``: table, md or csv for the per-task table)."""
    from harness.render import table

    ids = p["items"]
    shown = ", ".join(ids[:10]) + (f", ... ({len(ids) - 10} more)" if len(ids) > 10 else "")
    head = [f"dry run: {p['pipeline']} on {p['split']}: {len(ids)} items ({p['documents']} documents, "
            f"{p['questions']} questions)" + (f", each {p['repeats']} times" if p["repeats"] > 1 else ""),
            f"items: {shown}",
            "tasks: " + ", ".join(f"{t} {n}" for t, n in p["tasks"].items())]
    if not p.get("model"):
        return "\n".join(head + [p["method"]["note"], "nothing was called."])

    def rng(d: Mapping, key: str) -> str:
        return f"{d[key]:,} ({d[key + '_low']:,}-{d[key + '_high']:,})"

    rows = [[t, d["calls"], d["cached"], rng(d, "input_tokens"), rng(d, "output_tokens")]
            for t, d in [*p["by_task"].items(), ("total", p["total"])]]
    body = table(["task", "model calls", "from cache", "input tokens (range)", "output tokens (range)"], rows, fmt)
    cost = p["cost"]
    money = (f"cost: ${cost['usd']:,.6f} (${cost['usd_low']:,.6f}-${cost['usd_high']:,.6f}); {cost['basis']}"
             if cost.get("usd") is not None else f"cost: unknown; {cost['note']}")
    how = [f"  {k}: {v}" for k, v in p["method"].items()]
    return "\n".join(head + [f"model: {p['model']}", body, money, "how:"] + how
                     + ["nothing was called."])
