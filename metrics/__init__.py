"""Metrics: pure functions over arrays returning immutable results.

Every metric of ``metrics.json`` is declared once in :mod:`metrics.registry` (name, title, unit, whether
higher is better, task), so a gate never guesses a direction: :func:`higher_is_better` answers for any
declared dotted name.

The names below are imported on first use (PEP 562): ``from metrics import registry`` (the report command)
does not load numpy.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from metrics.lazy import lazy_exports

# public name -> the module that defines it
_EXPORTS = {**dict.fromkeys(("ClassificationScores", "ClassScores", "classification_scores"), "metrics.classification"),
            **dict.fromkeys(("ExtractionScores", "FieldScores", "extraction_scores", "field_matches"),
                            "metrics.extraction"),
            **dict.fromkeys(("LatencySummary", "latency_summary", "throughput"), "metrics.latency"),
            "normalize_value": "metrics.normalize",
            **dict.fromkeys(("METRICS", "Metric", "UnknownMetric", "higher_is_better", "lookup"), "metrics.registry")}

__all__ = sorted(_EXPORTS)

if TYPE_CHECKING:  # what a type checker and an IDE see
    from metrics.classification import ClassificationScores, ClassScores, classification_scores
    from metrics.extraction import ExtractionScores, FieldScores, extraction_scores, field_matches
    from metrics.latency import LatencySummary, latency_summary, throughput
    from metrics.normalize import normalize_value
    from metrics.registry import METRICS, Metric, UnknownMetric, higher_is_better, lookup


__getattr__, __dir__ = lazy_exports("metrics", _EXPORTS, globals())  # the public names, imported on first use
