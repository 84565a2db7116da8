"""Read and validate a submission: a score matrix S, from a file or from memory.

Layout (``docs/protocol.md``): S has one row per query of the benchmark's first direction (text
for ucfcrime-ar, audio for xdviolence-ar) and one column per test video, both in canonical order
(``var-bench ids``). ``t2v``/``a2v`` rank each row, ``v2t``/``v2a`` each column. A container
(``.npz``, HDF5, a ``.pt`` dict, a Python dict) holds either ONE matrix under any name, or one
matrix per direction under the direction names (each with one row per query of that direction),
plus optional id arrays ``<query modality>_ids`` and ``video_ids`` that bind the row and column
order: the matrices are then reordered to canonical order.

Every check runs before any large allocation: a ``.npy`` (or ``.npz`` member) is judged from its
header alone (dtype, dimensions, shape, then the byte count against the file), so a header that
claims a giant shape, or an object array that would need unpickling, is refused without reading
further. A ``.npy`` is then read block by block (:class:`~var_bench.matrix.NpyFileSource`), so a
memory-mapped matrix larger than RAM can be scored. Every refusal is one :class:`InputError` line
naming the input, what was expected and what arrived.
"""

from __future__ import annotations

import math
import os
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping, NamedTuple, Sequence

import numpy as np

from .benchmarks import BENCHMARKS, BenchmarkSpec, Direction, get_benchmark
from .errors import InputError
from .fsutil import sha256_lines
from .matrix import ArraySource, MatrixSource, NpyFileSource, as_source

#: What the reader accepts, for messages.
ACCEPTED_FORMATS = ".npy, .npz, .pt/.pth (torch.save), .h5/.hdf5"
_SUFFIXES = {".npy": "npy", ".npz": "npz", ".pt": "torch", ".pth": "torch", ".h5": "hdf5",
             ".hdf5": "hdf5"}
_FORMAT_NAMES = {"npy": "a .npy file", "npz": "a .npz archive", "torch": "a torch.save file",
                 "hdf5": "an HDF5 file"}
_NPY_MAGIC = b"\x93NUMPY"
_ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06")  # a zip with members / an empty zip
_HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"
_PICKLE_PROTOCOLS = (b"\x80\x02", b"\x80\x03", b"\x80\x04", b"\x80\x05")

#: Why float16 (and bfloat16) submissions get a warning.
LOW_PRECISION_WARNING = "ties are likely: ~20% of queries tie in float16"

#: Normalisation heuristic (see :func:`axis_mean_spread`): means along an axis count as "all
#: equal" when their range is at most EQUAL_SPREAD * std(S), and as "not equal" from
#: UNEQUAL_SPREAD * std(S) on. A raw N x N matrix has a range of about 5/sqrt(N) std(S) >= 0.08
#: for N <= 4096, far above both; softmax or z-scoring over an axis gives ~1e-7.
EQUAL_SPREAD = 1e-3
UNEQUAL_SPREAD = 1e-2
#: ... and only when the queries' own scores vary (share of var(S) inside them >= this): a
#: matrix of constant rows has equal column means without any normalisation.
VARYING_SHARE = 1e-6
#: The heuristic reads S once more; only for matrices up to this size (all benchmark sizes), so
#: the kernel's speed targets on large matrices are untouched.
NORMALISATION_CHECK_MAX_N = 4096
_STATS_BLOCK_BYTES = 1 << 20

_KIND_REFUSALS = {
    "b": "a bool array",
    "c": "complex scores",
    "U": "a string array",
    "S": "a bytes array",
    "V": "a structured (void) array",
    "O": "an object array (refused: reading it would need unpickling)",
    "M": "datetime64 values",
    "m": "timedelta64 values",
}


@dataclass(frozen=True)
class Canon:
    """The canonical ordered ids of the split being scored: the cheap sha256 of the list, and a
    loader for the list itself (it may need the built dataset), called only when needed."""

    sha256: Callable[[BenchmarkSpec], str]
    ids: Callable[[BenchmarkSpec], Sequence[str]]


@dataclass
class _Entry:
    """One named array of a submission, described before it is read."""

    label: str
    shape: tuple[int, ...]
    dtype: np.dtype
    source: Callable[[], MatrixSource]
    array: Callable[[], np.ndarray]
    data_bytes: int | None = None  # bytes stored after the header (files), to catch truncation
    low_precision: bool = False    # float16 / bfloat16

    @property
    def is_text(self) -> bool:
        return self.dtype.kind in "US"


