"""Opening a submission's input: files (sniffed by their first bytes), arrays, tensors, dicts.

Every input becomes a :class:`Container` of named :class:`Entry` objects, each described
(shape, dtype, stored byte count) before any data is read.

Every check runs before any large allocation: a ``.npy`` (or ``.npz`` member) is judged from its
header alone (dtype, dimensions, shape, then the byte count against the file), so a header that
claims a giant shape, or an object array that would need unpickling, is refused without reading
further. A ``.npy`` is then read block by block
(:class:`~var_bench.tasks.retrieval.matrix.NpyFileSource`), so a memory-mapped matrix larger than
RAM can be scored. Every refusal is one :class:`InputError` line naming the input, what was expected
and what arrived.
"""

from __future__ import annotations

import json
import os
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from var_bench.errors import InputError
from var_bench.h5guard import check_self_contained
from var_bench.tasks.retrieval.matrix import ArraySource, MatrixSource, NpyFileSource, as_source
from var_bench.tasks.retrieval.submission.provenance import PROVENANCE_KEY

#: What the reader accepts, for messages.
ACCEPTED_FORMATS = ".npy, .npz, .pt/.pth (torch.save), .h5/.hdf5"
_SUFFIXES = {
    ".npy": "npy",
    ".npz": "npz",
    ".pt": "torch",
    ".pth": "torch",
    ".h5": "hdf5",
    ".hdf5": "hdf5",
}
_FORMAT_NAMES = {
    "npy": "a .npy file",
    "npz": "a .npz archive",
    "torch": "a torch.save file",
    "hdf5": "an HDF5 file",
}
_NPY_MAGIC = b"\x93NUMPY"
_ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06")  # a zip with members / an empty zip
_HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"
_PICKLE_PROTOCOLS = (b"\x80\x02", b"\x80\x03", b"\x80\x04", b"\x80\x05")
#: What ``np.savez(path, S)`` names a single unnamed matrix: the only free name a .npz may use.
NPZ_SINGLE_KEY = "arr_0"
#: Members of a .npz at most (2 directions + 2 id arrays + provenance, with room): bounds the
#: headers read for a hostile archive.
MAX_NPZ_MEMBERS = 8
#: Bytes of a provenance JSON string at most.
MAX_PROVENANCE_BYTES = 1 << 16


@dataclass
class Entry:
    """One named array of a submission, described before it is read."""

    label: str
    shape: tuple[int, ...]
    dtype: np.dtype
    source: Callable[[], MatrixSource]
    array: Callable[[], np.ndarray]
    data_bytes: int | None = None  # bytes stored after the header (files), to catch truncation
    low_precision: bool = False  # float16 / bfloat16

    @property
    def is_text(self) -> bool:
        return self.dtype.kind in "US"


@dataclass
class Container:
    label: str
    path: str | None
    entries: dict[str, Entry]
    closers: list[Callable[[], Any]] = field(default_factory=list)
    kind: str = ""  # "npz", "torch", "hdf5", "npy" or "" (memory)
    provenance: dict | None = None  # the .npz's reserved ``provenance`` JSON object

    def close(self) -> None:
        while self.closers:
            self.closers.pop()()


def open_submission(submission: Any, max_bytes: int | None = None) -> Container:
    """``max_bytes``: the most bytes a whole-file reader (torch.load) may be asked to load,
    checked before loading (None: no bound)."""
    if isinstance(submission, (str, os.PathLike)):
        return _open_path(Path(submission), max_bytes)
    if isinstance(submission, Mapping):
        entries = {}
        for key, value in submission.items():
            if not isinstance(key, str):
                raise InputError(f"submission dict: expected string keys, got {key!r}")
            entries[key] = _memory_entry(f"submission[{key!r}]", value)
        return Container("submission", None, entries)
    return Container("matrix", None, {"matrix": _memory_entry("matrix", submission)})


