"""Statistics over seeds: mean, sample standard deviation and a 95 % Student-t interval (clipped
to the metric's range: a recall never leaves [0, 100]), and how a published number sits against
them. Pure functions on plain floats.

Fewer than :data:`MIN_SEEDS` seeds earn a warning (:func:`seed_warning`): with two seeds the
interval rests on one degree of freedom (t = 12.7), with one there is none."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

#: Two-sided 95 % Student-t quantiles t_{0.975, df} for df = 1..30 (beyond: the normal 1.960).
_T975 = (
    12.706,
    4.303,
    3.182,
    2.776,
    2.571,
    2.447,
    2.365,
    2.306,
    2.262,
    2.228,
    2.201,
    2.179,
    2.160,
    2.145,
    2.131,
    2.120,
    2.110,
    2.101,
    2.093,
    2.086,
    2.080,
    2.074,
    2.069,
    2.064,
    2.060,
    2.056,
    2.052,
    2.048,
    2.045,
    2.042,
)


#: Seeds below which a reproduction's intervals are flagged as unreliable.
MIN_SEEDS = 3

#: A metric's range ``(low, high)``; None on a side = unbounded.
Bounds = tuple[float | None, float | None]


def seed_warning(n: int) -> str | None:
    """One line when ``n`` seeds are too few for a trustworthy interval, else None."""
    if n >= MIN_SEEDS:
        return None
    if n == 1:
        return (
            f"one seed: no interval and no spread (use --seeds {MIN_SEEDS} or more before "
            f"comparing with the paper)"
        )
    return (
        f"{n} seeds: the 95% interval rests on {n - 1} degree(s) of freedom (t = "
        f"{t_quantile_975(n - 1):.1f}) and is barely informative; use --seeds {MIN_SEEDS} or more"
    )


def clip_interval(ci: tuple[float, float], bounds: Bounds | None) -> tuple[float, float]:
    """``ci`` clipped to ``bounds`` (a side None: left as is)."""
    if bounds is None:
        return ci
    lo, hi = ci
    if bounds[0] is not None:
        lo, hi = max(lo, bounds[0]), max(hi, bounds[0])
    if bounds[1] is not None:
        lo, hi = min(lo, bounds[1]), min(hi, bounds[1])
    return lo, hi


def t_quantile_975(df: int) -> float:
    """``t_{0.975, df}`` (table for df <= 30, 1.960 beyond)."""
    if df < 1:
        raise ValueError(f"degrees of freedom must be >= 1, got {df}")
    return _T975[df - 1] if df <= len(_T975) else 1.960


@dataclass(frozen=True)
class SeedStats:
    """``mean``; ``std`` = sample standard deviation (ddof 1; 0 for one seed); ``ci`` = the 95 %
    interval of the mean, ``mean -+ t_{0.975, n-1} std / sqrt(n)`` clipped to the metric's range
    (None for one seed: no spread to estimate); ``n`` seeds; ``values`` per seed."""

    mean: float
    std: float
    ci: tuple[float, float] | None
    n: int
    values: tuple[float, ...]


def seed_stats(values: Sequence[float], bounds: Bounds | None = None) -> SeedStats:
    """:class:`SeedStats` of the per-seed ``values`` (at least one); the interval is clipped to
    ``bounds`` (e.g. ``(0, 100)`` for a recall in percent).

    Example:
        >>> seed_stats([1.0, 2.0, 9.0], bounds=(0.0, 100.0)).ci[0]
        0.0
    """
    xs = tuple(float(v) for v in values)
    n = len(xs)
    if n == 0:
        raise ValueError("expected at least one seed's value, got none")
    mean = sum(xs) / n
    if n == 1:
        return SeedStats(mean, 0.0, None, 1, xs)
    std = math.sqrt(sum((x - mean) ** 2 for x in xs) / (n - 1))
    half = t_quantile_975(n - 1) * std / math.sqrt(n)
    return SeedStats(mean, std, clip_interval((mean - half, mean + half), bounds), n, xs)


@dataclass(frozen=True)
class Comparison:
    """A metric over seeds beside the published value: ``difference = mean - published``;
    ``inside``: the published value lies in the 95 % interval (None when either is missing, or
    when ``withheld`` says why the test means nothing: synthetic features, deviations)."""

    stats: SeedStats
    published: float | None
    difference: float | None
    inside: bool | None
    withheld: str | None = None

    def to_json(self) -> dict:
        s = self.stats
        return {
            "mean": s.mean,
            "std": s.std,
            "ci": list(s.ci) if s.ci else None,
            "published": self.published,
            "difference": self.difference,
            "inside": self.inside,
            "inside_withheld": self.withheld,
            "values": list(s.values),
        }


def compare(
    values: Sequence[float],
    published: float | None,
    bounds: Bounds | None = None,
    withhold: str | None = None,
) -> Comparison:
    """:class:`Comparison` of per-seed ``values`` with a ``published`` number (or None); the
    interval clipped to ``bounds``; ``withhold``: the reason not to say whether the published
    value is inside (the run is not the paper's), None to say it."""
    s = seed_stats(values, bounds)
    if published is None:
        return Comparison(s, None, None, None)
    if withhold:
        return Comparison(s, float(published), s.mean - float(published), None, withhold)
    inside = None if s.ci is None else bool(s.ci[0] <= published <= s.ci[1])
    return Comparison(s, float(published), s.mean - float(published), inside)