@dataclass
class _Container:
    label: str
    path: str | None
    entries: dict[str, _Entry]
    closers: list[Callable[[], Any]] = field(default_factory=list)

    def close(self) -> None:
        while self.closers:
            self.closers.pop()()


@dataclass
class Submission:
    """A validated submission, ready for the counting kernel.

    ``joint``: the one matrix S (rows = first-direction queries, columns = videos), or None;
    ``by_direction``: direction name -> a matrix with one row per query of that direction (the
    per-direction layout; ``v2t`` is videos x texts). Both are in canonical order.
    ``directions``: the directions to score. ``warnings``: messages about the input.
    """

    spec: BenchmarkSpec
    split: str
    n: int
    directions: tuple[str, ...]
    joint: MatrixSource | None
    by_direction: dict[str, MatrixSource]
    label: str
    path: str | None
    warnings: list[str] = field(default_factory=list)
    _closers: list[Callable[[], Any]] = field(default_factory=list, repr=False)

    def close(self) -> None:
        """Release open files (HDF5, zip archives)."""
        while self._closers:
            self._closers.pop()()

    def __enter__(self) -> "Submission":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


# --------------------------------------------------------------------------------------------
# Public entry point
# --------------------------------------------------------------------------------------------

def read_submission(
    submission: Any,
    benchmark: str | BenchmarkSpec | None = None,
    *,
    split: str = "test",
    direction: str | None = None,
    canon: Canon | None = None,
    n: int | None = None,
) -> Submission:
    """Open, check and (for id-bound containers) reorder a submission.

    ``submission``: a path (``.npy``, ``.npz``, ``.pt``/``.pth``, ``.h5``/``.hdf5``; other suffixes
    are sniffed), an ndarray / np.memmap / torch tensor / :class:`MatrixSource`, or a dict of
    name -> matrix or id list. ``benchmark`` None: inferred from N (test split only). ``n``: the
    expected N (default: the benchmark's test size). ``canon``: the canonical ids, needed only
    when the submission carries id arrays in a non-canonical order.
    """
    container = _open(submission)
    try:
        spec = get_benchmark(benchmark) if benchmark is not None else _infer_benchmark(container, split)
        directions = (spec.direction(direction).name,) if direction else spec.direction_names
        size = spec.test_size if n is None else int(n)
        sub = _assemble(container, spec, split, directions, size, canon)
    except BaseException:
        container.close()
        raise
    sub._closers.extend(container.closers)
    return sub


def expected_matrix(spec: BenchmarkSpec, n: int, d: Direction | None = None) -> str:
    """How the expected matrix is described in messages, e.g. ``290 x 290 (text queries x videos
    for ucfcrime-ar)``; ``d`` names a per-direction matrix (one row per query of ``d``)."""
    d = d or spec.directions[0]
    return f"{n} x {n} ({d.query} queries x {_plural(d.gallery)} for {spec.name})"


def check_shape(label: str, shape: tuple[int, ...], expected: tuple[int, int], what: str) -> None:
    """Refuse anything but a 2-D ``expected`` shape; ``what`` describes the expectation."""
    if len(shape) != 2:
        raise InputError(
            f"{label}: expected a 2-D matrix of {what}, got a {len(shape)}-D array of shape "
            f"{tuple(shape)}"
        )
    if tuple(shape) == tuple(expected):
        return
    hint = ""
    if tuple(shape) == tuple(expected)[::-1] and expected[0] != expected[1]:
        hint = " (looks transposed)"
    raise InputError(f"{label}: expected {what}, got {shape[0]} x {shape[1]}{hint}")


def check_dtype(label: str, dtype: np.dtype) -> None:
    """Refuse anything but real numbers (floats and integers)."""
    dtype = np.dtype(dtype)
    if dtype.kind in "fiu" and dtype.fields is None and dtype.subdtype is None:
        return
    what = _KIND_REFUSALS.get(dtype.kind, f"dtype {dtype}")
    raise InputError(f"{label}: expected real numeric scores (float or int), got {what} ({dtype.str})")


# --------------------------------------------------------------------------------------------
# Normalisation heuristic
# --------------------------------------------------------------------------------------------

