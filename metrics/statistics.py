"""Statistics between runs on the same items: paired bootstrap confidence intervals and McNemar's test.

>>> a = [1, 1, 0, 1, 0, 1, 1, 0]
>>> b = [1, 1, 1, 1, 1, 1, 0, 1]
>>> r = mcnemar_exact(a, b)
>>> (r.a_only, r.b_only, round(r.p_value, 4))
(1, 3, 0.625)
>>> ci = paired_bootstrap_ci(a, b, n_resamples=2000, seed=0)
>>> round(ci.difference, 3), ci.low <= ci.difference <= ci.high
(0.25, True)
"""

from __future__ import annotations

import functools

from dataclasses import asdict, dataclass
from typing import Callable, Sequence

import numpy as np


@dataclass(frozen=True)
class ConfidenceInterval:
    estimate: float | None
    low: float | None
    high: float | None
    confidence: float
    n: int
    n_resamples: int
    seed: int

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class PairedDifference:
    """B minus A on the same items, with a paired bootstrap interval."""
    a: float | None
    b: float | None
    difference: float | None
    low: float | None
    high: float | None
    confidence: float
    n: int
    n_resamples: int
    seed: int

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class McNemarResult:
    """Exact McNemar test: binomial on the discordant pairs (two-sided)."""
    n: int
    both_right: int
    a_only: int  # A right, B wrong
    b_only: int  # A wrong, B right
    both_wrong: int
    p_value: float  # 1.0 when there are no discordant pairs

    def to_dict(self) -> dict:
        return asdict(self)


