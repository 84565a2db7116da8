"""Videos two benchmarks share across their splits: the leakage a training split can carry into
another benchmark's test split when both are built on the same video collection.

Video ids are compared as built (``video_id`` of a split's video table, or of the split itself when
its rows are the videos), so two benchmarks over one collection (UCFCrime-AR and UCA both name
UCF-Crime videos by their file stems) meet in one id space.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from var_bench.benchmarks import BenchmarkSpec, get_benchmark
from var_bench.errors import InputError

PathLike = str | os.PathLike


@dataclass(frozen=True)
class SplitOverlap:
    """``shared``: the videos of ``a``'s split that are also in ``b``'s split (in ``a``'s order);
    ``n_a``, ``n_b``: videos in each split."""

    a: str
    split_a: str
    b: str
    split_b: str
    shared: tuple[str, ...]
    n_a: int
    n_b: int

    def line(self) -> str:
        """One line for logs and tables."""
        return (
            f"{len(self.shared)} of the {self.n_a} {self.a} {self.split_a} videos are in "
            f"{self.b} {self.split_b} ({self.n_b} videos)"
        )


def split_videos(
    spec: BenchmarkSpec, split: str, *, home: PathLike | None = None, mirror: str | None = None
) -> list[str]:
    """The distinct video ids of a built split, in order (its video table when it has one)."""
    from var_bench.data.prepare import load_table

    table = load_table(spec.name, split, home=home, mirror=mirror, videos=True)
    return list(dict.fromkeys(str(v) for v in table["video_id"]))


def split_overlap(
    a: str | BenchmarkSpec,
    split_a: str,
    b: str | BenchmarkSpec,
    split_b: str,
    *,
    home: PathLike | None = None,
    mirror: str | None = None,
) -> SplitOverlap:
    """The videos of ``a``'s ``split_a`` that also sit in ``b``'s ``split_b``.

    Args:
        a, b: benchmarks (names or specs) over the same video collection.
        split_a, split_b: ``train``, ``val``, ``test`` or several joined with ``+``.
        home, mirror: where the built datasets are (or are built from).

    Returns:
        The :class:`SplitOverlap`.

    Raises:
        InputError: the benchmarks are built on different video collections (their ids do not
            name the same videos).

    Example:
        >>> o = split_overlap("ucfcrime-ar", "test", "uca", "train")  # doctest: +SKIP
        >>> len(o.shared), o.n_a  # doctest: +SKIP
        (214, 290)
    """
    sa, sb = get_benchmark(a), get_benchmark(b)
    if sa.videos.name != sb.videos.name:
        raise InputError(
            f"overlap: expected two benchmarks over one video collection, got {sa.name} "
            f"({sa.videos.name}) and {sb.name} ({sb.videos.name})"
        )
    va = split_videos(sa, split_a, home=home, mirror=mirror)
    vb = set(split_videos(sb, split_b, home=home, mirror=mirror))
    return SplitOverlap(
        sa.name, split_a, sb.name, split_b, tuple(v for v in va if v in vb), len(va), len(vb)
    )