class AxisSpread(NamedTuple):
    """How S's means vary along each axis, in units of std(S).

    ``rows``/``cols``: range (max - min) of the row / column means divided by std(S).
    ``within_rows``/``within_cols``: the share of S's variance found inside rows / columns
    (1 - between-row share; 0 when every row / column is constant).
    """

    rows: float
    cols: float
    within_rows: float
    within_cols: float


#: A matrix with one value everywhere: nothing varies, nothing to normalise.
CONSTANT = AxisSpread(math.inf, math.inf, 0.0, 0.0)


def axis_mean_spread(source: MatrixSource) -> AxisSpread:
    """:class:`AxisSpread` of S, reading S once in row blocks (memory: one block).

    Sums run in float64; block variances are merged with Chan et al.'s parallel formula, and the
    variance decomposes as total = between + within for each axis, e.g. between-row sum of
    squares = C * sum_i (rowmean_i - mean)^2 for an R x C matrix.
    """
    rows_m, cols_m = source.shape
    row_means = np.empty(rows_m, np.float64)
    col_sums = np.zeros(cols_m, np.float64)
    count, mean, m2 = 0, 0.0, 0.0
    step = max(1, _STATS_BLOCK_BYTES // max(1, cols_m * source.dtype.itemsize))
    for i0 in range(0, rows_m, step):
        block = source.read_rows(i0, min(i0 + step, rows_m))
        row_means[i0 : i0 + len(block)] = block.mean(axis=1, dtype=np.float64)
        col_sums += block.sum(axis=0, dtype=np.float64)
        b_n = block.size
        b_mean = float(row_means[i0 : i0 + len(block)].mean())
        b_m2 = float(block.var(dtype=np.float64)) * b_n
        delta = b_mean - mean
        total = count + b_n
        mean += delta * b_n / total
        m2 += b_m2 + delta * delta * count * b_n / total
        count = total
    if m2 <= 0.0 or count == 0:
        return CONSTANT
    std = math.sqrt(m2 / count)
    col_means = col_sums / rows_m
    between_rows = cols_m * float(np.square(row_means - mean).sum())
    between_cols = rows_m * float(np.square(col_means - mean).sum())
    spread = AxisSpread(
        rows=float(np.ptp(row_means)) / std,
        cols=float(np.ptp(col_means)) / std,
        within_rows=max(0.0, 1.0 - between_rows / m2),
        within_cols=max(0.0, 1.0 - between_cols / m2),
    )
    if source.transposed:  # the source holds S.T: swap the axes back
        spread = AxisSpread(spread.cols, spread.rows, spread.within_cols, spread.within_rows)
    return spread


def normalised_over_rows(s: AxisSpread) -> bool:
    """True when S looks normalised across its rows (the queries of an over-rows direction):
    every column has the same mean (range <= EQUAL_SPREAD std), the row means differ (range >=
    UNEQUAL_SPREAD std), and the rows are not constant (a matrix of constant rows has equal
    column means without any normalisation)."""
    return s.cols <= EQUAL_SPREAD and s.rows >= UNEQUAL_SPREAD and s.within_rows >= VARYING_SHARE


def normalisation_warnings(sub: Submission) -> list[str]:
    """Warnings for matrices that look normalised across the query set of a scored direction.

    Heuristic (:func:`normalised_over_rows`): softmax, dual/inverted softmax, centring or
    z-scoring over the query axis gives every gallery item the same mean score over the queries
    (equal column means for t2v/a2v, equal row means for v2t/v2a), which raw scores never show.
    Only for N <= NORMALISATION_CHECK_MAX_N (one more read of S).
    """
    if sub.n > NORMALISATION_CHECK_MAX_N:
        return []
    found: list[str] = []
    if sub.joint is not None:
        spread = axis_mean_spread(sub.joint)
        flipped = AxisSpread(spread.cols, spread.rows, spread.within_cols, spread.within_rows)
        for d in sub.spec.directions:
            # v2t queries are S's columns: look at S.T, whose rows they are.
            if d.name in sub.directions and normalised_over_rows(spread if d.over_rows else flipped):
                found.append(_normalised_message(sub.label, sub.spec, d))
    for name, src in sub.by_direction.items():
        if normalised_over_rows(axis_mean_spread(src)):  # one query per row
            found.append(_normalised_message(f"{sub.label}[{name!r}]", sub.spec, sub.spec.direction(name)))
    return found


def _normalised_message(label: str, spec: BenchmarkSpec, d: Direction) -> str:
    return (
        f"{label}: every {d.gallery} has the same mean score over the {d.query} queries: the "
        f"matrix looks normalised across the query set (softmax, dual/inverted softmax, QB-Norm, "
        f"z-scoring), which inflates {d.name} on a one-positive benchmark; disclose it "
        f"(--disclose test_time_normalisation=...)"
    )


# --------------------------------------------------------------------------------------------
# Opening inputs
# --------------------------------------------------------------------------------------------

def _open(submission: Any) -> _Container:
    if isinstance(submission, (str, os.PathLike)):
        return _open_path(Path(submission))
    if isinstance(submission, Mapping):
        entries = {}
        for key, value in submission.items():
            if not isinstance(key, str):
                raise InputError(f"submission dict: expected string keys, got {key!r}")
            entries[key] = _memory_entry(f"submission[{key!r}]", value)
        return _Container("submission", None, entries)
    return _Container("matrix", None, {"matrix": _memory_entry("matrix", submission)})


def _memory_entry(label: str, value: Any) -> _Entry:
    if _is_torch_tensor(value):
        value, low = _tensor_to_numpy(label, value)
        return _array_entry(label, value, low)
    if isinstance(value, MatrixSource) and not isinstance(value, np.ndarray):
        shape = tuple(value.shape)
        if value.transposed:
            shape = shape[::-1]
        return _Entry(label, shape, np.dtype(value.dtype), lambda: value, lambda: _whole(value))
    if isinstance(value, np.ndarray) and value.dtype.kind == "O" and value.ndim == 1 and value.size \
            and all(isinstance(v, str) for v in value.tolist()):
        value = value.astype(str)  # ids built in memory as an object array: nothing to unpickle
    if isinstance(value, (list, tuple)):
        if value and all(isinstance(v, str) for v in value):
            return _array_entry(label, np.asarray(value, dtype=str))
        try:
            value = np.asarray(value) if value else np.asarray(value, dtype=np.float64)
        except ValueError as e:
            raise InputError(f"{label}: expected a rectangular matrix, got a ragged list ({e})") from None
    if not isinstance(value, np.ndarray):
        raise InputError(
            f"{label}: expected a path, NumPy array, torch tensor or dict of them, got "
            f"{type(value).__name__}"
        )
    return _array_entry(label, value)


def _array_entry(label: str, array: np.ndarray, low_precision: bool = False) -> _Entry:
    return _Entry(label, tuple(array.shape), array.dtype, lambda: as_source(array),
                  lambda: np.asarray(array), low_precision=low_precision or array.dtype == np.float16)


def _whole(source: MatrixSource) -> np.ndarray:
    m = source.read_rows(0, source.shape[0])
    return m.T if source.transposed else m


def _open_path(path: Path) -> _Container:
    label = str(path)
    if not path.exists():
        raise InputError(f"{label}: expected a submission file, found no such file")
    if not path.is_file():
        raise InputError(f"{label}: expected a submission file, got a directory or special file")
    size = path.stat().st_size
    fmt = _SUFFIXES.get(path.suffix.lower())
    wanted = _FORMAT_NAMES.get(fmt, f"one of {ACCEPTED_FORMATS}")
    if size == 0:
        raise InputError(f"{label}: expected {wanted}, got an empty file (0 bytes)")
    with open(path, "rb") as f:
        head = f.read(16)
    sniffed = _sniff(path, head, fmt)
    if sniffed is None:
        if head.startswith(_PICKLE_PROTOCOLS):
            raise InputError(f"{label}: expected {wanted}, got a Python pickle (refused: never "
                             f"unpickled; save the matrix with numpy.save)")
        raise InputError(f"{label}: expected {wanted}, got a file that is not an array "
                         f"(it starts with {head[:8]!r})")
    opener = {"npy": _open_npy, "npz": _open_npz, "torch": _open_torch, "hdf5": _open_hdf5}[sniffed]
    return opener(path, label)


def _sniff(path: Path, head: bytes, by_suffix: str | None) -> str | None:
    """The format from the first bytes; the suffix only decides between pickle-based readers."""
    if head.startswith(_NPY_MAGIC):
        return "npy"
    if head.startswith(_HDF5_MAGIC):
        return "hdf5"
    if head.startswith(_ZIP_MAGICS):
        try:
            with zipfile.ZipFile(path) as z:
                names = z.namelist()
        except (zipfile.BadZipFile, OSError, EOFError):
            return by_suffix if by_suffix in ("npz", "torch") else "npz"  # reported when opened
        # torch.save's zip format stores a pickle index, "<archive>/data.pkl".
        return "torch" if any(n == "data.pkl" or n.endswith("/data.pkl") for n in names) else "npz"
    if head.startswith(_PICKLE_PROTOCOLS) and by_suffix in ("torch", None):
        return "torch"  # the legacy torch.save format; read with weights_only=True, never unpickled
    return None


def _npy_header(fp: Any, label: str) -> tuple[tuple[int, ...], bool, np.dtype]:
    """Shape, Fortran order and dtype from a .npy header; the file position ends at the data."""
    fmt = np.lib.format
    try:
        version = fmt.read_magic(fp)
    except (ValueError, EOFError) as e:
        raise InputError(f"{label}: expected a .npy header, got an unreadable one ({e})") from None
    try:
        if version == (1, 0):
            shape, fortran, dtype = fmt.read_array_header_1_0(fp)
        elif version in ((2, 0), (3, 0)):  # 3.0 only differs by a UTF-8 header (ASCII for us)
            shape, fortran, dtype = fmt.read_array_header_2_0(fp)
        else:
            raise ValueError(f"unknown .npy format version {version}")
    except (ValueError, TypeError, SyntaxError, UnicodeDecodeError, EOFError, OverflowError) as e:
        raise InputError(f"{label}: expected a .npy header, got an unreadable one "
                         f"({' '.join(str(e).split())[:160]})") from None
    if any(int(s) < 0 for s in shape):
        raise InputError(f"{label}: expected a non-negative shape, got {shape}")
    return tuple(int(s) for s in shape), bool(fortran), np.dtype(dtype)


def _open_npy(path: Path, label: str) -> _Container:
    with open(path, "rb") as f:
        shape, fortran, dtype = _npy_header(f, label)
        offset = f.tell()
    data_bytes = path.stat().st_size - offset

    def source() -> MatrixSource:
        return NpyFileSource(str(path), offset, shape, dtype, fortran_order=fortran)

    def array() -> np.ndarray:
        return np.load(path, mmap_mode="r", allow_pickle=False)

    entry = _Entry(label, shape, dtype, source, array, data_bytes=data_bytes,
                   low_precision=dtype == np.float16)
    return _Container(label, str(path), {"matrix": entry})


def _open_npz(path: Path, label: str) -> _Container:
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, EOFError) as e:
        raise InputError(f"{label}: expected a .npz archive, got a truncated or corrupt zip ({e})") from None
    entries: dict[str, _Entry] = {}
    try:
        for info in archive.infolist():
            if info.is_dir():
                continue
            if not info.filename.endswith(".npy"):
                raise InputError(f"{label}: expected only .npy members in the .npz, got member "
                                 f"{info.filename!r}")
            key = info.filename[: -len(".npy")]
            member = f"{label}[{key!r}]"
            try:
                with archive.open(info) as fp:
                    shape, fortran, dtype = _npy_header(fp, member)
                    offset = fp.tell()
            except (zipfile.BadZipFile, OSError, EOFError) as e:
                raise InputError(f"{member}: expected a readable member, got a corrupt one ({e})") from None
            entries[key] = _npz_entry(archive, info, member, shape, dtype, info.file_size - offset)
    except BaseException:
        archive.close()
        raise
    return _Container(label, str(path), entries, [archive.close])


