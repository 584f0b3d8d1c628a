"""Evaluation and benchmarking harness for document-intelligence pipelines.

Public face: load a golden set, implement or build a :class:`Predictor`, :func:`run` it into a run
directory, :func:`score` predictions made elsewhere.

The names below are imported on first use (PEP 562), so ``import harness.errors`` or ``harness --help`` does
not pay for numpy, pydantic and the scoring code.

``__version__`` comes from :mod:`harness.version`, the one place the version number is written.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from metrics.lazy import lazy_exports

from harness.version import __version__

# public name -> the module that defines it
_EXPORTS = {"HarnessInputError": "harness.errors", "GoldenSet": "harness.golden", "Item": "harness.golden",
            "load_golden_set": "harness.golden", "Output": "harness.predictor", "Prediction": "harness.predictor",
            "Predictor": "harness.predictor", "TaskResult": "harness.predictor", "TokenUsage": "harness.predictor",
            "RunResult": "harness.runner", "run": "harness.runner", "score": "harness.scoring"}

__all__ = sorted(_EXPORTS)

if TYPE_CHECKING:  # what a type checker and an IDE see
    from harness.errors import HarnessInputError
    from harness.golden import GoldenSet, Item, load_golden_set
    from harness.predictor import Output, Prediction, Predictor, TaskResult, TokenUsage
    from harness.runner import RunResult, run
    from harness.scoring import score


__getattr__, __dir__ = lazy_exports("harness", _EXPORTS, globals())  # the public names, imported on first use
