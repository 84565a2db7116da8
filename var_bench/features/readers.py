"""Read and check one video's raw feature files (``.npy``, never unpickled).

Headers are parsed with numpy's own ``.npy`` header readers, so shapes are checked before any
data is read; float32 C-order files (the upstream case) are then read with one ``readinto`` into
a reused buffer (no page-fault cost of a memory map, no temporary allocation); other dtypes and
Fortran order fall back to ``np.load(mmap_mode="r", allow_pickle=False)``. Every error names the
video, the file and what was expected versus found.
"""

from __future__ import annotations

import contextlib
import functools
import math
import os
import re
import struct
import threading
import weakref
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from var_bench.errors import InputError
from var_bench.features.streamindex import StreamIndex
from var_bench.features.validators import MAX_CROPS, MAX_SNIPPETS

_F32 = np.dtype("<f4")
#: The header ``np.save`` writes (format 1.0/2.0), e.g. ``{'descr': '<f4', 'fortran_order': False,
#: 'shape': (450, 1024), }``: parsed with this pattern; anything else goes to numpy's own reader
#: (which evaluates the dict literal with ``ast``: a tenth of a raw file's read time at I3D sizes).
_CANONICAL = re.compile(rb"\{'descr': '([<>|=]?[a-z]\d{1,2})', 'fortran_order': (True|False), "
                        rb"'shape': \(((?:\d+, )*\d*,?)\), \} *\n")
_MAGIC = b"\x93NUMPY"


#: Bytes read at once from the start of a file: the header and, for I3D sizes, the rows the
#: fingerprint hashes (one system call for both).
_PROBE = 20480


def _fast_header(lead: bytes) -> tuple[tuple[int, ...], bool, np.dtype, int] | None:
    """(shape, fortran order, dtype, data offset) of a canonical header at the start of ``lead``
    (the file's first bytes); None for any other header, which numpy's readers then parse."""
    if len(lead) >= 10 and lead[:6] == _MAGIC and lead[6] in (1, 2):
        if lead[6] == 1:
            start, size = 10, struct.unpack("<H", lead[8:10])[0]
        else:
            start, size = 12, struct.unpack("<I", lead[8:12])[0]
        if len(lead) >= start + size:
            return _parse_canonical(lead[:start + size], start)
    return None


@functools.lru_cache(maxsize=4096)
def _parse_canonical(header: bytes, start: int) -> tuple[tuple[int, ...], bool, np.dtype, int] | None:
    """:func:`_fast_header` of the header bytes, cached: the crop files of a video, and most
    videos of a feature set, share one header (the reader threads hold the GIL here)."""
    m = _CANONICAL.fullmatch(header, start)
    if m is None:
        return None
    shape = tuple(int(x) for x in m.group(3).split(b",") if x.strip())
    return shape, m.group(2) == b"True", np.dtype(m.group(1).decode()), len(header)


@dataclass(frozen=True)
class NpyHeader:
    """Shape, dtype and data offset of one ``.npy`` file."""

    path: Path
    shape: tuple[int, ...]
    dtype: np.dtype
    fortran_order: bool
    offset: int
    #: The raw bytes of the first rows (for the fingerprint), when asked for.
    head: bytes | None = None


class OpenFiles:
    """Files left open by :func:`read_header` for the reads of the same video's data, so each
    file is opened once (an open and a close per file fewer: in the reader threads every system
    call is a point where they hand the GIL over). A context manager; :meth:`close` closes every
    file it holds (it can be used again after)."""

    def __init__(self) -> None:
        self._fds: dict[Path, int] = {}

    def keep(self, path: Path, fd: int) -> None:
        old = self._fds.pop(path, None)
        if old is not None:
            os.close(old)
        self._fds[path] = fd

    def get(self, path: Path) -> int | None:
        return self._fds.get(path)

    def open(self, path: Path) -> int:
        """The fd held for ``path``, else one opened now (and held until :meth:`close`)."""
        fd = self._fds.get(path)
        if fd is None:
            fd = self._fds[path] = os.open(path, os.O_RDONLY)
        return fd

    def close(self) -> None:
        fds, self._fds = list(self._fds.values()), {}
        for fd in fds:
            os.close(fd)

    def __enter__(self) -> "OpenFiles":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _held(files: OpenFiles | None):
    """``with _held(files) as fs``: the caller's :class:`OpenFiles` (left open), or one of this
    call's own (closed on exit)."""
    return contextlib.nullcontext(files) if files is not None else OpenFiles()


