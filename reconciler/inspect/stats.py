"""The statistics of ``kubernaut report``, in plain Python (no scipy).

* :func:`wilson_interval` — the Wilson score interval of a proportion (Wilson 1927): good at
  small n and near 0 or 1, where the normal ("Wald") interval is wrong or collapses.
* :func:`newcombe_difference` — Newcombe's hybrid score interval for a difference of two
  independent proportions (Newcombe 1998, method 10), built from the two Wilson intervals.
  It is what the report gives for "V2 success rate minus V1 success rate".
* :func:`percentile` — linear interpolation between order statistics (numpy's default,
  Hyndman & Fan type 7).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["Z_95", "DifferenceInterval", "newcombe_difference", "percentile", "wilson_interval"]

#: The standard normal quantile for a two-sided 95% interval.
Z_95 = 1.959963984540054


def wilson_interval(successes: int, n: int, z: float = Z_95) -> tuple[float, float]:
    """The Wilson score interval of ``successes / n``; (0, 1) when n is 0 (nothing is known)."""
    if n < 0 or not 0 <= successes <= n:
        raise ValueError(f"need 0 <= successes <= n, got {successes}/{n}")
    if n == 0:
        return 0.0, 1.0
    p = successes / n
    z2 = z * z
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = z / (1 + z2 / n) * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n))
    # Clamp the rounding error at the ends (p = 0 or 1 gives exactly 0 or 1 mathematically).
    return max(0.0, centre - half), min(1.0, centre + half)


@dataclass(frozen=True)
class DifferenceInterval:
    """``difference = p_a - p_b`` with its confidence interval [low, high]."""

    difference: float
    low: float
    high: float
    method: str = "Newcombe hybrid score interval (method 10), 95%"


def newcombe_difference(successes_a: int, n_a: int, successes_b: int, n_b: int,
                        z: float = Z_95) -> DifferenceInterval:
    """Newcombe's interval for ``p_a - p_b``; both samples must be non-empty."""
    if n_a == 0 or n_b == 0:
        raise ValueError("a difference of proportions needs both samples")
    p_a, p_b = successes_a / n_a, successes_b / n_b
    low_a, high_a = wilson_interval(successes_a, n_a, z)
    low_b, high_b = wilson_interval(successes_b, n_b, z)
    d = p_a - p_b
    low = d - math.sqrt((p_a - low_a) ** 2 + (high_b - p_b) ** 2)
    high = d + math.sqrt((high_a - p_a) ** 2 + (p_b - low_b) ** 2)
    return DifferenceInterval(d, max(-1.0, low), min(1.0, high))


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0..100) of non-empty ``values``, linearly interpolated."""
    if not values:
        raise ValueError("percentile of no values")
    if not 0 <= q <= 100:
        raise ValueError(f"q must be within 0..100, got {q}")
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100
    below = math.floor(position)
    above = min(below + 1, len(ordered) - 1)
    return ordered[below] + (ordered[above] - ordered[below]) * (position - below)
