"""Resource bounds: what one input may make the toolkit allocate or do, decided before work starts.

Each bound has a default, an environment variable that raises (or lowers) it, and one refusal
line naming both (:func:`refuse`). ``docs/security.md`` lists them all (a test checks that every
bound here is there).

>>> bound("sweep_seeds")
1000
>>> str(refuse("sweep_seeds", "grid seeds", 10**12)).split(":")[0]
'grid seeds'
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from var_bench.errors import InputError


@dataclass(frozen=True)
class Bound:
    """One bound: ``name``, its ``default``, the environment variable ``env`` that sets it, and
    ``what`` it bounds (in words, with the unit)."""

    name: str
    default: int
    env: str
    what: str


BOUNDS: dict[str, Bound] = {
    b.name: b
    for b in (
        Bound(
            "frame_pixels",
            1 << 20,
            "VAR_BENCH_MAX_FRAME_PIXELS",
            "decoded pixels per frame after the recipe's resize (H' x W')",
        ),
        Bound(
            "frame_repeat",
            16,
            "VAR_BENCH_MAX_FRAME_REPEAT",
            "frame-rate up-conversion factor (recipe fps / stream fps)",
        ),
        Bound(
            "video_frames",
            2_000_000,
            "VAR_BENCH_MAX_VIDEO_FRAMES",
            "frames per video after frame-rate conversion (container duration x recipe fps)",
        ),
        Bound(
            "run_snippets",
            10_000_000,
            "VAR_BENCH_MAX_RUN_SNIPPETS",
            "snippets of one extract run (the videos to do: container duration x recipe fps "
            "/ snippet frames, summed)",
        ),
        Bound(
            "sweep_trials",
            10_000,
            "VAR_BENCH_MAX_TRIALS",
            "trials of a sweep grid (the product of the grid's value counts, plus listed trials)",
        ),
        Bound("sweep_seeds", 1000, "VAR_BENCH_MAX_SEEDS", "seeds per sweep trial"),
        Bound(
            "index_videos",
            1_000_000,
            "VAR_BENCH_MAX_INDEX_VIDEOS",
            "videos of a search index (index.json)",
        ),
        Bound(
            "index_windows",
            100_000_000,
            "VAR_BENCH_MAX_INDEX_WINDOWS",
            "snippet windows of a search index (index.json)",
        ),
        Bound(
            "readback_bytes",
            1 << 30,
            "VAR_BENCH_MAX_FILE_BYTES",
            "bytes of a JSON / YAML / text file the toolkit reads back (index.json, "
            "extraction.json, manifests, layouts, grids, records, list files)",
        ),
        Bound(
            "list_line",
            4096,
            "VAR_BENCH_MAX_LIST_LINE",
            "characters of one path in a --list file",
        ),
    )
}


def bound(name: str) -> int:
    """The bound's value: its environment variable when set (a positive integer), else the
    default. InputError when the variable is set to something else."""
    b = BOUNDS[name]
    raw = os.environ.get(b.env)
    if raw is None or raw.strip() == "":
        return b.default
    try:
        value = int(raw.strip().replace("_", ""))
    except ValueError:
        value = 0
    if value < 1:
        raise InputError(f"{b.env}: expected a positive integer ({b.what}), got {raw!r}")
    return value


def refuse(name: str, subject: str, got: object) -> InputError:
    """The one refusal line of bound ``name``: ``subject`` (what is refused) and what it would
    take (``got``)."""
    b = BOUNDS[name]
    return InputError(
        f"{subject}: expected {b.what} <= {bound(name)}, got {got} (a bound; raise it "
        f"with {b.env}=N)"
    )


def check(name: str, subject: str, value: int | float) -> None:
    """Refuse (:func:`refuse`) when ``value`` exceeds the bound ``name``."""
    if value > bound(name):
        raise refuse(name, subject, value)
