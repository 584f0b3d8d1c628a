"""The bootstrap resamples of n items, drawn once per process and (n, resamples, seed), and what is computed over
all of them at once: sums of columns (:func:`_resample_sums`, exact for whole numbers) and percentiles
(:func:`resampled_percentiles`, the same values to the last bit as numpy over each resample). The intervals built
on them are in :mod:`metrics.statistics`.
"""

from __future__ import annotations

import functools
from typing import Mapping, Sequence

import numpy as np


_BLOCK = 64  # resamples handled at a time where a block needs an (n_resamples x items) array


@functools.lru_cache(maxsize=2)
def _indices(n: int, n_resamples: int, seed: int) -> np.ndarray:
    """The resample index matrix (read-only; the same (n, resamples, seed) gives the same matrix, so the
    metrics of one run reuse it instead of drawing it again)."""
    idx = np.random.default_rng(seed).integers(0, n, size=(n_resamples, n))
    idx.setflags(write=False)
    return idx


@functools.lru_cache(maxsize=2)
def _count_blocks(n: int, n_resamples: int, seed: int) -> tuple[tuple[int, np.ndarray], ...]:
    """The draws of :func:`_indices` as counts, a block of resamples at a time: (first resample, counts) with
    ``counts[i, r]`` how many times resample ``first + r`` draws item ``i`` (items x resamples, so a gather of
    items reads whole rows; the smallest unsigned type that holds them). Remembered like the draws: the
    intervals of one run count them once."""
    rng = np.random.default_rng(seed)  # the draws of _indices a block at a time (the same stream: numpy draws a
    out = []  # matrix row after row), never the whole matrix in memory (2,000 x 50,000 draws are 800 MB)
    for lo in range(0, n_resamples, _BLOCK):
        block = rng.integers(0, n, size=(min(_BLOCK, n_resamples - lo), n))
        # each resample counted on its own (its n counts stay in cache, where one count over the whole block
        # scattered into 8 n x len(block) bytes), then turned items x resamples
        rows = [np.bincount(draws, minlength=n) for draws in block]
        by_resample = np.empty((len(block), n), dtype=np.min_scalar_type(max(int(r.max(initial=0)) for r in rows)))
        for r, counted in enumerate(rows):
            by_resample[r] = counted
        counts = np.ascontiguousarray(by_resample.T)
        counts.setflags(write=False)
        out.append((lo, counts))
    return tuple(out)


def draw_resamples(n: int, n_resamples: int = 2000, seed: int = 0) -> None:
    """Draw the resamples of ``n`` items ahead (:func:`_count_blocks`, remembered by this process): every
    interval over ``n`` items with these resamples and seed then starts at once. Changes no interval."""
    _count_blocks(n, n_resamples, seed)


def _resample_sums(values: np.ndarray, n_resamples: int, seed: int) -> np.ndarray:
    """Sum of each column of ``values`` (items x columns) over each resample of :func:`_indices`.

    Whole-number columns (counts, 0/1 outcomes) are summed through the number of times each item is drawn
    (:func:`_count_blocks`, one matrix product a block); sums of whole numbers below 2**53 are exact in any
    order, so they equal the item-by-item sums. A resample draws n items, so no partial sum of its column
    exceeds n times the largest value: below 2**24 the products are made in single precision, as exact and
    half the memory to convert and multiply. Other values are summed item by item."""
    n = values.shape[0]
    largest = n * np.abs(values).max(initial=0)
    if not (np.all(values == np.round(values)) and largest < 2 ** 53):
        idx = _indices(n, n_resamples, seed)
        return np.column_stack([values[:, j][idx].sum(axis=1) for j in range(values.shape[1])])
    kind = np.float32 if largest < 2 ** 24 else np.float64
    values = values.astype(kind)
    out = np.empty((n_resamples, values.shape[1]))
    for lo, counts in _count_blocks(n, n_resamples, seed):
        out[lo:lo + counts.shape[1]] = counts.T.astype(kind) @ values
    return out