def _npz_entry(archive: zipfile.ZipFile, info: zipfile.ZipInfo, label: str,
               shape: tuple[int, ...], dtype: np.dtype, data_bytes: int) -> _Entry:
    loaded: list[np.ndarray] = []

    def array() -> np.ndarray:
        if not loaded:
            try:
                with archive.open(info) as fp:
                    loaded.append(np.lib.format.read_array(fp, allow_pickle=False))
            except (zipfile.BadZipFile, OSError, EOFError, ValueError) as e:
                raise InputError(f"{label}: expected a readable .npy member, got a corrupt or "
                                 f"truncated one ({' '.join(str(e).split())[:160]})") from None
        return loaded[0]

    return _Entry(label, shape, dtype, lambda: as_source(array()), array, data_bytes=data_bytes,
                  low_precision=dtype == np.float16)


def _is_torch_tensor(value: Any) -> bool:
    mod = type(value).__module__
    return mod.startswith("torch") and hasattr(value, "detach") and hasattr(value, "numpy")


def _tensor_to_numpy(label: str, tensor: Any) -> tuple[np.ndarray, bool]:
    """A CPU NumPy view of ``tensor``; bfloat16 becomes float32 (exact). Returns (array, low)."""
    import torch

    t = tensor.detach()
    if t.layout != torch.strided:
        raise InputError(f"{label}: expected a dense tensor, got layout {t.layout}")
    if t.is_quantized:
        raise InputError(f"{label}: expected real numeric scores, got a quantized tensor ({t.dtype})")
    if t.dtype == torch.bool or t.is_complex():
        what = "a bool tensor" if t.dtype == torch.bool else "complex scores"
        raise InputError(f"{label}: expected real numeric scores (float or int), got {what} ({t.dtype})")
    t = t.cpu()
    low = t.dtype in (torch.float16, torch.bfloat16)
    if t.dtype == torch.bfloat16:
        t = t.float()  # every bfloat16 is a float32: exact
    try:
        return t.numpy(), low
    except (TypeError, RuntimeError) as e:
        raise InputError(f"{label}: expected real numeric scores, got a tensor NumPy cannot hold "
                         f"({t.dtype}: {e})") from None


