"""ragas' LLM metrics through the harness's own model clients (private: use :mod:`harness.judge`).

ragas 0.4's metric collections take an "instructor-style" LLM: ``generate(prompt, response_model)`` that
returns a validated pydantic object. :class:`JudgeLLM` implements that over the shared ``harness.models.LLMClient``
(llama.cpp or ``ChatBedrockConverse``, behind the call cache), counting every call's tokens, so judge usage
is known per item. The local model's output is constrained by a grammar compiled from the response
model's JSON schema, with lengths bounded so a small model cannot loop inside a string forever.
"""

from __future__ import annotations

import asyncio
import copy
import math
import os
import time
from dataclasses import dataclass, field
from typing import Any, Sequence

os.environ.setdefault("RAGAS_DO_NOT_TRACK", "true")  # before ragas is imported: no telemetry

from ragas.embeddings.base import BaseRagasEmbedding  # noqa: E402
from ragas.llms.base import InstructorBaseRagasLLM  # noqa: E402

SYSTEM = "You are a strict evaluation judge. Follow the instructions and reply with one JSON object only."
MAX_STRING = 300  # characters per string in the local judge's grammar
MAX_ITEMS = 12  # items per array in the local judge's grammar
MIN_ITEMS = 1  # ... and at least one: SmolLM2 otherwise answers most short answers with no statements (NaN)

# why a metric may come back as NaN, in words a reader can act on
NAN_REASON = {
    "faithfulness": "judge found no statements in the answer (NaN)",
    "answer_relevancy": "judge gave no score (NaN)",
    "context_precision": "judge gave no verdicts on the contexts (NaN)",
    "context_recall": "judge classified no reference statements (NaN)",
}


class JudgeOutputError(ValueError):
    """The judge's reply was not the JSON object the metric asked for."""


def bounded_schema(schema: dict, max_string: int = MAX_STRING, max_items: int = MAX_ITEMS,
                   min_items: int = MIN_ITEMS) -> dict:
    """``schema`` with a ``maxLength`` on every string and ``minItems``/``maxItems`` on every array lacking them.

    >>> bounded_schema({"type": "array", "items": {"type": "string"}})
    {'type': 'array', 'items': {'type': 'string', 'maxLength': 300}, 'minItems': 1, 'maxItems': 12}
    """
    out = copy.deepcopy(schema)

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") == "string":
                node.setdefault("maxLength", max_string)
            if node.get("type") == "array":
                node.setdefault("minItems", min_items)
                node.setdefault("maxItems", max_items)
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(out)
    return out


@dataclass
class Usage:
    """Tokens and calls of one item's judging (an accumulator private to one worker)."""
    calls: int = 0
    cached_calls: int = 0
    input_tokens: int = 0
    output_tokens: int = 0

    def to_dict(self) -> dict:
        return {"calls": self.calls, "cached_calls": self.cached_calls, "input_tokens": self.input_tokens,
                "output_tokens": self.output_tokens}


class JudgeLLM(InstructorBaseRagasLLM):
    def __init__(self, client, max_tokens: int, usage: Usage, constrain: bool) -> None:
        self.client = client
        self.max_tokens = max_tokens
        self.usage = usage
        self.constrain = constrain

    def generate(self, prompt: str, response_model):
        from pydantic import ValidationError

        from harness.models import InvalidOutput, parse_json_object

        schema = response_model.model_json_schema()
        res = self.client.complete(SYSTEM, prompt, bounded_schema(schema) if self.constrain else schema,
                                   self.max_tokens)
        self.usage.calls += 1
        self.usage.cached_calls += bool(res.cached)
        self.usage.input_tokens += res.input_tokens
        self.usage.output_tokens += res.output_tokens
        try:
            return response_model.model_validate(parse_json_object(res.text))
        except InvalidOutput as exc:
            if res.output_tokens >= self.max_tokens - 2:  # counted by re-tokenising: allow for merges
                raise JudgeOutputError(f"{response_model.__name__}: cut off at judge.max_tokens={self.max_tokens}") \
                    from None
            raise JudgeOutputError(f"{response_model.__name__}: {exc}") from None
        except ValidationError as exc:
            err = exc.errors()[0]
            loc = ".".join(str(x) for x in err["loc"])
            raise JudgeOutputError(f"{response_model.__name__}: {loc}: {err['msg']}") from None

    async def agenerate(self, prompt: str, response_model):
        # each item is judged in its own worker thread and event loop: a blocking call here blocks only it
        return self.generate(prompt, response_model)