def read_header(path: Path, video_id: str, stream: str, head_rows: int = 0,
                files: OpenFiles | None = None) -> NpyHeader:
    """Parse the header of ``path``; InputError if it is not a numeric ``.npy`` array.
    ``head_rows``: also read the raw bytes of the first rows (same open; for the fingerprint).
    ``files``: keep the file open there (once the header is good) for the data reads."""
    head = None
    kept = False
    try:
        fd = os.open(path, os.O_RDONLY)
        try:
            lead = os.pread(fd, _PROBE, 0)
            fast = _fast_header(lead)
            if fast is not None:
                shape, fortran, dtype, offset = fast
            else:
                shape, fortran, dtype, offset = _numpy_header(path)
            if head_rows:
                per_row = np.dtype(dtype).itemsize * math.prod(shape[1:])
                n = min(head_rows, int(shape[0]) if shape else 0) * per_row
                head = lead[offset:offset + n] if offset + n <= len(lead) else os.pread(fd, n, offset)
            dtype = np.dtype(dtype)
            if dtype.hasobject or dtype.kind not in "fiu":
                refused = " (pickled objects are refused)" if dtype.hasobject else ""
                raise InputError(f"{stream} features of video {video_id}: expected a float array, "
                                 f"{path} holds dtype {dtype}{refused}")
            if files is not None:
                files.keep(path, fd)
                kept = True
        finally:
            if not kept:
                os.close(fd)
    except (OSError, ValueError, EOFError) as e:
        raise InputError(f"{stream} features of video {video_id}: expected a .npy array, "
                         f"{path} is not one ({_reason(e)})") from None
    return NpyHeader(path if isinstance(path, Path) else Path(path), tuple(map(int, shape)), dtype,
                     bool(fortran), offset, head)


def _numpy_header(path: Path) -> tuple[tuple[int, ...], bool, np.dtype, int]:
    """(shape, fortran order, dtype, data offset) parsed by numpy's own header readers."""
    fmt = np.lib.format
    with open(path, "rb") as f:
        version = fmt.read_magic(f)
        if version == (1, 0):
            shape, fortran, dtype = fmt.read_array_header_1_0(f)
        elif version == (2, 0):
            shape, fortran, dtype = fmt.read_array_header_2_0(f)
        else:  # 3.0 (utf-8 field names) is rare: let np.load parse it
            m = np.load(path, mmap_mode="r", allow_pickle=False)
            return m.shape, m.flags.f_contiguous and m.ndim > 1, m.dtype, int(m.offset)
        return shape, fortran, dtype, f.tell()


def _reason(e: BaseException) -> str:
    return " ".join(str(e).split())[:120] or type(e).__name__


def _fail(stream: str, video_id: str, path: Path, expected: str, found: str) -> InputError:
    return InputError(f"{stream} features of video {video_id}: expected {expected}, {path} has {found}")