def _open_torch(path: Path, label: str) -> _Container:
    try:
        import torch
    except ImportError:
        raise InputError(f"{label}: reading a torch.save file needs PyTorch, which is not "
                         f"installed (pip install torch); or save the matrix as .npy") from None
    try:
        # weights_only: tensors, containers and strings only; never arbitrary unpickling.
        obj = torch.load(str(path), weights_only=True, map_location="cpu")
    except Exception as e:  # torch raises many types for a bad file; all mean "not loadable"
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise InputError(f"{label}: expected a tensor or a dict of tensors saved with torch.save, "
                         f"got a file torch cannot load safely ({first[:160]})") from None
    if _is_torch_tensor(obj):
        return _Container(label, str(path), {"matrix": _memory_entry(label, obj)})
    if isinstance(obj, Mapping):
        entries = {}
        for key, value in obj.items():
            member = f"{label}[{key!r}]"
            if not isinstance(key, str):
                raise InputError(f"{label}: expected string keys, got {key!r}")
            if not (_is_torch_tensor(value) or isinstance(value, (list, tuple))):
                raise InputError(f"{member}: expected a tensor or a list of ids, got "
                                 f"{type(value).__name__}")
            entries[key] = _memory_entry(member, value)
        return _Container(label, str(path), entries)
    raise InputError(f"{label}: expected a tensor or a dict of tensors, got {type(obj).__name__}")