def _percentile_plan(n: int, percentiles: Sequence[float]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For ``np.percentile(x, q)`` (linear method) of any n values: the ranks (0-based, in sorted order) of
    the two values it interpolates between and the weight of the second, per q, with numpy's arithmetic
    (position ``(n - 1) * q``, the weight taken from the clipped rank), so the values are the same to the last
    bit (a test sweeps sizes and percentiles)."""
    q = np.true_divide(np.asarray(percentiles, dtype=float), 100)
    virtual = (n - 1) * q
    prev = np.floor(virtual)
    above, below = virtual >= n - 1, virtual < 0
    prev[above], prev[below] = -1, 0  # as numpy: the last value (read at n - 1), the first value
    gamma = virtual - prev
    prev = prev.astype(np.intp)
    nxt = prev + 1
    nxt[above | below] = prev[above | below]
    return np.where(prev < 0, n - 1, prev), np.where(nxt < 0, n - 1, nxt), gamma


def _lerp(a: np.ndarray, b: np.ndarray, t: float) -> np.ndarray:
    """numpy's linear interpolation, as its quantile functions compute it."""
    diff = b - a
    return b - diff * (1 - t) if t >= 0.5 else a + diff * t


def resampled_percentiles(samples: Mapping[str, np.ndarray], percentiles: Sequence[float], *,
                          n_resamples: int = 2000, seed: int = 0) -> dict[str, np.ndarray]:
    """For samples of one size without NaN (name -> values), each resample's ``np.percentile(resample, q)``
    for each q (a resamples x percentiles array per sample): the resamples of :func:`_indices`, the same for
    every sample (paired), and the same values to the last bit as ``np.percentile(values[_indices(...)], q,
    axis=1)``, without sorting each resample. A resample's k-th smallest value is the sample's sorted value at
    the first rank where the running count of draws (in sorted order) exceeds k, so each resample costs one
    cumulative sum and a binary search per rank needed."""
    arrays = {name: np.asarray(values, dtype=float) for name, values in samples.items()}
    sizes = {a.size for a in arrays.values()}
    if len(sizes) != 1 or 0 in sizes or any(np.isnan(a).any() for a in arrays.values()):
        raise ValueError("resampled_percentiles needs samples of one size, not empty, without NaN")
    size = sizes.pop()
    prev, nxt, gamma = _percentile_plan(size, percentiles)
    ranks = np.unique(np.concatenate([prev, nxt]))
    orders = {name: np.argsort(a, kind="stable") for name, a in arrays.items()}
    picked = {name: np.empty((n_resamples, len(ranks)), dtype=np.intp) for name in arrays}
    # the running counts are needed from a little below the lowest rank wanted only (see _picked_ranks)
    first = max(0, int(ranks.min()) - _RANK_MARGIN_SD * int(np.sqrt(size)) - _BLOCK)
    for lo, counts in _count_blocks(size, n_resamples, seed):
        for name in arrays:
            picked[name][lo:lo + counts.shape[1]] = _picked_ranks(counts, orders[name], ranks, first)
    out = {}
    for name, a in arrays.items():
        ordered = a[orders[name]]
        at = {int(k): ordered[picked[name][:, j]] for j, k in enumerate(ranks)}
        out[name] = np.column_stack([_lerp(at[int(prev[j])], at[int(nxt[j])], float(gamma[j]))
                                     for j in range(len(percentiles))])
    return out


_RANK_MARGIN_SD = 10  # how far below the lowest rank wanted the running counts start, in sqrt(n) (10 SD and more)


def _picked_ranks(counts: np.ndarray, order: np.ndarray, ranks: np.ndarray, first: int) -> np.ndarray:
    """For each resample of a block (``counts``: items x resamples, :func:`_count_blocks`) and each rank of
    ``ranks``: the position, in the sample's sorted order (``order``), of the resample's value of that rank (the
    first position where the running count of draws exceeds the rank).

    Every resample draws n items, so the running count at position j is n minus the draws of the positions
    after j: summed from the top down to ``first`` only (a P95 needs the top twentieth or so, not all n rows).
    Where a resample's running count already exceeds the lowest rank below ``first`` (its value of that rank
    lies lower), the block is counted from the bottom instead: the positions are the same either way."""
    n = order.size
    dtype = np.min_scalar_type(n)  # a running count reaches n at most
    wanted = ranks.astype(dtype)
    if first > 0:
        above = np.cumsum(counts[order[:first - 1:-1]], axis=0, dtype=dtype)[::-1]  # draws at or above each position
        below_first = n - above[0]  # the running count at position first - 1
        if (below_first <= wanted.min()).all():
            # the running count at position first + i: n minus the draws above it
            running = np.vstack([n - above[1:], np.full((1, counts.shape[1]), n, dtype=dtype)]).T.copy()
            return first + np.stack([np.searchsorted(row, wanted, side="right") for row in running])
    running = np.cumsum(counts[order], axis=0, dtype=dtype).T.copy()  # draws in sorted order, summed as they go
    return np.stack([np.searchsorted(row, wanted, side="right") for row in running])