def video_headers(index: StreamIndex, video_id: str, head_rows: int = 0,
                  files: OpenFiles | None = None) -> list[NpyHeader]:
    """Headers of one video's files in crop order, checked: ndim, D (the stream's, found in its
    first file), T >= 1, equal T (and C for ``[T, C, D]`` files, which must match
    ``index.num_crops`` once it is known). ``head_rows``, ``files``: see :func:`read_header`."""
    lay = index.layout
    dim = index.dim if index.dim is not None else lay.dim
    heads = [read_header(p, video_id, index.stream, head_rows, files) for p in index.files[video_id]]
    ndim = 3 if lay.video_crops else 2
    shape_doc = "[T, C, D]" if lay.video_crops else "[T, D]"
    for h in heads:
        if len(h.shape) != ndim:
            raise _fail(index.stream, video_id, h.path, f"a {ndim}-D array {shape_doc} with D = {dim}",
                        f"shape {list(h.shape)}")
        if dim is not None and h.shape[-1] != dim:
            raise _fail(index.stream, video_id, h.path,
                        f"D = {dim} ({lay.name}, as the stream's first file)",
                        f"shape {list(h.shape)}")
        if h.shape[0] < 1:
            raise _fail(index.stream, video_id, h.path, "T >= 1 snippets", f"shape {list(h.shape)} (empty)")
        if h.shape[0] > MAX_SNIPPETS:  # before a [T, D] buffer is allocated
            raise _fail(index.stream, video_id, h.path, f"T <= {MAX_SNIPPETS} snippets",
                        f"shape {list(h.shape)}")
        if lay.video_crops:
            if not 1 <= h.shape[1] <= MAX_CROPS:
                raise _fail(index.stream, video_id, h.path, f"1 <= C <= {MAX_CROPS} crops",
                            f"shape {list(h.shape)}")
            if index.num_crops is not None and h.shape[1] != index.num_crops:
                raise _fail(index.stream, video_id, h.path,
                            f"C = {index.num_crops} crops (as earlier videos)", f"shape {list(h.shape)}")
    lengths = {h.shape[0] for h in heads}
    if len(lengths) > 1:
        found = ", ".join(f"crop {k}: T = {h.shape[0]}" for k, h in enumerate(heads))
        raise InputError(f"{index.stream} features of video {video_id}: expected the same T in "
                         f"every crop file, found {found} (in {heads[0].path.parent})")
    return heads


#: Rows of a block of :func:`mean_into`: 1024 x 1024 float32 is 4 MiB, in the last-level cache
#: with the output's block; a UCF/XD video (T ~ 450) is one block, so one read per crop file.
#: (128-row blocks, in L2, were as fast alone but four times the system calls, each a point where
#: the reader threads hand the GIL over: measured 10% slower builds with two readers.)
_MEAN_ROWS = 1024


def _pread_full(fd: int, dst: memoryview, offset: int) -> int:
    """Bytes read into ``dst`` from ``offset`` (fewer only at the end of the file)."""
    got = 0
    while got < len(dst):  # one call reads at most ~2 GiB (Linux)
        n = os.preadv(fd, [dst[got:]], offset + got)
        if n == 0:
            break
        got += n
    return got


def _read_exact(fd: int, h: NpyHeader, dst: memoryview, start: int, video_id: str,
                stream: str) -> None:
    """``len(dst)`` bytes of the file ``h`` from byte ``start`` into ``dst``; InputError naming
    the file when it ends early."""
    got = _pread_full(fd, dst, start)
    if got != len(dst):
        size = h.offset + math.prod(h.shape) * h.dtype.itemsize
        raise _fail(stream, video_id, h.path, f"{size} bytes for shape {list(h.shape)}",
                    f"{start + got} (truncated)")


def read_into(h: NpyHeader, out: np.ndarray, video_id: str, stream: str, rows: int,
              files: OpenFiles | None = None) -> None:
    """Copy the first ``rows`` rows (axis 0) of the file into float32 ``out`` (C-contiguous,
    shape ``(rows, *h.shape[1:])``). ``files``: where the file may be open already."""
    if h.dtype == _F32 and not h.fortran_order:
        with _held(files) as fs:
            _read_exact(fs.open(h.path), h, memoryview(out[:rows].reshape(-1)).cast("B"),
                        h.offset, video_id, stream)
        return
    try:
        m = np.load(h.path, mmap_mode="r", allow_pickle=False)
        np.copyto(out, m[:rows], casting="unsafe")
    except (OSError, ValueError) as e:
        raise InputError(f"{stream} features of video {video_id}: expected a .npy array, "
                         f"{h.path} is not one ({_reason(e)})") from None


