"""The checks every row of a feature store passes, whoever made it: ``var-bench build`` (from raw
``.npy`` trees) and ``var-bench import-h5`` (from an HDF5 export) both call :func:`check_row`, and
both bound sizes with the same limits before allocating anything.

Bounds (the benchmarks' known counts, with room): a video has at most :data:`MAX_SNIPPETS`
snippets (UCF-Crime's longest video is ~13 h at 30 fps = ~90 000 16-frame snippets, far
fewer in practice) and at most :data:`MAX_CROPS` crops (upstream I3D has 10, or 5); a feature
size D is the stream's declared dimension, at most :data:`MAX_DIM`.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from var_bench.errors import InputError
from var_bench.features.align import MAX_LENGTH_GAP, parse_crop_policy
from var_bench.features.manifest import DTYPES

#: Snippets per video at most (bounds T before an array of T rows is allocated).
MAX_SNIPPETS = 100_000
#: Crops per video at most (bounds the crop index of a file name and the C of a [T, C, D] file).
MAX_CROPS = 64
#: Feature dimension at most (I3D 1024/2048, VGGish 128).
MAX_DIM = 8192
_LABELS = "snippet_labels"


def check_count(value, what: str, low: int, high: int) -> int:
    """``value`` as an int in [low, high] (bools, floats and strings refused), else InputError."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise InputError(f"{what}: expected an integer in [{low}, {high}], got {value!r}")
    if not low <= int(value) <= high:
        raise InputError(f"{what}: expected an integer in [{low}, {high}], got {int(value)}")
    return int(value)


#: Frames per snippet at most (a synthetic marker's ``snippet_frames``).
MAX_SNIPPET_FRAMES = 10_000


def check_marker(marker: dict, path) -> None:
    """A synthetic tree's marker: ``snippet_frames`` an integer in [1, MAX_SNIPPET_FRAMES];
    every text field one short line of plain text (it is copied into the features card)."""
    if "snippet_frames" in marker:
        check_count(marker["snippet_frames"], f"{path}: snippet_frames", 1, MAX_SNIPPET_FRAMES)
    for k, v in marker.items():
        if isinstance(v, str) and (len(v) > 200 or any(c in v for c in "<>[]()`\n\r|*#")):
            raise InputError(f"{path}: {k}: expected a short plain-text value, got {v[:60]!r}")


def check_store_layout(
    streams, dims, dtype, crops_mode, num_crops, what: str, stream_crops=None
) -> None:
    """The declared layout of a store (a manifest's fields), before any row is read:
    ``crops_mode`` a crop policy (one mode, or ``split=mode,...``), ``stream_crops`` stream -> C
    of the ``[T, C, D]`` streams of its ``all`` splits."""
    if (
        not isinstance(streams, list)
        or not streams
        or not all(isinstance(s, str) and s.isidentifier() for s in streams)
    ):
        raise InputError(f"{what}: expected streams as a list of names, got {streams!r}")
    if not isinstance(dims, dict) or set(dims) != set(streams):
        raise InputError(f"{what}: expected dims for streams {', '.join(streams)}, got {dims!r}")
    for s in streams:
        check_count(dims[s], f"{what}: dims[{s!r}]", 1, MAX_DIM)
    if dtype not in DTYPES:
        raise InputError(f"{what}: expected dtype one of {', '.join(DTYPES)}, got {dtype!r}")
    try:
        policy = parse_crop_policy(str(crops_mode)) if isinstance(crops_mode, str) else None
    except InputError:
        policy = None
    if policy is None:
        raise InputError(
            f"{what}: expected crops_mode mean, center, all, a crop index or "
            f"SPLIT=MODE,..., got {crops_mode!r}"
        )
    if "all" in policy.values():
        check_count(num_crops, f"{what}: num_crops", 1, MAX_CROPS)
    if stream_crops is not None:
        if not isinstance(stream_crops, dict) or not set(stream_crops) <= set(streams):
            raise InputError(
                f"{what}: expected stream_crops as stream -> C for streams among "
                f"{', '.join(streams)}, got {stream_crops!r}"
            )
        for s, c in stream_crops.items():
            check_count(c, f"{what}: stream_crops[{s!r}]", 2, MAX_CROPS)


def expected_shape(
    stream: str,
    dims: Mapping[str, int],
    crops_all: int | Mapping[str, int] | None,
    T: int,
    audio: bool = False,
) -> tuple[int, ...]:
    """The stored shape of one stream: ``[T, D]``, or ``[T, C, D]`` for visual streams of a
    ``--crops all`` split. ``crops_all``: C for every visual stream, or stream -> C (streams
    absent from the mapping are ``[T, D]``, see :func:`var_bench.features.store.stored_crops`)."""
    if isinstance(crops_all, Mapping):
        c = crops_all.get(stream)
        return (T, c, dims[stream]) if c else (T, dims[stream])
    if crops_all is not None and not audio:
        return (T, crops_all, dims[stream])
    return (T, dims[stream])


def check_row(
    row: Mapping,
    dims: Mapping[str, int],
    crops_all: int | Mapping[str, int] | None,
    audio_streams: frozenset = frozenset({"audio"}),
    *,
    finite: bool = True,
    what: str = "",
) -> None:
    """One store row: every stream ``[T, D]`` (or ``[T, C, D]``) with T = ``num_snippets`` in
    [1, MAX_SNIPPETS]; ``<stream>_len`` (original T) in [T, T + MAX_LENGTH_GAP];
    ``video_label`` 0 or 1; ``snippet_labels`` None or T values in {0, 1}; values finite
    (``finite``; the build checks them earlier with the file names). InputError otherwise."""
    vid = row.get("video_id")
    where = what or f"video {vid!r}"
    T = check_count(row.get("num_snippets"), f"{where}: num_snippets", 1, MAX_SNIPPETS)
    for s in dims:
        x = row.get(s)
        if not isinstance(x, np.ndarray):
            raise InputError(f"{where}: expected an array for stream {s!r}, got {type(x).__name__}")
        want = expected_shape(s, dims, crops_all, T, s in audio_streams)
        if tuple(x.shape) != want:
            raise InputError(
                f"{where}: {s} expected shape {list(want)} (T = num_snippets), got {list(x.shape)}"
            )
        if finite and not np.isfinite(x).all():
            bad = int(x.size - np.count_nonzero(np.isfinite(x)))
            raise InputError(f"{where}: {s} expected finite values, found {bad} NaN/Inf")
        check_count(row.get(f"{s}_len"), f"{where}: {s}_len", T, T + MAX_LENGTH_GAP)
    check_count(row.get("video_label"), f"{where}: video_label", 0, 1)
    labels = row.get(_LABELS)
    if labels is not None:
        labels = np.asarray(labels)
        if labels.shape != (T,):
            raise InputError(
                f"{where}: snippet_labels expected {T} values (T), got shape {list(labels.shape)}"
            )
        # (labels == 0) | (labels == 1), not np.isin: a tenth of the time (once per video)
        if labels.size and not ((labels == 0) | (labels == 1)).all():
            raise InputError(
                f"{where}: snippet_labels expected values 0 or 1, got "
                f"{sorted(set(np.unique(labels).tolist()) - {0, 1})[:5]}"
            )
