"""Bedrock tables and client settings shared by the LLMOps pipeline and the judge: short model names, list
prices, and botocore's retry/timeout configuration."""

from __future__ import annotations

BEDROCK_MODELS = {
    "claude-3-haiku": "anthropic.claude-3-haiku-20240307-v1:0",
    "claude-3-sonnet": "anthropic.claude-3-sonnet-20240229-v1:0",
    "titan-embed-v2": "amazon.titan-embed-text-v2:0",
}
# USD per 1,000 tokens (input, output): AWS Bedrock on-demand list prices, us-east-1
BEDROCK_PRICES = {
    "anthropic.claude-3-haiku-20240307-v1:0": (0.00025, 0.00125),
    "anthropic.claude-3-sonnet-20240229-v1:0": (0.003, 0.015),
    "anthropic.claude-3-5-sonnet-20240620-v1:0": (0.003, 0.015),
}


def resolve_model_id(model_id: str) -> str:
    """A short name (``claude-3-haiku``) to its Bedrock model id; a full id is returned as it is.

    >>> resolve_model_id("claude-3-haiku")
    'anthropic.claude-3-haiku-20240307-v1:0'
    """
    return BEDROCK_MODELS.get(model_id, model_id)


def client_config(max_retries: int, timeout_s: float, concurrency: int):
    """botocore settings: standard retry mode (exponential backoff on throttling and 5xx) with
    ``max_retries`` retries, read timeout ``timeout_s``, and a connection pool for ``concurrency`` calls.
    None without botocore (no ``bedrock`` extra: no Bedrock client can be built, and each one's
    :func:`harness.extras.require` says so)."""
    import importlib.util

    if importlib.util.find_spec("botocore") is None:
        return None
    from botocore.config import Config

    return Config(retries={"max_attempts": max_retries + 1, "mode": "standard"}, read_timeout=timeout_s,
                  connect_timeout=min(10.0, timeout_s), max_pool_connections=max(10, 2 * concurrency))