def _memory_entry(label: str, value: Any) -> Entry:
    if _is_torch_tensor(value):
        value, low = _tensor_to_numpy(label, value)
        return _array_entry(label, value, low)
    if isinstance(value, MatrixSource) and not isinstance(value, np.ndarray):
        shape = tuple(value.shape)
        if value.transposed:
            shape = shape[::-1]
        return Entry(label, shape, np.dtype(value.dtype), lambda: value, lambda: _whole(value))
    if (
        isinstance(value, np.ndarray)
        and value.dtype.kind == "O"
        and value.ndim == 1
        and value.size
        and all(isinstance(v, str) for v in value.tolist())
    ):
        value = value.astype(str)  # ids built in memory as an object array: nothing to unpickle
    if isinstance(value, (list, tuple)):
        if value and all(isinstance(v, str) for v in value):
            return _array_entry(label, np.asarray(value, dtype=str))
        try:
            value = np.asarray(value) if value else np.asarray(value, dtype=np.float64)
        except ValueError as e:
            raise InputError(
                f"{label}: expected a rectangular matrix, got a ragged list ({e})"
            ) from None
    if not isinstance(value, np.ndarray):
        raise InputError(
            f"{label}: expected a path, NumPy array, torch tensor or dict of them, got "
            f"{type(value).__name__}"
        )
    return _array_entry(label, value)


def _array_entry(label: str, array: np.ndarray, low_precision: bool = False) -> Entry:
    return Entry(
        label,
        tuple(array.shape),
        array.dtype,
        lambda: as_source(array),
        lambda: np.asarray(array),
        low_precision=low_precision or array.dtype == np.float16,
    )


def _whole(source: MatrixSource) -> np.ndarray:
    m = source.read_rows(0, source.shape[0])
    return m.T if source.transposed else m


def _open_path(path: Path, max_bytes: int | None = None) -> Container:
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
            raise InputError(
                f"{label}: expected {wanted}, got a Python pickle (refused: never "
                f"unpickled; save the matrix with numpy.save)"
            )
        raise InputError(
            f"{label}: expected {wanted}, got a file that is not an array "
            f"(it starts with {head[:8]!r})"
        )
    if sniffed == "torch":
        container = _open_torch(path, label, max_bytes)
    else:
        container = {"npy": _open_npy, "npz": _open_npz, "hdf5": _open_hdf5}[sniffed](path, label)
    container.kind = sniffed
    return container


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
        raise InputError(
            f"{label}: expected a .npy header, got an unreadable one "
            f"({' '.join(str(e).split())[:160]})"
        ) from None
    if any(int(s) < 0 for s in shape):
        raise InputError(f"{label}: expected a non-negative shape, got {shape}")
    return tuple(int(s) for s in shape), bool(fortran), np.dtype(dtype)


def _open_npy(path: Path, label: str) -> Container:
    with open(path, "rb") as f:
        shape, fortran, dtype = _npy_header(f, label)
        offset = f.tell()
    data_bytes = path.stat().st_size - offset

    def source() -> MatrixSource:
        return NpyFileSource(str(path), offset, shape, dtype, fortran_order=fortran)

    def array() -> np.ndarray:
        return np.load(path, mmap_mode="r", allow_pickle=False)

    entry = Entry(
        label, shape, dtype, source, array, data_bytes=data_bytes, low_precision=dtype == np.float16
    )
    return Container(label, str(path), {"matrix": entry})


def _open_npz(path: Path, label: str) -> Container:
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, EOFError) as e:
        raise InputError(
            f"{label}: expected a .npz archive, got a truncated or corrupt zip ({e})"
        ) from None
    entries: dict[str, Entry] = {}
    provenance = None
    try:
        members = [i for i in archive.infolist() if not i.is_dir()]
        if len(members) > MAX_NPZ_MEMBERS:
            raise InputError(
                f"{label}: expected at most {MAX_NPZ_MEMBERS} members in the .npz "
                f"(matrices, id arrays, provenance), got {len(members)}"
            )
        for info in members:
            if not info.filename.endswith(".npy"):
                raise InputError(
                    f"{label}: expected only .npy members in the .npz, got member {info.filename!r}"
                )
            key = info.filename[: -len(".npy")]
            member = f"{label}[{key!r}]"
            try:
                with archive.open(info) as fp:
                    shape, fortran, dtype = _npy_header(fp, member)
                    offset = fp.tell()
            except (zipfile.BadZipFile, OSError, EOFError) as e:
                raise InputError(
                    f"{member}: expected a readable member, got a corrupt one ({e})"
                ) from None
            entry = _npz_entry(archive, info, member, shape, dtype, info.file_size - offset)
            if key == PROVENANCE_KEY:
                provenance = _provenance(entry)
            else:
                entries[key] = entry
    except BaseException:
        archive.close()
        raise
    return Container(label, str(path), entries, [archive.close], provenance=provenance)