def _open_hdf5(path: Path, label: str) -> _Container:
    import h5py

    try:
        f = h5py.File(path, "r")
    except OSError as e:
        raise InputError(f"{label}: expected an HDF5 file, got one h5py cannot open "
                         f"({' '.join(str(e).split())[:160]})") from None
    entries: dict[str, _Entry] = {}
    try:
        for key, obj in f.items():
            member = f"{label}[{key!r}]"
            if not isinstance(obj, h5py.Dataset):
                raise InputError(f"{member}: expected datasets at the root of the file, got a "
                                 f"{type(obj).__name__.lower()}")
            entries[key] = _hdf5_entry(obj, member)
    except BaseException:
        f.close()
        raise
    return _Container(label, str(path), entries, [f.close])


def _hdf5_entry(ds: Any, label: str) -> _Entry:
    import h5py

    if h5py.check_string_dtype(ds.dtype) is not None:
        def strings() -> np.ndarray:
            return np.asarray(ds.asstr()[()], dtype=str)
        return _Entry(label, tuple(ds.shape), np.dtype("U1"), lambda: as_source(strings()), strings)

    def array() -> np.ndarray:
        try:
            return np.asarray(ds[()])
        except OSError as e:
            raise InputError(f"{label}: expected a readable dataset, got a corrupt one ({e})") from None

    # Row blocks are read straight from the dataset: memory stays bounded.
    return _Entry(label, tuple(ds.shape), np.dtype(ds.dtype), lambda: ArraySource(ds), array,
                  low_precision=ds.dtype == np.float16)


