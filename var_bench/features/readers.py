"""Read and check one video's raw feature files (``.npy``, never unpickled).

Headers are read with numpy's own ``.npy`` header readers (:mod:`numpy.lib.format`), so shapes
and dtypes are checked before any data is read; the data is then memory-mapped with that header
(``np.memmap``, what ``np.load(mmap_mode="r")`` returns, without parsing the header twice), so a
trim or a crop reads only the rows and files it uses and only the output is allocated. Every
error names the video, the file and what was expected versus found.
"""

from __future__ import annotations

import math
import os
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from var_bench.errors import InputError
from var_bench.features.streamindex import StreamIndex
from var_bench.features.validators import MAX_CROPS, MAX_SNIPPETS

#: numpy's header reader per ``.npy`` format version (3.0, utf-8 field names, holds structured
#: arrays only, which are refused anyway).
_HEADER_READERS = {
    (1, 0): np.lib.format.read_array_header_1_0,
    (2, 0): np.lib.format.read_array_header_2_0,
}
#: One header parse at a time: numpy parses the header dict with ``ast.literal_eval``, and on
#: CPython 3.11 before 3.11.8 two threads building ASTs at once (the build reads videos in several
#: threads) can fail with "SystemError: AST constructor recursion depth mismatch": the AST
#: constructor's depth counter was shared and the GIL can be released by a garbage collection
#: in the middle (python/cpython#106905). A parse takes microseconds; the data reads stay parallel.
_HEADER_PARSE = threading.Lock()


@dataclass(frozen=True)
class NpyHeader:
    """Shape, dtype and data offset of one ``.npy`` file, and its size in bytes."""

    path: Path
    shape: tuple[int, ...]
    dtype: np.dtype
    fortran_order: bool
    offset: int
    size: int
    #: The raw bytes of the first rows (for the fingerprint), when asked for.
    head: bytes | None = None


def read_header(path: Path, video_id: str, stream: str, head_rows: int = 0) -> NpyHeader:
    """Parse the header of ``path``; InputError if it is not a numeric ``.npy`` array.
    ``head_rows``: also read the raw bytes of the first rows, as stored (for the fingerprint)."""
    path = Path(path)
    try:
        with open(path, "rb") as f:
            version = np.lib.format.read_magic(f)
            if version not in _HEADER_READERS:
                raise ValueError(f"format version {version[0]}.{version[1]}")
            with _HEADER_PARSE:
                shape, fortran, dtype = _HEADER_READERS[version](f)
            offset, size = f.tell(), os.fstat(f.fileno()).st_size
            head = None
            if head_rows:
                per_row = dtype.itemsize * math.prod(shape[1:])
                head = f.read(min(head_rows, shape[0] if shape else 0) * per_row)
    except (OSError, ValueError, EOFError) as e:
        raise InputError(
            f"{stream} features of video {video_id}: expected a .npy array, "
            f"{path} is not one ({_reason(e)})"
        ) from None
    if dtype.hasobject or dtype.kind not in "fiu":
        refused = " (pickled objects are refused)" if dtype.hasobject else ""
        raise InputError(
            f"{stream} features of video {video_id}: expected a float array, "
            f"{path} holds dtype {dtype}{refused}"
        )
    return NpyHeader(path, tuple(map(int, shape)), dtype, bool(fortran), offset, size, head)


def _reason(e: BaseException) -> str:
    return " ".join(str(e).split())[:120] or type(e).__name__


def _fail(stream: str, video_id: str, path: Path, expected: str, found: str) -> InputError:
    return InputError(
        f"{stream} features of video {video_id}: expected {expected}, {path} has {found}"
    )