def _provenance(entry: Entry) -> dict:
    """The reserved ``provenance`` member: a 0-d unicode string holding one JSON object."""
    if entry.shape != () or entry.dtype.kind != "U":
        raise InputError(
            f"{entry.label}: expected a 0-d unicode string holding JSON "
            f"(np.array(json.dumps(...))), got shape {entry.shape} dtype {entry.dtype}"
        )
    if entry.dtype.itemsize > 4 * MAX_PROVENANCE_BYTES:
        raise InputError(
            f"{entry.label}: expected at most {MAX_PROVENANCE_BYTES} characters, got "
            f"{entry.dtype.itemsize // 4}"
        )
    try:
        value = json.loads(str(entry.array()[()]))
    except (ValueError, RecursionError) as e:
        raise InputError(
            f"{entry.label}: expected a JSON object, got unreadable JSON ({str(e)[:120]})"
        ) from None
    if not isinstance(value, dict):
        raise InputError(f"{entry.label}: expected a JSON object, got {type(value).__name__}")
    return value


def _npz_entry(
    archive: zipfile.ZipFile,
    info: zipfile.ZipInfo,
    label: str,
    shape: tuple[int, ...],
    dtype: np.dtype,
    data_bytes: int,
) -> Entry:
    loaded: list[np.ndarray] = []

    def array() -> np.ndarray:
        if not loaded:
            try:
                with archive.open(info) as fp:
                    loaded.append(np.lib.format.read_array(fp, allow_pickle=False))
            except (zipfile.BadZipFile, OSError, EOFError, ValueError) as e:
                raise InputError(
                    f"{label}: expected a readable .npy member, got a corrupt or "
                    f"truncated one ({' '.join(str(e).split())[:160]})"
                ) from None
        return loaded[0]

    return Entry(
        label,
        shape,
        dtype,
        lambda: as_source(array()),
        array,
        data_bytes=data_bytes,
        low_precision=dtype == np.float16,
    )


def _is_torch_tensor(value: Any) -> bool:
    mod = type(value).__module__
    return mod.startswith("torch") and hasattr(value, "detach") and hasattr(value, "numpy")


def _tensor_to_numpy(label: str, tensor: Any) -> tuple[np.ndarray, bool]:
    """A CPU NumPy view of ``tensor``; bfloat16 becomes float32 (exact). Returns (array, low)."""
    import torch

    t = tensor.detach()
    if t.device.type == "meta":
        raise InputError(f"{label}: expected a tensor holding data, got a meta tensor (no values)")
    if t.layout != torch.strided:
        raise InputError(f"{label}: expected a dense tensor, got layout {t.layout}")
    if t.is_quantized:
        raise InputError(
            f"{label}: expected real numeric scores, got a quantized tensor ({t.dtype})"
        )
    if t.dtype == torch.bool or t.is_complex():
        what = "a bool tensor" if t.dtype == torch.bool else "complex scores"
        raise InputError(
            f"{label}: expected real numeric scores (float or int), got {what} ({t.dtype})"
        )
    t = t.cpu()
    low = t.dtype in (torch.float16, torch.bfloat16)
    if t.dtype == torch.bfloat16:
        t = t.float()  # every bfloat16 is a float32: exact
    try:
        return t.numpy(), low
    except (TypeError, RuntimeError) as e:
        raise InputError(
            f"{label}: expected real numeric scores, got a tensor NumPy cannot hold "
            f"({t.dtype}: {e})"
        ) from None


