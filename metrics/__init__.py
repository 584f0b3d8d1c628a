"""Metrics: pure functions over arrays returning immutable results.

Every metric of ``metrics.json`` is declared once in :mod:`metrics.registry` (name, title, unit, whether
higher is better, task), so a gate never guesses a direction: :func:`higher_is_better` answers for any
declared dotted name.
"""

from __future__ import annotations

from metrics.classification import ClassificationScores, ClassScores, classification_scores
from metrics.extraction import ExtractionScores, FieldScores, extraction_scores, field_matches
from metrics.latency import LatencySummary, latency_summary, throughput
from metrics.normalize import normalize_value
from metrics.registry import METRICS, Metric, UnknownMetric, higher_is_better, lookup

__all__ = ["ClassScores", "ClassificationScores", "ExtractionScores", "FieldScores", "LatencySummary",
           "METRICS", "Metric", "UnknownMetric", "classification_scores", "extraction_scores", "field_matches", "higher_is_better",
           "latency_summary", "lookup", "normalize_value", "throughput"]
