"""Denied topics offline: similarity of the text to each topic's definition and examples with the embedded
all-MiniLM-L6-v2 model (through the shared model layer, :mod:`harness.models.embeddings`).

A text is split into sentences (a long document into many); its score for a topic is the highest cosine
similarity between any of its sentences and any of the topic's reference texts (the definition, the examples).
The threshold per topic is not guessed: ``harness guardrails calibrate`` chooses it on the red-team set's
``calibration`` split (the value with the best F1 between the topic's items and everything else; ties go to
the higher threshold) and writes ``harness/guardrails/calibration.json``; a topic the file does not name
uses the median of the calibrated thresholds, and the evaluation says so.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Sequence

import numpy as np

_SENTENCE = re.compile(r"(?<=[.!?])\s+|\n+")
MAX_SENTENCES = 200  # per text: a long document is checked over its first 200 sentences


@dataclass(frozen=True)
class TopicScore:
    name: str
    score: float
    sentence: str  # the sentence that scored highest


def sentences(text: str) -> list[str]:
    """The sentences (and lines) of a text.

    >>> sentences("Net 30. Should I sue them?\\nSigned.")
    ['Net 30.', 'Should I sue them?', 'Signed.']
    """
    parts = [p.strip() for p in _SENTENCE.split(text or "") if p and p.strip()]
    return parts[:MAX_SENTENCES] or ([text.strip()] if text and text.strip() else [])


@functools.lru_cache(maxsize=1)
def embedder():
    from harness.models.embeddings import LocalEmbedder

    return LocalEmbedder(setting="topicPolicyConfig")  # denied topics are scored with MiniLM: the local extra


@functools.lru_cache(maxsize=64)
def _references(texts: tuple[str, ...]) -> np.ndarray:
    return embedder().embed(list(texts))


def score(text: str, topics: Sequence[tuple[str, tuple[str, ...]]]) -> list[TopicScore]:
    """Each topic's score for ``text`` (``topics``: name and reference texts)."""
    sents = sentences(text)
    if not sents or not topics:
        return [TopicScore(name, 0.0, "") for name, _ in topics]
    vecs = embedder().embed(sents)
    out = []
    for name, refs in topics:
        sims = vecs @ _references(tuple(refs)).T
        i, _ = np.unravel_index(int(np.argmax(sims)), sims.shape)
        out.append(TopicScore(name, float(sims.max()), sents[i]))
    return out