class JudgeEmbeddings(BaseRagasEmbedding):
    """The shared embedder (MiniLM or Titan, :mod:`harness.models`) as a ragas embedding."""

    def __init__(self, embedder) -> None:
        super().__init__(cache=None)
        self.embedder = embedder

    def embed_text(self, text: str, **kwargs) -> list[float]:
        return self.embedder.embed([text])[0].tolist()

    async def aembed_text(self, text: str, **kwargs) -> list[float]:
        return self.embed_text(text)

    def embed_texts(self, texts: list[str], **kwargs) -> list[list[float]]:
        return self.embedder.embed(list(texts)).tolist() if texts else []

    async def aembed_texts(self, texts: list[str], **kwargs) -> list[list[float]]:
        return self.embed_texts(texts)


def _metric(name: str, llm: JudgeLLM, embeddings, strictness: int):
    from ragas.metrics.collections import AnswerRelevancy, ContextPrecisionWithReference, ContextRecall, Faithfulness

    if name == "faithfulness":
        return Faithfulness(llm=llm)
    if name == "answer_relevancy":
        return AnswerRelevancy(llm=llm, embeddings=embeddings, strictness=strictness)
    if name == "context_precision":
        return ContextPrecisionWithReference(llm=llm)
    if name == "context_recall":
        return ContextRecall(llm=llm)
    raise ValueError(f"unknown judge metric {name!r}")


def needs(name: str, question: str, answer: str | None, contexts: Sequence[str] | None,
          reference: str | None) -> str | None:
    """Why ``name`` cannot be judged for this sample (None when it can)."""
    if name in ("faithfulness", "answer_relevancy") and not (answer and answer.strip()):
        return "no answer (failed or empty)"
    if name in ("faithfulness", "context_precision", "context_recall") and not contexts:
        return "no retrieved contexts"
    if name in ("context_precision", "context_recall") and not (reference and reference.strip()):
        return "no reference answer"
    return None


@dataclass
class Scored:
    scores: dict = field(default_factory=dict)
    reasons: dict = field(default_factory=dict)
    usage: Usage = field(default_factory=Usage)
    latency_s: float = 0.0


def score_sample(question: str, answer: str | None, contexts: Sequence[str] | None, reference: str | None,
                 metric_names: Sequence[str], client, embedder_factory, max_tokens: int, constrain: bool,
                 strictness: int) -> Scored:
    """Run each ragas metric on one sample. A failure or NaN becomes a reason, never a number."""
    out = Scored()
    llm = JudgeLLM(client, max_tokens, out.usage, constrain)
    t0 = time.perf_counter()
    kwargs_for = {
        "faithfulness": {"user_input": question, "response": answer, "retrieved_contexts": list(contexts or [])},
        "answer_relevancy": {"user_input": question, "response": answer},
        "context_precision": {"user_input": question, "reference": reference,
                              "retrieved_contexts": list(contexts or [])},
        "context_recall": {"user_input": question, "reference": reference, "retrieved_contexts": list(contexts or [])},
    }
    for name in metric_names:
        why = needs(name, question, answer, contexts, reference)
        if why:
            out.scores[name], out.reasons[name] = None, why
            continue
        try:
            embeddings = JudgeEmbeddings(embedder_factory()) if name == "answer_relevancy" else None
            result = asyncio.run(_metric(name, llm, embeddings, strictness).ascore(**kwargs_for[name]))
            value = result.value
        except JudgeOutputError as exc:
            out.scores[name], out.reasons[name] = None, f"invalid judge output: {exc}"[:300]
            continue
        except Exception as exc:  # noqa: BLE001 - a failed judge call is recorded with its reason
            out.scores[name], out.reasons[name] = None, f"judge call failed: {type(exc).__name__}: {exc}"[:300]
            continue
        if value is None or (isinstance(value, float) and math.isnan(value)):
            out.scores[name], out.reasons[name] = None, NAN_REASON[name]
        else:
            out.scores[name] = float(value)
    out.latency_s = time.perf_counter() - t0
    return out
