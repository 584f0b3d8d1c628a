"""Answer-quality judge: ragas' LLM metrics over a run's answers, through the local model or Claude on Bedrock.

``judge.provider`` (``harness/judge/judge.yaml``, ``--judge``, ``--set judge.KEY=VALUE``; every key in
:mod:`harness.judge.config`):

* ``none``: no model. ``answers.*`` come from the offline detector and the reference passages
  (:mod:`metrics.answers`); answer relevance is reported as unscored ("needs a judge").
* ``local``: SmolLM2-135M-Instruct through llama.cpp, output constrained to each metric's JSON schema.
  Offline and free, but a 135M model is a plumbing check, not a trustworthy judge (README figures).
* ``bedrock``: Claude through langchain-aws ``ChatBedrockConverse`` (streamed, botocore standard retries).

Clients come from the shared model layer (:mod:`harness.models`), never from a pipeline: a change to the
system under test cannot change its judge.

Metrics: ragas ``Faithfulness``, ``AnswerRelevancy`` (the ``ResponseRelevancy`` of older ragas),
``ContextPrecisionWithReference`` (``LLMContextPrecisionWithReference``) and ``ContextRecall``
(``LLMContextRecall``). Each item's verdicts, reasons, judge tokens and latency go to ``judgments.jsonl``
through the run store, line by line, so a killed judge resumes where it stopped; an item is re-judged only
when its question, answer, contexts or reference, or the judge's settings, changed. A failed call or a NaN
is recorded as unscored with its reason. Judge tokens and cost are reported under ``answers.judge`` apart
from the system's own ``usage``.
"""

from __future__ import annotations

import hashlib
import json
import threading
from pathlib import Path
from typing import Callable, Sequence

from harness.errors import HarnessInputError
from harness.golden import Item
from harness.judge.config import (DEFAULT_CONFIG, METRICS, JudgeCacheConfig, JudgeConfig, JudgeSettings,
                                  load_judge_config, split_overrides)
from harness.predictor import Prediction
from harness.store import JUDGMENTS, RunStore

__all__ = ["DEFAULT_CONFIG", "JUDGMENTS", "METRICS", "JudgeCacheConfig", "JudgeConfig", "JudgeSettings", "describe",
           "judge_items", "judge_model", "load_judge_config", "split_overrides"]


def _input_sha(question: str, answer: str | None, contexts: Sequence[str] | None, reference: str | None) -> str:
    blob = json.dumps([question, answer, list(contexts or []), reference], ensure_ascii=False)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:16]


class _Clients:
    """The judge's model client and embedder, built on first use (through :mod:`harness.models`) and closed
    once."""

    def __init__(self, cfg: JudgeConfig, progress: Callable[[str], None]) -> None:
        self.cfg = cfg
        self.progress = progress
        self._llm = None
        self._embedder = None
        self._lock = threading.Lock()

    def llm(self):
        with self._lock:
            if self._llm is None:
                self._llm = build_client(self.cfg, self.progress)
            return self._llm

    def embedder(self):
        from harness.models import build_embedder, client_config

        with self._lock:
            if self._embedder is None:
                cfg = self.cfg
                self._embedder = build_embedder(
                    cfg.embeddings, model_id=cfg.embeddings_model_id, region=cfg.region, endpoint_url=cfg.endpoint_url,
                    botocore_config=client_config(cfg.max_retries, cfg.timeout_s, cfg.concurrency), concurrency=2,
                    setting="judge.embeddings")
            return self._embedder

    def close(self) -> None:
        if self._llm is not None:
            self._llm.close()
            self._llm = None


def build_client(cfg: JudgeConfig, progress: Callable[[str], None] = print):
    """The judge's cached model client (its own cache and cache-key parameters, apart from the pipeline's)."""
    from harness.models import build_llm, client_config

    return build_llm(cfg.provider, model_id=cfg.resolved_model_id, model_path=cfg.model_path, region=cfg.region,
                     endpoint_url=cfg.endpoint_url, temperature=cfg.temperature, max_tokens=cfg.max_tokens,
                     n_ctx=cfg.n_ctx, n_threads=cfg.n_threads, seed=None,
                     botocore_config=client_config(cfg.max_retries, cfg.timeout_s, cfg.concurrency),
                     cache_dir=cfg.cache.dir, cache_enabled=cfg.cache.enabled,
                     cache_params={"temperature": cfg.temperature, "role": "judge",
                                   "constrained": cfg.provider == "local"},
                     progress=progress, what="judge", setting="judge.provider")


def judge_model(cfg: JudgeConfig) -> str | None:
    if cfg.provider == "bedrock":
        return f"bedrock/{cfg.resolved_model_id}"
    if cfg.provider == "local":
        return f"local/{Path(cfg.model_path).stem if cfg.model_path else 'SmolLM2-135M-Instruct'}"
    return None