# --------------------------------------------------------------------------------------------
# Checking and assembling
# --------------------------------------------------------------------------------------------

def _plural(modality: str) -> str:
    return "audio clips" if modality == "audio" else f"{modality}s"


def _id_keys(spec: BenchmarkSpec) -> tuple[str, str]:
    """(query id array name, gallery id array name), e.g. ``text_ids``, ``video_ids``."""
    return f"{spec.query_modality}_ids", f"{spec.gallery_modality}_ids"


def _infer_benchmark(container: _Container, split: str) -> BenchmarkSpec:
    names = set(container.entries)
    named = [s for s in BENCHMARKS.values() if names & set(s.direction_names)]
    if len(named) == 1:
        return named[0]
    expected = " or ".join(f"{s.test_size} x {s.test_size} ({s.name})" for s in BENCHMARKS.values())
    if split != "test":
        raise InputError(f"{container.label}: expected a benchmark name when scoring split "
                         f"{split!r} (only test sizes identify a benchmark), got none")
    by_size = {s.test_size: s for s in BENCHMARKS.values()}
    id_keys = {k for s in BENCHMARKS.values() for k in _id_keys(s)}
    matrices = [e for k, e in container.entries.items() if k not in id_keys]
    found = {by_size[d].name: by_size[d] for e in matrices for d in e.shape if d in by_size}
    if len(found) == 1:
        return next(iter(found.values()))
    shapes = ", ".join(" x ".join(map(str, e.shape)) or "a scalar" for e in matrices) or "no matrix"
    raise InputError(f"{container.label}: cannot tell the benchmark: expected a {expected} matrix, "
                     f"got {shapes}; name the benchmark (--benchmark)")


def _assemble(container: _Container, spec: BenchmarkSpec, split: str,
              directions: tuple[str, ...], n: int, canon: Canon | None) -> Submission:
    query_key, gallery_key = _id_keys(spec)
    entries = dict(container.entries)
    id_entries = {k: entries.pop(k) for k in (query_key, gallery_key) if k in entries}
    names = list(entries)
    layout_keys = ", ".join(spec.direction_names)
    allowed = f"one matrix under any name, or {layout_keys}; optionally {query_key}, {gallery_key}"
    if not names:
        raise InputError(f"{container.label}: expected keys: {allowed}; got no matrix"
                         + (f" (only {', '.join(id_entries)})" if id_entries else ""))
    per_direction = len(names) > 1 or names[0] in spec.direction_names
    if per_direction:
        extra = [k for k in names if k not in spec.direction_names]
        if extra:
            raise InputError(f"{container.label}: expected keys: {allowed}; got extra key {extra[0]!r}")
        missing = [d for d in directions if d not in names]
        if missing:
            raise InputError(f"{container.label}: expected keys: {allowed}; missing key {missing[0]!r}")

    query_ids = _read_ids(id_entries.get(query_key), n)
    gallery_ids = _read_ids(id_entries.get(gallery_key), n)
    perms = _permutations(container.label, spec, query_ids, gallery_ids, canon)

    warnings: list[str] = []
    sub = Submission(spec=spec, split=split, n=n, directions=directions, joint=None,
                     by_direction={}, label=container.label, path=container.path, warnings=warnings)
    low = False
    if per_direction:
        for name in directions:
            d = spec.direction(name)
            entry = entries[name]
            _check_matrix(entry, n, expected_matrix(spec, n, d))
            # A per-direction matrix has one row per query of d: t2v rows are texts, v2t rows videos.
            row_perm, col_perm = (perms[0], perms[1]) if d.over_rows else (perms[1], perms[0])
            sub.by_direction[name] = _bound(entry, row_perm, col_perm)
            low |= entry.low_precision
    else:
        entry = entries[names[0]]
        _check_matrix(entry, n, expected_matrix(spec, n))
        sub.joint = _bound(entry, perms[0], perms[1])
        low = entry.low_precision
    if low:
        warnings.append(f"{container.label}: low-precision (float16/bfloat16) scores: "
                        f"{LOW_PRECISION_WARNING}; the tie rule and the bounds account for them")
    return sub


