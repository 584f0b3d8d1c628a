"""Evaluation and benchmarking harness for document-intelligence pipelines.

Public face: load a golden set, implement or build a :class:`Predictor`, :func:`run` it into a run
directory, :func:`score` predictions made elsewhere.
"""

from harness.errors import HarnessInputError
from harness.golden import GoldenSet, Item, load_golden_set
from harness.predictor import Output, Prediction, Predictor, TaskResult, TokenUsage
from harness.runner import RunResult, run
from harness.scoring import score

__all__ = ["GoldenSet", "HarnessInputError", "Item", "Output", "Prediction", "Predictor", "RunResult", "TaskResult",
           "TokenUsage", "load_golden_set", "run", "score"]
