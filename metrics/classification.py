"""Classification metrics over label arrays (scikit-learn underneath).

>>> r = classification_scores(["a", "b", "b"], ["a", "b", "a"], labels=["a", "b"])
>>> r.accuracy, round(r.macro_f1, 4), r.per_class["b"].recall
(0.6666666666666666, 0.6667, 0.5)
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Mapping, Sequence


@dataclass(frozen=True)
class ClassScores:
    precision: float
    recall: float
    f1: float
    support: int


@dataclass(frozen=True)
class ClassificationScores:
    """Immutable result. With no items every value is None (not measurable), never 0 or 1."""
    n: int
    accuracy: float | None
    macro_f1: float | None
    weighted_f1: float | None
    per_class: Mapping[str, ClassScores]
    labels: tuple[str, ...]
    confusion_matrix: tuple[tuple[int, ...], ...]  # rows: true label, columns: predicted label (``labels`` order)

    def to_dict(self) -> dict:
        d = asdict(self)
        d["labels"] = list(self.labels)
        d["confusion_matrix"] = [list(r) for r in self.confusion_matrix]
        return d


def classification_scores(y_true: Sequence[str], y_pred: Sequence[str | None], labels: Sequence[str] | None = None,
                          zero_division: float = 0.0) -> ClassificationScores:
    """Accuracy, per-class precision/recall/F1/support, macro and weighted F1, confusion matrix.

    ``y_pred`` may hold None or labels outside ``labels`` (a failed call, an invalid answer): they count as
    wrong for accuracy and recall and appear in no column of the confusion matrix. ``zero_division`` is the
    value of a precision/recall/F1 whose denominator is zero (a class never predicted, or absent), as in
    scikit-learn. Weighted F1 averages over ``labels`` (default: the sorted gold labels) by support; macro F1
    over those of ``labels`` that occur as gold or prediction (a label a subset never holds nor predicts has no
    F1, so it is left out rather than counted as 0: three classes of twelve, all right, are 100 %, not 25 %).

    >>> r = classification_scores(["a", "b"], ["a", "b"], labels=["a", "b", "c", "d"])
    >>> (r.accuracy, r.macro_f1)
    (1.0, 1.0)
    """
    import warnings

    from sklearn.metrics import confusion_matrix, precision_recall_fscore_support

    if len(y_true) != len(y_pred):
        raise ValueError(f"y_true has {len(y_true)} items, y_pred {len(y_pred)}")
    labels = tuple(labels) if labels is not None else tuple(sorted(set(y_true)))
    if not y_true:
        return ClassificationScores(0, None, None, None, {}, labels, ())
    sentinel = "\x00<no label>"  # a failed prediction
    # every distinct value as a number: the same counts as the strings, and scikit-learn counts numbers far
    # faster than Python objects
    codes: dict = {}
    import numpy as np  # here: the registry imports this module for balanced_accuracy, without numpy

    true = np.asarray([codes.setdefault(t, len(codes)) for t in y_true], dtype=np.int64)
    pred = np.asarray([codes.setdefault(sentinel if p is None else p, len(codes)) for p in y_pred], dtype=np.int64)
    wanted = [codes.setdefault(lab, len(codes)) for lab in labels]
    accuracy = float(np.mean(true == pred))
    with warnings.catch_warnings():  # "a single label was found": expected for one-class golden sets
        warnings.simplefilter("ignore", UserWarning)
        p, r, f, s = precision_recall_fscore_support(true, pred, labels=wanted, zero_division=zero_division)
        occurring = set(true.tolist()) | set(pred.tolist())
        present = [w for w in wanted if w in occurring]
        _, _, macro, _ = precision_recall_fscore_support(true, pred, labels=present, average="macro",
                                                         zero_division=zero_division) if present else (0, 0, 0.0, 0)
        _, _, weighted, _ = precision_recall_fscore_support(true, pred, labels=wanted, average="weighted",
                                                            zero_division=zero_division)
        cm = confusion_matrix(true, pred, labels=wanted)
    per_class = {lab: ClassScores(float(p[i]), float(r[i]), float(f[i]), int(s[i])) for i, lab in enumerate(labels)}
    return ClassificationScores(n=len(true), accuracy=accuracy, macro_f1=float(macro), weighted_f1=float(weighted),
                                per_class=per_class, labels=labels,
                                confusion_matrix=tuple(tuple(int(x) for x in row) for row in cm))


def balanced_accuracy(y_true: Sequence[str], y_pred: Sequence[str | None], labels: Sequence[str]) -> float | None:
    """Mean recall over the ``labels`` that occur in ``y_true`` (scikit-learn's ``balanced_accuracy_score``);
    None with no items. A None prediction (a failed call) counts as wrong.

    >>> balanced_accuracy(["a", "a", "a", "b"], ["a", "a", "a", "a"], labels=["a", "b"])
    0.5
    """
    from collections import Counter

    if not y_true:
        return None
    support = Counter(y_true)
    hits = Counter(t for t, p in zip(y_true, y_pred) if t == p)
    recalls = [hits[lab] / support[lab] for lab in labels if support[lab]]
    return sum(recalls) / len(recalls) if recalls else None
