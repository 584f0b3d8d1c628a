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

from dataclasses import asdict, dataclass
from typing import Callable, Mapping, Sequence

import numpy as np

from metrics.resamples import _indices, _resample_sums, resampled_percentiles


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


def _ratio(n_sum: np.ndarray, d_sum: np.ndarray) -> np.ndarray:
    """n_sum / d_sum; NaN where a resample has no denominator."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(d_sum > 0, n_sum / np.where(d_sum > 0, d_sum, 1), np.nan)


def bootstrap_ci(numerators: Sequence[float], denominators: Sequence[float] | None = None, *,
                 n_resamples: int = 2000, confidence: float = 0.95, seed: int = 0) -> ConfidenceInterval:
    """Percentile bootstrap CI of ``sum(num) / sum(den)`` over items (den defaults to 1 per item: a mean).

    Resampling whole items keeps ratio metrics right (extraction accuracy = correct fields / gold fields per
    document). Empty input gives ``None`` bounds.
    """
    return bootstrap_cis({"": (numerators, denominators)}, n_resamples=n_resamples, confidence=confidence,
                         seed=seed)[""]


def bootstrap_cis(ratios: Mapping[str, tuple[Sequence[float], Sequence[float] | None]], *,
                  n_resamples: int = 2000, confidence: float = 0.95, seed: int = 0) -> dict[str, ConfidenceInterval]:
    """:func:`bootstrap_ci` of several ratios over the same items (name -> (numerators, denominators)),
    from one set of resamples: each interval is the one :func:`bootstrap_ci` gives for that ratio alone."""
    arrays = {}
    for name, (num, den) in ratios.items():
        num = np.asarray(num, dtype=float)
        arrays[name] = (num, np.ones_like(num) if den is None else np.asarray(den, dtype=float))
    sizes = {num.size for num, _ in arrays.values()}
    if len(sizes) > 1:
        raise ValueError(f"the ratios are over different numbers of items: {sorted(sizes)}")
    live = [name for name, (num, den) in arrays.items() if num.size and den.sum() != 0]
    out = {name: ConfidenceInterval(None, None, None, confidence, int(num.size), n_resamples, seed)
           for name, (num, _) in arrays.items() if name not in live}
    if live:
        n = sizes.pop()
        sums = _resample_sums(np.column_stack([a for name in live for a in arrays[name]]), n_resamples, seed)
        alpha = (1 - confidence) / 2
        for j, name in enumerate(live):
            num, den = arrays[name]
            low, high = np.nanquantile(_ratio(sums[:, 2 * j], sums[:, 2 * j + 1]), [alpha, 1 - alpha])
            out[name] = ConfidenceInterval(float(num.sum() / den.sum()), float(low), float(high), confidence, n,
                                           n_resamples, seed)
    return {name: out[name] for name in ratios}


def paired_bootstrap_ci(a: Sequence[float], b: Sequence[float], a_den: Sequence[float] | None = None,
                        b_den: Sequence[float] | None = None, *, n_resamples: int = 2000,
                        confidence: float = 0.95, seed: int = 0) -> PairedDifference:
    """CI of ``metric(B) - metric(A)`` resampling the same items for both (paired)."""
    return paired_bootstrap_cis({"": (a, b, a_den, b_den)}, n_resamples=n_resamples, confidence=confidence,
                                seed=seed)[""]


def paired_bootstrap_cis(pairs: Mapping[str, tuple], *, n_resamples: int = 2000, confidence: float = 0.95,
                         seed: int = 0) -> dict[str, PairedDifference]:
    """:func:`paired_bootstrap_ci` of several pairs (name -> (a, b, a_den, b_den), the denominators None for
    a mean), those over the same number of items summed in one pass over the resamples (which depend on the
    number of items alone): each the interval :func:`paired_bootstrap_ci` gives for it alone."""
    out: dict[str, PairedDifference] = {}
    live: dict[int, list] = {}
    for name, (a, b, a_den, b_den) in pairs.items():
        a_num, b_num = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
        if a_num.shape != b_num.shape:
            raise ValueError(f"paired inputs differ in length: {a_num.size} vs {b_num.size}")
        a_d = np.ones_like(a_num) if a_den is None else np.asarray(a_den, dtype=float)
        b_d = np.ones_like(b_num) if b_den is None else np.asarray(b_den, dtype=float)
        if a_num.size == 0 or a_d.sum() == 0 or b_d.sum() == 0:
            out[name] = PairedDifference(None, None, None, None, None, confidence, int(a_num.size), n_resamples,
                                         seed)
        else:
            live.setdefault(a_num.size, []).append((name, (a_num, a_d, b_num, b_d)))
    alpha = (1 - confidence) / 2
    for size, group in live.items():
        sums = _resample_sums(np.column_stack([c for _, cols in group for c in cols]), n_resamples, seed)
        for j, (name, (a_num, a_d, b_num, b_d)) in enumerate(group):
            diffs = _ratio(sums[:, 4 * j + 2], sums[:, 4 * j + 3]) - _ratio(sums[:, 4 * j], sums[:, 4 * j + 1])
            low, high = np.nanquantile(diffs, [alpha, 1 - alpha])
            va, vb = float(a_num.sum() / a_d.sum()), float(b_num.sum() / b_d.sum())
            out[name] = PairedDifference(va, vb, vb - va, float(low), float(high), confidence, size, n_resamples,
                                         seed)
    return {name: out[name] for name in pairs}


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


def bootstrap_percentile_cis(samples: Mapping[str, Sequence[float | None]], percentiles: Sequence[float], *,
                             n_resamples: int = 2000, confidence: float = 0.95, seed: int = 0
                             ) -> dict[str, dict[float, ConfidenceInterval]]:
    """:func:`bootstrap_statistic_ci` of ``np.percentile(values, q)`` for each sample (name -> values, None
    values left out) and each q of ``percentiles``: the same intervals (the same resamples, the same values
    to the last bit), without sorting each resample. A resample's k-th smallest value is the sample's sorted
    value at the first rank where the running count of draws (in sorted order) exceeds k, so each resample
    costs one cumulative sum and a binary search per rank needed; the resamples are drawn once for the
    samples of one size."""
    alpha = (1 - confidence) / 2
    out: dict[str, dict[float, ConfidenceInterval]] = {}
    arrays = {name: np.asarray([v for v in values if v is not None], dtype=float) for name, values in samples.items()}
    for name, arr in list(arrays.items()):
        if np.isnan(arr).any():  # a resample that draws a NaN has a NaN percentile: sorted resamples, as numpy
            out[name] = {q: bootstrap_statistic_ci(arr, lambda a, q=q: float(np.percentile(a, q)),
                                                   by_row=lambda m, q=q: np.percentile(m, q, axis=1),
                                                   n_resamples=n_resamples, confidence=confidence, seed=seed)
                         for q in percentiles}
            del arrays[name]
    for size in {a.size for a in arrays.values()}:
        names = [name for name, a in arrays.items() if a.size == size]
        if size == 0:
            for name in names:
                out[name] = {q: ConfidenceInterval(None, None, None, confidence, 0, n_resamples, seed)
                             for q in percentiles}
            continue
        stats = resampled_percentiles({name: arrays[name] for name in names}, percentiles,
                                      n_resamples=n_resamples, seed=seed)
        for name in names:
            out[name] = {}
            for j, q in enumerate(percentiles):
                low, high = np.quantile(stats[name][:, j], [alpha, 1 - alpha])
                out[name][q] = ConfidenceInterval(float(np.percentile(arrays[name], q)), float(low), float(high),
                                                  confidence, int(size), n_resamples, seed)
    return {name: out[name] for name in samples}


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

    The resamples are those of :func:`bootstrap_cis` (the same n, ``n_resamples`` and seed draw the same
    items), so every interval of a run comes from one set of resamples: the accuracy interval equals
    ``bootstrap_ci`` of the per-item correctness. Per-class true positives, false positives and false
    negatives of a resample are sums of whole numbers (exact), so no metric is recomputed item by item.
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
    columns = np.column_stack([onehot_t * correct[:, None], onehot_t, onehot_p, correct])
    # row 0: the observed sample, then one row per resample
    sums = np.concatenate([columns.sum(axis=0)[None], _resample_sums(columns, n_resamples, seed)])
    tp, support, predicted = sums[:, :L], sums[:, L:2 * L], sums[:, 2 * L:3 * L]
    fp, fn = predicted - tp, support - tp
    with np.errstate(invalid="ignore", divide="ignore"):
        f1 = np.where(2 * tp + fp + fn > 0, 2 * tp / (2 * tp + fp + fn), 0.0)
    acc = sums[:, 3 * L] / n  # every resample has n items
    # a class absent from a sample or resample (neither gold nor predicted) has no F1 there: left out of its
    # macro average rather than counted as 0 (which would pull a small sample's figure and every interval
    # below what it measured), as in the estimate (metrics.classification.classification_scores)
    undefined = 2 * tp + fp + fn == 0
    counted = (~undefined).sum(axis=1)
    macro = np.where(counted > 0, np.where(undefined, 0.0, f1).sum(axis=1) / np.maximum(counted, 1), 0.0)
    weighted = np.where(support.sum(axis=1) > 0, (f1 * support).sum(axis=1) / support.sum(axis=1), 0.0)
    alpha = (1 - confidence) / 2
    out = {}
    columns = [(name, values) for name, values in zip(names, (acc, macro, weighted))]
    columns += [(f"per_class.{lab}.f1", f1[:, i]) for i, lab in enumerate(labels)]
    for name, values in columns:
        low, high = np.quantile(values[1:], [alpha, 1 - alpha])
        out[name] = ConfidenceInterval(float(values[0]), float(low), float(high), confidence, n, n_resamples, seed)
    return out
