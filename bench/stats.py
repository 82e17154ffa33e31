"""Percentiles, and medians over repetitions with their spread."""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping, Sequence
from typing import Any


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0–100), interpolated between closest ranks.

    >>> percentile([1, 2, 3, 4], 50)
    2.5
    >>> percentile([5.0], 99)
    5.0
    """
    if not values:
        raise ValueError("percentile of no values")
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def p50_p99(values: Sequence[float]) -> dict[str, float]:
    """The median and 99th percentile of one repetition's samples."""
    return {"p50": percentile(values, 50), "p99": percentile(values, 99)}


def over_reps(reps: Sequence[Mapping[str, Any]], key: str) -> float:
    """The median over repetitions of one field."""
    return statistics.median(float(rep[key]) for rep in reps)


def spread(values: Sequence[float]) -> dict[str, float]:
    """Smallest and largest value, e.g. of per-repetition ratios.

    >>> spread([1.1, 0.9, 1.0])
    {'min': 0.9, 'max': 1.1}
    """
    return {"min": min(values), "max": max(values)}


def paired_ratios(
    ours: Sequence[Mapping[str, Any]], other: Sequence[Mapping[str, Any]], key: str
) -> list[float]:
    """``ours / other`` for each repetition, both measured in the same round."""
    return [
        float(a[key]) / float(b[key])
        for a, b in zip(ours, other, strict=True)
        if float(b[key])
    ]
