"""Metrics: pure functions over arrays returning immutable results.

Each metric in ``metrics.json`` declares its direction in :data:`DIRECTIONS`, so a gate never guesses
whether higher is better: :func:`higher_is_better` answers for any dotted metric name.
"""

from __future__ import annotations

from fnmatch import fnmatchcase

from metrics.classification import ClassificationScores, ClassScores, classification_scores
from metrics.extraction import ExtractionScores, FieldScores, extraction_scores, field_matches
from metrics.latency import LatencySummary, latency_summary, throughput
from metrics.normalize import normalize_value

# dotted-name pattern -> True when higher is better (first match wins)
DIRECTIONS: tuple[tuple[str, bool], ...] = (
    ("classification.accuracy", True),
    ("classification.macro_f1", True),
    ("classification.weighted_f1", True),
    ("classification.per_class.*.precision", True),
    ("classification.per_class.*.recall", True),
    ("classification.per_class.*.f1", True),
    ("extraction.accuracy", True),
    ("extraction.per_field.*.accuracy", True),
    ("extraction.spurious_rate", False),
    ("extraction.per_field.*.spurious_rate", False),
    ("answers.hallucination_rate", False),
    ("answers.faithfulness", True),
    ("answers.answer_relevance", True),
    ("answers.context_precision", True),
    ("answers.context_recall", True),
    ("answers.reference_token_f1", True),
    ("answers.offline.*", True),
    ("answers.judge.hallucination_rate", False),
    ("answers.judge.cost_usd", False),
    ("answers.judge.usage.*", False),
    ("summaries.hallucination_rate", False),
    ("summaries.faithfulness", True),
    ("cost.*", False),
    ("guardrails.critical_failures", False),
    ("latency.*", False),
    ("throughput.*", True),
    ("counts.errors", False),
    ("counts.unscored", False),
    ("counts.missing", False),
)


def higher_is_better(name: str) -> bool:
    """Direction of a dotted metric name; KeyError for a name no pattern declares.

    >>> higher_is_better("extraction.spurious_rate"), higher_is_better("latency.classify.p95")
    (False, False)
    """
    for pattern, direction in DIRECTIONS:
        if fnmatchcase(name, pattern):
            return direction
    raise KeyError(f"no direction declared for metric {name!r}")


__all__ = ["ClassScores", "ClassificationScores", "ExtractionScores", "FieldScores", "LatencySummary",
           "DIRECTIONS", "classification_scores", "extraction_scores", "field_matches", "higher_is_better",
           "latency_summary", "normalize_value", "throughput"]