def _samples(cfg: JudgeConfig, items: Sequence[Item], predictions: Sequence[Prediction]) -> list[tuple]:
    """(sample, reason not judged or None) per QA item with a prediction; a sample is
    (item, answer, contexts, input sha)."""
    by_id = {p.id: p for p in predictions}
    out, n_answerable = [], 0
    for it in items:
        p = by_id.get(it.id)
        if it.kind != "qa" or p is None or not p.has("answer"):
            continue  # items without a prediction are counted as "no prediction" by scoring
        answer = None if p.error("answer") else p.answer
        contexts = list(p.contexts) if p.contexts else None
        skip = None
        if answer and answer.strip():
            n_answerable += 1
            if cfg.limit is not None and n_answerable > cfg.limit:
                skip = f"not judged (judge.limit={cfg.limit})"
        out.append(((it, answer, contexts, _input_sha(it.question, answer, contexts, it.reference_answer)), skip))
    return out


def _run_pool(fn: Callable, todo: Sequence, workers: int, write: Callable[[dict], None]) -> None:
    """``write(fn(s))`` for every sample, ``workers`` at a time, each written as soon as it is done."""
    if workers <= 1:
        for s in todo:
            write(fn(s))
        return
    from concurrent.futures import ThreadPoolExecutor, as_completed

    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="harness-judge") as pool:
        futures = [pool.submit(fn, s) for s in todo]
        try:
            for fut in as_completed(futures):
                write(fut.result())
        except BaseException:
            for fut in futures:
                fut.cancel()
            raise


def judge_items(cfg: JudgeConfig, items: Sequence[Item], predictions: Sequence[Prediction], store: RunStore,
                progress: bool | None = None, info: Callable[[str], None] = print) -> list[dict]:
    """Judge the answers to the QA ``items``; append each verdict to the run's ``judgments.jsonl`` as it is
    done; return the verdicts of every item in scope, in item order (earlier verdicts with the same inputs
    and judge settings are reused)."""
    if cfg.provider == "none":
        return []
    if cfg.provider == "bedrock" and not cfg.model_id:
        raise HarnessInputError("a Bedrock judge needs a model id, e.g. --set judge.model_id=claude-3-haiku",
                                field="judge.model_id")
    from harness.extras import require
    from harness.progress import progress as progress_bar

    require("ragas", "judge", "the LLM judge's metrics (ragas)", field="judge.provider")
    from harness.judge import ragas_adapter

    key, model = cfg.key(), judge_model(cfg)
    done = {(j.get("id"), j.get("input_sha256")): j for j in store.judgments() if j.get("judge_key") == key}
    samples = _samples(cfg, items, predictions)
    todo = [s for s, skip in samples if skip is None and (s[0].id, s[3]) not in done]
    if todo:
        info(f"judging {len(todo)} answers with {model} ({', '.join(cfg.metrics)}); "
             f"verdicts go to {store.judgments_path}")
    clients, lock = _Clients(cfg, info), threading.Lock()
    n_judge = sum(1 for _, skip in samples if skip is None)
    bar = progress_bar(n_judge, "judge", "answer", initial=n_judge - len(todo), enabled=progress)

    def record(sample, scores: dict, reasons: dict, usage: dict, latency_s: float) -> dict:
        return {"id": sample[0].id, "judge_key": key, "input_sha256": sample[3], "model": model, "scores": scores,
                "reasons": reasons, "usage": usage, "latency_s": latency_s}

    def one(sample) -> dict:
        it, answer, contexts, _ = sample
        res = ragas_adapter.score_sample(it.question, answer, contexts, it.reference_answer, cfg.metrics,
                                         clients.llm(), clients.embedder, cfg.max_tokens,
                                         constrain=cfg.provider == "local", strictness=cfg.answer_relevancy_strictness)
        return record(sample, res.scores, res.reasons, res.usage.to_dict(), round(res.latency_s, 4))

    def write(rec: dict) -> None:
        with lock:
            store.append_judgment(rec)
            done[(rec["id"], rec["input_sha256"])] = rec
        bar.update(1)

    try:
        _run_pool(one, todo, cfg.concurrency if cfg.provider == "bedrock" else 1, write)
    finally:
        bar.close()
        clients.close()
    # beyond judge.limit: reported as unscored, never written (a later, larger limit judges it)
    return [record(s, {m: None for m in cfg.metrics}, {m: skip for m in cfg.metrics},
                   ragas_adapter.Usage().to_dict(), 0.0) if skip else done[(s[0].id, s[3])] for s, skip in samples]


def describe(cfg: JudgeConfig) -> dict:
    prices = cfg.prices()
    return {"provider": cfg.provider, "model": judge_model(cfg), "key": cfg.key(), "metrics": list(cfg.metrics),
            "price_per_1k": None if prices is None else {"input": prices[0], "output": prices[1]}}