def video_headers(index: StreamIndex, video_id: str, head_rows: int = 0) -> list[NpyHeader]:
    """Headers of one video's files in crop order, checked: ndim, D (the stream's, found in its
    first file), T >= 1, equal T (and C for ``[T, C, D]`` files, which must match
    ``index.num_crops`` once it is known). ``head_rows``: see :func:`read_header`."""
    lay = index.layout
    dim = index.dim if index.dim is not None else lay.dim
    heads = [read_header(p, video_id, index.stream, head_rows) for p in index.files[video_id]]
    ndim = 3 if lay.video_crops else 2
    shape_doc = "[T, C, D]" if lay.video_crops else "[T, D]"
    for h in heads:
        if len(h.shape) != ndim:
            raise _fail(
                index.stream,
                video_id,
                h.path,
                f"a {ndim}-D array {shape_doc} with D = {dim}",
                f"shape {list(h.shape)}",
            )
        if dim is not None and h.shape[-1] != dim:
            raise _fail(
                index.stream,
                video_id,
                h.path,
                f"D = {dim} ({lay.name}, as the stream's first file)",
                f"shape {list(h.shape)}",
            )
        if h.shape[0] < 1:
            raise _fail(
                index.stream, video_id, h.path, "T >= 1 snippets", f"shape {list(h.shape)} (empty)"
            )
        if h.shape[0] > MAX_SNIPPETS:  # before a [T, D] buffer is allocated
            raise _fail(
                index.stream,
                video_id,
                h.path,
                f"T <= {MAX_SNIPPETS} snippets",
                f"shape {list(h.shape)}",
            )
        if lay.video_crops:
            if not 1 <= h.shape[1] <= MAX_CROPS:
                raise _fail(
                    index.stream,
                    video_id,
                    h.path,
                    f"1 <= C <= {MAX_CROPS} crops",
                    f"shape {list(h.shape)}",
                )
            if index.num_crops is not None and h.shape[1] != index.num_crops:
                raise _fail(
                    index.stream,
                    video_id,
                    h.path,
                    f"C = {index.num_crops} crops (as earlier videos)",
                    f"shape {list(h.shape)}",
                )
    lengths = {h.shape[0] for h in heads}
    if len(lengths) > 1:
        found = ", ".join(f"crop {k}: T = {h.shape[0]}" for k, h in enumerate(heads))
        raise InputError(
            f"{index.stream} features of video {video_id}: expected the same T in "
            f"every crop file, found {found} (in {heads[0].path.parent})"
        )
    return heads


def _load(h: NpyHeader, video_id: str, stream: str) -> np.ndarray:
    """The array of the file ``h``, memory-mapped read-only; InputError naming the file when it
    is shorter than its header says."""
    need = h.offset + math.prod(h.shape) * h.dtype.itemsize
    if h.size < need:
        raise _fail(
            stream,
            video_id,
            h.path,
            f"{need} bytes for shape {list(h.shape)}",
            f"{h.size} (truncated)",
        )
    try:
        # a str: numpy resolves a Path, one lstat per folder level
        return np.memmap(
            str(h.path), h.dtype, "r", h.offset, h.shape, "F" if h.fortran_order else "C"
        )
    except (OSError, ValueError) as e:
        raise InputError(
            f"{stream} features of video {video_id}: expected a .npy array, "
            f"{h.path} is not one ({_reason(e)})"
        ) from None


def check_finite(x: np.ndarray, video_id: str, stream: str, where: str) -> None:
    """InputError when ``x`` (one video's array) holds NaN or Inf (``where``: the files it was
    computed from). ``np.isfinite(x).all()``, exact where a sum would overflow on large finite
    values."""
    if x.dtype.kind != "f" or np.isfinite(x).all():
        return
    bad = int(x.size - np.count_nonzero(np.isfinite(x)))
    raise InputError(
        f"{stream} features of video {video_id}: expected finite values, found "
        f"{bad} NaN/Inf in {where}"
    )


def read_stream(
    index: StreamIndex, video_id: str, heads: list[NpyHeader], T: int, crops: str
) -> np.ndarray:
    """One stream of one video, trimmed to ``T`` snippets, crops reduced per ``crops``
    (see :mod:`.align`: mean | center | all | a crop index k): a new float32 C-contiguous array
    ``[T, D]`` (``[T, C, D]`` for ``all``).

    The mean of per-crop files is ``(x_0 + x_1 + ... + x_{C-1}) / C``, added in crop order into a
    float32 ``[T, D]`` output (the files are mapped, not copied); for center / k only that crop's
    file is read.
    """
    from var_bench.features.align import crop_index, reduce_crops

    lay, stream = index.layout, index.stream

    def rows(h: NpyHeader) -> np.ndarray:
        return _load(h, video_id, stream)[:T]

    if lay.video_crops:  # one [T, C, D] file
        return reduce_crops(rows(heads[0]), crops)
    if not lay.per_crop:
        return np.array(rows(heads[0]), dtype=np.float32, order="C")
    if crops == "all":
        return np.stack([rows(h) for h in heads], axis=1, dtype=np.float32)
    k = crop_index(crops, len(heads), video_id, stream)
    if k is not None:
        return np.array(rows(heads[k]), dtype=np.float32, order="C")
    out = np.array(rows(heads[0]), dtype=np.float32, order="C")
    for h in heads[1:]:
        np.add(out, rows(h), out=out, casting="unsafe")
    out /= np.float32(len(heads))
    return out