def _check_matrix(entry: _Entry, n: int, what: str) -> None:
    check_dtype(entry.label, entry.dtype)
    check_shape(entry.label, entry.shape, (n, n), what)
    if entry.data_bytes is not None:
        need = math.prod(entry.shape) * entry.dtype.itemsize
        if entry.data_bytes < need:
            raise InputError(f"{entry.label}: expected {need} bytes of {entry.dtype} data after the "
                             f"header ({entry.shape[0]} x {entry.shape[1]}), got {entry.data_bytes} "
                             f"(the file is truncated)")
        if entry.data_bytes > need:
            raise InputError(f"{entry.label}: expected {need} bytes of {entry.dtype} data after the "
                             f"header ({entry.shape[0]} x {entry.shape[1]}), got {entry.data_bytes} "
                             f"({entry.data_bytes - need} trailing bytes)")


def _read_ids(entry: _Entry | None, n: int) -> list[str] | None:
    if entry is None:
        return None
    if entry.dtype.kind == "O":
        raise InputError(f"{entry.label}: expected an array of strings (save ids with dtype=str), "
                         f"got an object array (refused: reading it would need unpickling)")
    if not entry.is_text:
        raise InputError(f"{entry.label}: expected an array of string ids, got dtype {entry.dtype}")
    if len(entry.shape) != 1 or entry.shape[0] != n:
        raise InputError(f"{entry.label}: expected {n} ids in a 1-D array, got shape {entry.shape}")
    values = entry.array()
    if values.dtype.kind == "S":
        try:
            return [v.decode("utf-8") for v in values.tolist()]
        except UnicodeDecodeError:
            raise InputError(f"{entry.label}: expected UTF-8 ids, got undecodable bytes") from None
    return [str(v) for v in values.tolist()]


def _permutations(label: str, spec: BenchmarkSpec, query_ids: list[str] | None,
                  gallery_ids: list[str] | None, canon: Canon | None
                  ) -> tuple[np.ndarray | None, np.ndarray | None]:
    """For (rows, columns) of S: the index that puts them in canonical order (None = already)."""
    query_key, gallery_key = _id_keys(spec)
    given = [(query_key, query_ids), (gallery_key, gallery_ids)]
    if all(ids is None for _, ids in given):
        return None, None
    if canon is None:
        raise InputError(f"{label}: expected the canonical ids to bind {query_key}/{gallery_key} "
                         f"(pass ids=...), got none")
    want_sha = canon.sha256(spec)
    canonical: list[str] | None = None
    perms: list[np.ndarray | None] = []
    for key, ids in given:
        if ids is None or sha256_lines(ids) == want_sha:
            perms.append(None)  # absent, or already in canonical order: no need for the list
            continue
        if canonical is None:
            canonical = [str(i) for i in canon.ids(spec)]
        perms.append(_permutation(f"{label}[{key!r}]", spec, ids, canonical))
    return perms[0], perms[1]


def _permutation(label: str, spec: BenchmarkSpec, ids: list[str], canonical: list[str]) -> np.ndarray:
    position: dict[str, int] = {}
    for i, v in enumerate(ids):
        if v in position:
            raise InputError(f"{label}: expected {len(canonical)} distinct ids, got duplicate id {v!r}")
        position[v] = i
    missing = [v for v in canonical if v not in position]
    if missing:
        known = set(canonical)
        extra = [v for v in ids if v not in known]
        raise InputError(
            f"{label}: expected the {len(canonical)} canonical ids of {spec.name} "
            f"(var-bench ids {spec.name}), got {len(missing)} missing (e.g. {missing[0]!r}) and "
            f"{len(extra)} extra" + (f" (e.g. {extra[0]!r})" if extra else "")
        )
    return np.fromiter((position[v] for v in canonical), dtype=np.intp, count=len(canonical))


def _bound(entry: _Entry, row_perm: np.ndarray | None, col_perm: np.ndarray | None) -> MatrixSource:
    """The entry's matrix in canonical order: reordered in memory only when ids bind it."""
    if row_perm is None and col_perm is None:
        return entry.source()
    m = entry.array()
    rows = row_perm if row_perm is not None else np.arange(m.shape[0])
    cols = col_perm if col_perm is not None else np.arange(m.shape[1])
    return ArraySource(np.ascontiguousarray(m[np.ix_(rows, cols)]))