def _ratio_stat(num: np.ndarray, den: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """sum(num)/sum(den) over each resample (rows of ``idx``); NaN where a resample has no denominator."""
    n_sum = num[idx].sum(axis=1)
    d_sum = den[idx].sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(d_sum > 0, n_sum / np.where(d_sum > 0, d_sum, 1), np.nan)


@functools.lru_cache(maxsize=2)
def _indices(n: int, n_resamples: int, seed: int) -> np.ndarray:
    """The resample index matrix (read-only; the same (n, resamples, seed) gives the same matrix, so the
    metrics of one run reuse it instead of drawing it again)."""
    idx = np.random.default_rng(seed).integers(0, n, size=(n_resamples, n))
    idx.setflags(write=False)
    return idx


def bootstrap_ci(numerators: Sequence[float], denominators: Sequence[float] | None = None, *,
                 n_resamples: int = 2000, confidence: float = 0.95, seed: int = 0) -> ConfidenceInterval:
    """Percentile bootstrap CI of ``sum(num) / sum(den)`` over items (den defaults to 1 per item: a mean).

    Resampling whole items keeps ratio metrics right (extraction accuracy = correct fields / gold fields per
    document). Empty input gives ``None`` bounds.
    """
    num = np.asarray(numerators, dtype=float)
    den = np.ones_like(num) if denominators is None else np.asarray(denominators, dtype=float)
    if num.size == 0 or den.sum() == 0:
        return ConfidenceInterval(None, None, None, confidence, int(num.size), n_resamples, seed)
    stats = _ratio_stat(num, den, _indices(num.size, n_resamples, seed))
    alpha = (1 - confidence) / 2
    low, high = np.nanquantile(stats, [alpha, 1 - alpha])
    return ConfidenceInterval(float(num.sum() / den.sum()), float(low), float(high), confidence, int(num.size),
                              n_resamples, seed)


def paired_bootstrap_ci(a: Sequence[float], b: Sequence[float], a_den: Sequence[float] | None = None,
                        b_den: Sequence[float] | None = None, *, n_resamples: int = 2000,
                        confidence: float = 0.95, seed: int = 0) -> PairedDifference:
    """CI of ``metric(B) - metric(A)`` resampling the same items for both (paired)."""
    a_num, b_num = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if a_num.shape != b_num.shape:
        raise ValueError(f"paired inputs differ in length: {a_num.size} vs {b_num.size}")
    a_d = np.ones_like(a_num) if a_den is None else np.asarray(a_den, dtype=float)
    b_d = np.ones_like(b_num) if b_den is None else np.asarray(b_den, dtype=float)
    if a_num.size == 0 or a_d.sum() == 0 or b_d.sum() == 0:
        return PairedDifference(None, None, None, None, None, confidence, int(a_num.size), n_resamples, seed)
    idx = _indices(a_num.size, n_resamples, seed)
    diffs = _ratio_stat(b_num, b_d, idx) - _ratio_stat(a_num, a_d, idx)
    alpha = (1 - confidence) / 2
    low, high = np.nanquantile(diffs, [alpha, 1 - alpha])
    va, vb = float(a_num.sum() / a_d.sum()), float(b_num.sum() / b_d.sum())
    return PairedDifference(va, vb, vb - va, float(low), float(high), confidence, int(a_num.size), n_resamples,
                            seed)


def bootstrap_statistic_ci(values: Sequence[float], statistic: Callable[[np.ndarray], float], *,
                           n_resamples: int = 2000, confidence: float = 0.95, seed: int = 0,
                           by_row: Callable[[np.ndarray], np.ndarray] | None = None) -> ConfidenceInterval:
    """CI of any statistic of one sample (e.g. a latency percentile). ``by_row``, when given, computes the
    same statistic for every row of a matrix at once (``lambda m: np.percentile(m, 95, axis=1)``): the same
    figures, without a Python call per resample."""
    arr = np.asarray([v for v in values if v is not None], dtype=float)
    if arr.size == 0:
        return ConfidenceInterval(None, None, None, confidence, 0, n_resamples, seed)
    idx = _indices(arr.size, n_resamples, seed)
    stats = by_row(arr[idx]) if by_row is not None else np.apply_along_axis(statistic, 1, arr[idx])
    alpha = (1 - confidence) / 2
    low, high = np.quantile(stats, [alpha, 1 - alpha])
    return ConfidenceInterval(float(statistic(arr)), float(low), float(high), confidence, int(arr.size),
                              n_resamples, seed)


def mcnemar_exact(a_correct: Sequence[bool | int], b_correct: Sequence[bool | int]) -> McNemarResult:
    """Exact two-sided McNemar test on per-item correctness of two systems on the same items.

    The p-value is ``min(1, 2 * P[X <= min(b, c)])`` for ``X ~ Binomial(b + c, 1/2)``, where ``b`` and
    ``c`` are the discordant counts; 1.0 when there are none.
    """
    from scipy.stats import binom

    a = np.asarray(a_correct, dtype=bool)
    b = np.asarray(b_correct, dtype=bool)
    if a.shape != b.shape:
        raise ValueError(f"paired inputs differ in length: {a.size} vs {b.size}")
    a_only = int(np.sum(a & ~b))
    b_only = int(np.sum(~a & b))
    n_disc = a_only + b_only
    p = 1.0 if n_disc == 0 else float(min(1.0, 2 * binom.cdf(min(a_only, b_only), n_disc, 0.5)))
    return McNemarResult(n=int(a.size), both_right=int(np.sum(a & b)), a_only=a_only, b_only=b_only,
                         both_wrong=int(np.sum(~a & ~b)), p_value=p)


def classification_bootstrap(y_true: Sequence[str], y_pred: Sequence[str | None], labels: Sequence[str], *,
                             n_resamples: int = 1000, confidence: float = 0.95, seed: int = 0
                             ) -> dict[str, ConfidenceInterval]:
    """Bootstrap CIs of accuracy, macro F1, weighted F1 and each class's F1 (``per_class.<label>.f1``;
    zero_division=0), vectorised over resamples.

    Each resample reweights items; per-class true positives, false positives and false negatives are
    weighted sums, so no model or metric is recomputed item by item.
    """
    n = len(y_true)
    names = ("accuracy", "macro_f1", "weighted_f1")
    if n == 0:
        return {k: ConfidenceInterval(None, None, None, confidence, 0, n_resamples, seed) for k in names}
    index = {lab: i for i, lab in enumerate(labels)}
    L = len(labels)
    t = np.asarray([index.get(v, -1) for v in y_true])
    p = np.asarray([index.get(v, -1) if v is not None else -1 for v in y_pred])
    correct = (t == p) & (t >= 0)
    onehot_t = np.zeros((n, L))
    onehot_t[t >= 0, t[t >= 0]] = 1
    onehot_p = np.zeros((n, L))
    onehot_p[p >= 0, p[p >= 0]] = 1
    rng = np.random.default_rng(seed)
    w = rng.multinomial(n, np.full(n, 1.0 / n), size=n_resamples).astype(float)  # resample counts per item
    w_full = np.vstack([np.ones(n), w])  # row 0: the observed sample
    tp = w_full @ (onehot_t * correct[:, None])
    support = w_full @ onehot_t
    predicted = w_full @ onehot_p
    fp, fn = predicted - tp, support - tp
    with np.errstate(invalid="ignore", divide="ignore"):
        f1 = np.where(2 * tp + fp + fn > 0, 2 * tp / (2 * tp + fp + fn), 0.0)
    acc = (w_full @ correct) / w_full.sum(axis=1)
    macro = f1.mean(axis=1)
    weighted = np.where(support.sum(axis=1) > 0, (f1 * support).sum(axis=1) / support.sum(axis=1), 0.0)
    alpha = (1 - confidence) / 2
    out = {}
    columns = [(name, values) for name, values in zip(names, (acc, macro, weighted))]
    columns += [(f"per_class.{lab}.f1", f1[:, i]) for i, lab in enumerate(labels)]
    for name, values in columns:
        low, high = np.quantile(values[1:], [alpha, 1 - alpha])
        out[name] = ConfidenceInterval(float(values[0]), float(low), float(high), confidence, n, n_resamples, seed)
    return out
