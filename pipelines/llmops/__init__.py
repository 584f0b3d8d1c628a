"""LLMOps pipeline: chunking, embeddings, FAISS retrieval, versioned prompts, an LLM (embedded SmolLM2 by
default, Claude on Bedrock by config), guardrail hooks, and a content-addressed cache of model calls.

Modules: :mod:`~pipelines.llmops.config` (settings), :mod:`~pipelines.llmops.schemas` (output schemas),
:mod:`~pipelines.llmops.predictor` (the predictor and ``build``), :mod:`~pipelines.llmops.retrieval`
(chunking and the vector index), :mod:`~pipelines.llmops.prompts` (the prompt registry),
:mod:`~pipelines.llmops.guardrails` (hook points). Model clients live in :mod:`harness.models`.
"""

from __future__ import annotations

from pathlib import Path

from pipelines.llmops.config import (CONFIG_MODEL, CacheConfig, ChunkingConfig, EmbeddingsConfig, GuardrailsConfig,
                                     LLMConfig, LLMOpsConfig, PromptsConfig, RetrievalConfig)
from pipelines.llmops.predictor import LLMOpsPredictor, build
from pipelines.llmops.schemas import extraction_schema

DEFAULT_CONFIG = Path(__file__).with_name("config.yaml")

__all__ = ["CONFIG_MODEL", "CacheConfig", "ChunkingConfig", "DEFAULT_CONFIG", "EmbeddingsConfig", "GuardrailsConfig",
           "LLMConfig", "LLMOpsConfig", "LLMOpsPredictor", "PromptsConfig", "RetrievalConfig", "build",
           "extraction_schema"]