def mean_into(heads: list[NpyHeader], out: np.ndarray, block: np.ndarray, video_id: str,
              stream: str, files: OpenFiles | None = None) -> None:
    """``out`` ``[T, D]`` = the mean of the C per-crop float32 C-order files ``heads`` over their
    first T rows: ``(x_0 + x_1 + ... + x_{C-1}) / C`` in float32, added in crop order (the same
    values as summing whole files). ``block``: a float32 ``[R, D]`` scratch array; ``files``:
    where the files may be open already.

    Why in blocks of R rows: summed file by file, every add streams two T x D arrays through
    memory; block by block (crop 0's rows read straight into ``out``, crops 1..C-1 into
    ``block`` and added), both stay in cache (measured on one core: 0.65-0.75x the time of
    reading whole files into a buffer and adding them, as fast as ``np.load`` of the files)."""
    T, D = out.shape
    R = block.shape[0]
    row = D * 4
    flat = memoryview(block.reshape(-1)).cast("B")
    h = heads[0]
    with _held(files) as fs:
        try:
            fds = []
            for h in heads:
                fds.append(fs.open(h.path))
            for a in range(0, T, R):
                n = min(R, T - a)
                dst, src = out[a:a + n], block[:n]
                for k, (fd, h) in enumerate(zip(fds, heads)):
                    want = flat[:n * row] if k else memoryview(dst.reshape(-1)).cast("B")
                    _read_exact(fd, h, want, h.offset + a * row, video_id, stream)
                    if k:
                        np.add(dst, src, out=dst)
                np.divide(dst, np.float32(len(heads)), out=dst)
        except OSError as e:
            raise InputError(f"{stream} features of video {video_id}: expected readable .npy "
                             f"files, {h.path} is not ({_reason(e)})") from None


def in_page_cache(path: str | os.PathLike) -> bool | None:
    """Whether a block from the middle of ``path`` is in the page cache: one 4 KiB read with
    ``RWF_NOWAIT`` (Linux 4.14+), which fails rather than wait for the disk. None where the
    system cannot tell (no ``RWF_NOWAIT``, a file system that does not support it, an error)."""
    flag = getattr(os, "RWF_NOWAIT", None)
    if flag is None:
        return None
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return None
    try:
        middle = os.fstat(fd).st_size // 2 // 4096 * 4096
        return os.preadv(fd, [bytearray(4096)], middle, flag) > 0
    except BlockingIOError:  # EAGAIN: the block is on disk only
        return False
    except OSError:  # EOPNOTSUPP and the like
        return None
    finally:
        os.close(fd)


def check_finite(x: np.ndarray, video_id: str, stream: str, where: str) -> None:
    """InputError when ``x`` (one video's array) holds NaN or Inf (``where``: the files it was
    computed from). ``np.isfinite(x).all()``: its boolean temporary is a quarter of ``x``'s bytes
    and stays in cache (measured 4x faster than a float64 sum, the earlier shortcut)."""
    if x.dtype.kind != "f" or np.isfinite(x).all():
        return
    bad = int(x.size - np.count_nonzero(np.isfinite(x)))
    raise InputError(f"{stream} features of video {video_id}: expected finite values, found "
                     f"{bad} NaN/Inf in {where}")


