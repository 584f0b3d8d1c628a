"""The client of a dry run (``harness run --dry-run``): it takes every call the pipeline makes, counts its prompt,
looks it up in the call cache (never writing it) and notes a :class:`PlannedCall`; no model is called.

Input tokens: the local model's prompts are counted with its own tokenizer after its chat template (the model is
loaded with ``vocab_only``: the tokenizer alone), exactly as a run counts them; Bedrock's are estimated from the
prompt's characters (:data:`CHARS_PER_TOKEN`, a range, as Claude's tokenizer is not public); a call the cache
already answered takes the tokens recorded then. Output tokens: the cached answer's, else at most ``max_tokens``.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass
from typing import Any, Mapping

from harness.models.cache import CallCache
from harness.models.llm import CachedLLM, LLMResult

# Bedrock (Claude): characters per token, (for the high count, the estimate, for the low count); the estimate is
# the usual rule of thumb for English prose, the range covers denser text (numbers, codes) and plain prose
CHARS_PER_TOKEN = (2.5, 4.0, 6.0)


class TextEstimate:
    """A stand-in tokenizer for a model whose tokenizer is not available (Claude on Bedrock)."""

    method = (f"estimated from the prompt text: about {CHARS_PER_TOKEN[1]:g} characters per token (range "
              f"{CHARS_PER_TOKEN[0]:g}-{CHARS_PER_TOKEN[2]:g}); Claude's tokenizer is not public")

    def __init__(self, provider: str, model_id: str) -> None:
        self.provider, self.model_id = provider, model_id

    def count_text(self, text: str) -> tuple[int, int, int]:
        """(low, estimate, high) tokens of ``text``.

        >>> TextEstimate("bedrock", "m").count_text("x" * 100)
        (16, 25, 40)
        """
        n = len(text)
        hi, mid, lo = CHARS_PER_TOKEN
        return math.floor(n / lo), round(n / mid), math.ceil(n / hi)

    def count_prompt(self, system: str, user: str) -> tuple[int, int, int]:
        return self.count_text(system + "\n" + user)

    def close(self) -> None:
        pass


@dataclass(frozen=True)
class PlannedCall:
    """One model call a dry run saw: its input tokens (estimate and range), output tokens (known from the cache,
    else at most ``max_tokens``)."""
    input_tokens: int
    input_low: int
    input_high: int
    max_tokens: int
    cached: bool
    output_tokens: int | None  # from the cache; None: not known before the call


class DryRunLLM(CachedLLM):
    """A :class:`~harness.models.llm.CachedLLM` whose calls are planned, never made: ``client`` only counts
    (``count_prompt``/``count_text``/``method``); the cache is read, never written. ``calls`` lists what was
    planned, in order."""

    def __init__(self, client, cache: CallCache, params: Mapping[str, Any]) -> None:
        super().__init__(client, cache, params)
        self.planned: list[PlannedCall] = []
        self._plan_lock = threading.Lock()

    @property
    def method(self) -> str:
        return self.client.method

    def count_text(self, text: str) -> tuple[int, int, int]:
        return self.client.count_text(text)

    def complete(self, system: str, user: str, schema: Mapping[str, Any] | None, max_tokens: int) -> LLMResult:
        hit = self.cache.get(self.key(system, user, schema, max_tokens))
        if hit is not None:
            call = PlannedCall(hit["input_tokens"], hit["input_tokens"], hit["input_tokens"], max_tokens, True,
                               hit["output_tokens"])
        else:
            low, est, high = self.client.count_prompt(system, user)
            call = PlannedCall(est, low, high, max_tokens, False, None)
        with self._plan_lock:
            self.planned.append(call)
        # a cached answer goes on to the pipeline (a later task sees it, as in the run); otherwise an empty reply
        return LLMResult(text=hit["text"] if hit else "", input_tokens=call.input_tokens,
                         output_tokens=hit["output_tokens"] if hit else 0, first_token_at=None, cached=hit is not None,
                         stop_reason=hit.get("stop_reason") if hit else None)