def _torch_bytes(path: Path) -> int:
    """Bytes ``torch.load`` would materialise: the zip members' uncompressed sizes (torch's zip
    format), else the file's size (the legacy format stores tensors raw)."""
    try:
        with zipfile.ZipFile(path) as z:
            return sum(i.file_size for i in z.infolist())
    except (zipfile.BadZipFile, OSError, EOFError):
        return path.stat().st_size


def _open_torch(path: Path, label: str, max_bytes: int | None = None) -> Container:
    try:
        import torch
    except ImportError:
        raise InputError(
            f"{label}: reading a torch.save file needs PyTorch, which is not "
            f"installed (pip install torch); or save the matrix as .npy"
        ) from None
    if max_bytes is not None:
        # torch.load reads the whole file: bound it by what the benchmark's matrices can need.
        need = _torch_bytes(path)
        if need > max_bytes:
            raise InputError(
                f"{label}: expected at most {max_bytes} bytes of tensors (the score "
                f"matrices of the benchmark), got {need}; refused before loading"
            )
    try:
        # weights_only: tensors, containers and strings only; never arbitrary unpickling.
        obj = torch.load(str(path), weights_only=True, map_location="cpu")
    except Exception as e:  # torch raises many types for a bad file; all mean "not loadable"
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise InputError(
            f"{label}: expected a tensor or a dict of tensors saved with torch.save, "
            f"got a file torch cannot load safely ({first[:160]})"
        ) from None
    if _is_torch_tensor(obj):
        return Container(label, str(path), {"matrix": _memory_entry(label, obj)})
    if isinstance(obj, Mapping):
        entries = {}
        for key, value in obj.items():
            member = f"{label}[{key!r}]"
            if not isinstance(key, str):
                raise InputError(f"{label}: expected string keys, got {key!r}")
            if not (_is_torch_tensor(value) or isinstance(value, (list, tuple))):
                raise InputError(
                    f"{member}: expected a tensor or a list of ids, got {type(value).__name__}"
                )
            entries[key] = _memory_entry(member, value)
        return Container(label, str(path), entries)
    raise InputError(f"{label}: expected a tensor or a dict of tensors, got {type(obj).__name__}")


def _open_hdf5(path: Path, label: str) -> Container:
    import h5py

    try:
        f = h5py.File(path, "r")
    except OSError as e:
        raise InputError(
            f"{label}: expected an HDF5 file, got one h5py cannot open "
            f"({' '.join(str(e).split())[:160]})"
        ) from None
    entries: dict[str, Entry] = {}
    try:
        # Before any dataset is read: no external link, virtual dataset or external storage.
        check_self_contained(f, label)
        for key, obj in f.items():
            member = f"{label}[{key!r}]"
            if not isinstance(obj, h5py.Dataset):
                raise InputError(
                    f"{member}: expected datasets at the root of the file, got a "
                    f"{type(obj).__name__.lower()}"
                )
            entries[key] = _hdf5_entry(obj, member)
    except BaseException:
        f.close()
        raise
    return Container(label, str(path), entries, [f.close])


def _hdf5_entry(ds: Any, label: str) -> Entry:
    import h5py

    if h5py.check_string_dtype(ds.dtype) is not None:

        def strings() -> np.ndarray:
            return np.asarray(ds.asstr()[()], dtype=str)

        return Entry(label, tuple(ds.shape), np.dtype("U1"), lambda: as_source(strings()), strings)

    def array() -> np.ndarray:
        try:
            return np.asarray(ds[()])
        except OSError as e:
            raise InputError(
                f"{label}: expected a readable dataset, got a corrupt one ({e})"
            ) from None

    # Row blocks are read straight from the dataset: memory stays bounded.
    return Entry(
        label,
        tuple(ds.shape),
        np.dtype(ds.dtype),
        lambda: ArraySource(ds),
        array,
        low_precision=ds.dtype == np.float16,
    )