class ArrayPool:
    """Output arrays handed back and reused: :meth:`take` gives a C-contiguous array of the asked
    shape and dtype, viewing a pooled flat buffer; :meth:`give` returns it once nothing uses it.

    Why: a build reads one new ``[T, D]`` array per video and stream; allocated fresh, every one
    costs page faults on first touch (on a VM whose freed memory goes back to the host, about
    2.8 s/GB: more than reading the crop files), pooled they cost nothing after the first row
    group. Buffers get 25% headroom so videos of other T reuse them. Thread-safe (reader
    threads take, the writer gives back); the pool holds what circulates (a row group and the
    videos read ahead), never more.
    """

    def __init__(self) -> None:
        self._free: dict[np.dtype, list[np.ndarray]] = {}
        # id -> buffer, weakly: a buffer lost to an error cannot make a later array with its id
        # look like the pool's
        self._owned: weakref.WeakValueDictionary = weakref.WeakValueDictionary()
        self._lock = threading.Lock()

    def take(self, shape: tuple[int, ...], dtype=np.float32) -> np.ndarray:
        dtype = np.dtype(dtype)
        n = math.prod(shape)
        with self._lock:
            free = self._free.setdefault(dtype, [])
            # the most recently given back first: its pages are likeliest still in cache
            i = next((i for i in range(len(free) - 1, -1, -1) if free[i].size >= n), None)
            buf = free.pop(i) if i is not None else None  # by position: == on arrays is elementwise
        if buf is None:
            buf = np.empty(n + n // 4, dtype=dtype)
            with self._lock:
                self._owned[id(buf)] = buf
        return buf[:n].reshape(shape)

    def give(self, x: np.ndarray) -> None:
        """Return ``x`` (an array :meth:`take` gave, or a view of one); others are ignored."""
        buf = x.base if x.base is not None else x
        with self._lock:
            if self._owned.get(id(buf)) is buf and buf.dtype in self._free and \
                    not any(b is buf for b in self._free[buf.dtype]):
                self._free[buf.dtype].append(buf)

    def lease(self) -> "Lease":
        """Scratch buffers (``get(shape)``) from this pool until :meth:`Lease.release`."""
        return Lease(self)


class Lease:
    """Scratch buffers borrowed from an :class:`ArrayPool`: :meth:`get` takes one (float32, the
    asked shape), :meth:`release` gives them all back."""

    def __init__(self, pool: ArrayPool) -> None:
        self.pool, self._taken = pool, []

    def get(self, shape: tuple[int, ...]) -> np.ndarray:
        x = self.pool.take(shape)
        self._taken.append(x)
        return x

    def release(self) -> None:
        for x in self._taken:
            self.pool.give(x)
        self._taken = []


def read_stream(index: StreamIndex, video_id: str, heads: list[NpyHeader], T: int, crops: str,
                scratch: Lease, alloc=None, files: OpenFiles | None = None) -> np.ndarray:
    """One stream of one video, trimmed to ``T`` snippets, crops reduced per ``crops``
    (see :mod:`.align`: mean | center | all | a crop index k): a float32 array ``[T, D]``
    (``[T, C, D]`` for ``all``) from ``alloc(shape)`` (default ``np.empty``; the build passes
    :meth:`ArrayPool.take`); ``files``: where the files may be open already (:class:`OpenFiles`).

    Per-crop float32 files are averaged block by block (:func:`mean_into`; memory: output + one
    block), other dtypes summed a file at a time; for center / k only that crop's file is read.
    """
    from var_bench.features.align import crop_index, reduce_crops

    alloc = alloc or (lambda shape: np.empty(shape, dtype=np.float32))
    lay, stream = index.layout, index.stream
    D = heads[0].shape[-1]
    if lay.per_crop:
        C = len(heads)
        if crops == "all":
            out = alloc((T, C, D))
            buf = scratch.get((T, D))
            for k, h in enumerate(heads):
                read_into(h, buf, video_id, stream, T, files)
                out[:, k, :] = buf
            return out
        out = alloc((T, D))
        k = crop_index(crops, C, video_id, stream)
        if k is None and C > 1 and all(h.dtype == _F32 and not h.fortran_order for h in heads):
            mean_into(heads, out, scratch.get((min(T, _MEAN_ROWS), D)), video_id, stream, files)
            return out
        read_into(heads[k if k is not None else 0], out, video_id, stream, T, files)
        if k is None and C > 1:
            buf = scratch.get((T, D))
            for h in heads[1:]:
                read_into(h, buf, video_id, stream, T, files)
                np.add(out, buf, out=out)
            out /= np.float32(C)
        return out
    h = heads[0]
    if lay.video_crops:
        buf = scratch.get((T, *h.shape[1:]))
        read_into(h, buf, video_id, stream, T, files)
        return reduce_crops(buf, crops, alloc(buf.shape if crops == "all" else (T, h.shape[-1])))
    out = alloc((T, D))
    read_into(h, out, video_id, stream, T, files)
    return out
