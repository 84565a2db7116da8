"""Intervals on a proportion from its count alone: what a published R@K (an aggregate over N
queries, with no per-query ranks) still supports.

R@K = 100 k / N for k of N queries. The Wilson score interval at confidence ``level`` with
z = Phi^-1(1 - (1 - level) / 2) and p = k / N is

    centre = (p + z^2 / 2N) / (1 + z^2 / N)
    half   = z / (1 + z^2 / N) * sqrt(p (1 - p) / N + z^2 / 4N^2)

It stays inside [0, 1] and keeps close to its nominal coverage for small k (Brown, Cai and
DasGupta 2001), where the normal (Wald) interval collapses: R@1 of 9.0 % on 290 queries is 26
queries, and its 95 % Wilson interval is about 6.2 % to 12.8 %.
"""

from __future__ import annotations

import math
from statistics import NormalDist

from var_bench.errors import InputError


def z_value(level: float) -> float:
    """Two-sided standard normal quantile for confidence ``level`` (0.95 -> 1.96)."""
    if not 0.0 < float(level) < 1.0:
        raise InputError(f"level: expected a number in (0, 1), got {level!r}")
    return NormalDist().inv_cdf(1.0 - (1.0 - float(level)) / 2.0)


def wilson_interval(k: float, n: int, level: float = 0.95) -> tuple[float, float]:
    """Wilson score interval of the proportion ``k / n`` (as fractions in [0, 1]).

    ``k`` may be fractional (a count recovered from a rounded percentage, or expected credit of
    tied queries); it must lie in [0, n].

    >>> lo, hi = wilson_interval(26, 290)
    >>> round(100 * lo, 1), round(100 * hi, 1)
    (6.2, 12.8)
    """
    if n <= 0:
        raise InputError(f"wilson interval: expected n >= 1 queries, got {n}")
    if not 0.0 <= float(k) <= n:
        raise InputError(f"wilson interval: expected a count in [0, {n}], got {k}")
    z = z_value(level)
    p = float(k) / n
    denom = 1.0 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z / denom * math.sqrt(p * (1.0 - p) / n + z * z / (4.0 * n * n))
    return max(0.0, centre - half), min(1.0, centre + half)


def percent_interval(percent: float, n: int, level: float = 0.95) -> tuple[float, float]:
    """Wilson interval, in percent, of a recall given in percent over ``n`` queries."""
    k = min(float(n), max(0.0, float(percent) * n / 100.0))
    lo, hi = wilson_interval(k, n, level)
    return 100.0 * lo, 100.0 * hi
