"""Latency and throughput.

Percentiles use numpy's default (linear interpolation between closest ranks). Values are seconds.

>>> s = latency_summary([0.1, 0.2, 0.3, 0.4])
>>> round(s.p50, 3), round(s.p95, 3), s.n
(0.25, 0.385, 4)
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Sequence

import numpy as np


@dataclass(frozen=True)
class LatencySummary:
    """With no values, ``n`` is 0 and every statistic is None (not measurable)."""
    n: int
    mean: float | None
    p50: float | None
    p95: float | None
    p99: float | None
    max: float | None

    def to_dict(self) -> dict:
        return asdict(self)


def latency_summary(values: Sequence[float]) -> LatencySummary:
    arr = np.asarray([v for v in values if v is not None], dtype=float)
    if arr.size == 0:
        return LatencySummary(0, None, None, None, None, None)
    p50, p95, p99 = (float(x) for x in np.percentile(arr, [50, 95, 99]))
    return LatencySummary(int(arr.size), float(arr.mean()), p50, p95, p99, float(arr.max()))


def throughput(n_items: int, wall_seconds: float | None) -> float | None:
    """Items per second of wall-clock time; None when the time is unknown or zero."""
    if not wall_seconds or wall_seconds <= 0:
        return None
    return n_items / wall_seconds
