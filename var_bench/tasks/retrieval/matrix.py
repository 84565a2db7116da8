"""Row-block access to a score matrix, so scoring never needs the whole matrix in memory.

A :class:`MatrixSource` gives the shape and dtype of a 2-D matrix S, its diagonal, and copies of
consecutive row blocks. Sources exist for arrays in memory (NumPy arrays, ``np.memmap``, h5py
datasets, anything sliceable) and for ``.npy`` files read block by block with ``readinto`` into one
reusable buffer: the page cache holds the file, the process holds one block.

A Fortran-ordered file stores S.T row by row; its source sets ``transposed = True`` and yields rows
of S.T. The scoring kernel swaps the two directions back, so no transpose is ever materialised.
"""

from __future__ import annotations

import mmap
import os
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import numpy as np

from var_bench.errors import InputError


@runtime_checkable
class MatrixSource(Protocol):
    """What the scoring kernel reads. ``shape``/``dtype`` describe the stored matrix M, which is
    S itself, or S.T when ``transposed`` is True."""

    shape: tuple[int, int]
    dtype: np.dtype
    transposed: bool

    def diagonal(self) -> np.ndarray:
        """M[i, i] for i < min(shape), as a 1-D array of ``dtype``."""
        ...

    def read_rows(self, start: int, stop: int, out: np.ndarray | None = None) -> np.ndarray:
        """Rows ``start:stop`` of M as a C-contiguous array of ``dtype``.

        ``out`` is a scratch buffer the source may fill and return; a source that can hand out
        rows without copying (an array in memory) returns a view instead. Callers always use the
        returned array, and must not write to it.
        """
        ...


def _array_dtype(array: Any) -> np.dtype:
    try:
        return np.dtype(array.dtype)
    except TypeError:  # torch dtypes are not NumPy dtypes: ask an empty slice instead
        return np.asarray(array[:0]).dtype


@dataclass
class ArraySource:
    """A source over any 2-D sliceable array: ndarray, np.memmap, h5py.Dataset, torch tensor
    view."""

    array: Any
    transposed: bool = False

    def __post_init__(self) -> None:
        self.shape = tuple(int(n) for n in self.array.shape)
        self.dtype = _array_dtype(self.array)

    def diagonal(self) -> np.ndarray:
        n = min(self.shape)
        if isinstance(self.array, np.ndarray):
            return np.ascontiguousarray(np.diagonal(self.array)[:n])
        if callable(getattr(self.array, "diagonal", None)):  # torch tensors
            return np.ascontiguousarray(np.asarray(self.array.diagonal())[:n], dtype=self.dtype)
        # h5py and friends: one small read per row keeps memory bounded.
        return np.array([self.array[i, i] for i in range(n)], dtype=self.dtype)

    def read_rows(self, start: int, stop: int, out: np.ndarray | None = None) -> np.ndarray:
        if isinstance(self.array, np.ndarray):
            # A row slice of a C-ordered array is already contiguous: no copy at all.
            return np.ascontiguousarray(self.array[start:stop])
        block = np.ascontiguousarray(np.asarray(self.array[start:stop]), dtype=self.dtype)
        if out is not None and out.shape == block.shape and out.dtype == block.dtype:
            out[...] = block
            return out
        return block


@dataclass
class NpyFileSource:
    """Rows of the matrix stored in a ``.npy`` file (or any file) from byte ``offset`` on.

    ``fortran_order`` files hold S.T in C order, so they are read as ``transposed`` sources.
    Reads go straight into the caller's buffer (``readinto``); several threads may read one source.
    """

    path: str | os.PathLike
    offset: int
    shape: tuple[int, int]
    dtype: np.dtype
    fortran_order: bool = False

    def __post_init__(self) -> None:
        self.dtype = np.dtype(self.dtype)
        self.transposed = bool(self.fortran_order)
        if self.transposed:
            self.shape = (int(self.shape[1]), int(self.shape[0]))
        else:
            self.shape = (int(self.shape[0]), int(self.shape[1]))

    def _row_bytes(self) -> int:
        return self.shape[1] * self.dtype.itemsize

    def _read_exact(self, f: Any, view: memoryview, pos: int) -> None:
        f.seek(pos)
        got = 0
        while got < len(view):
            n = f.readinto(view[got:])
            if not n:
                row = (pos + got - self.offset) // self._row_bytes()
                raise InputError(
                    f"{os.fspath(self.path)}: expected {self.shape[0]} rows of {self._row_bytes()} "
                    f"bytes, the file ends inside row {row} (truncated?)"
                )
            got += n

    def diagonal(self) -> np.ndarray:
        n = min(self.shape)
        out = np.empty(n, dtype=self.dtype)
        item = self.dtype.itemsize
        step = self._row_bytes() + item  # from M[i, i] to M[i+1, i+1]
        raw = memoryview(out).cast("B")
        with open(self.path, "rb", buffering=0) as f:
            for i in range(n):
                self._read_exact(f, raw[i * item : (i + 1) * item], self.offset + i * step)
        return out

    def read_rows(self, start: int, stop: int, out: np.ndarray | None = None) -> np.ndarray:
        rows = stop - start
        if (
            out is None
            or out.shape != (rows, self.shape[1])
            or out.dtype != self.dtype
            or not out.flags.c_contiguous
        ):
            out = np.empty((rows, self.shape[1]), dtype=self.dtype)
        # A file object per call: threads reading blocks of one source never share a position.
        with open(self.path, "rb", buffering=0) as f:
            self._read_exact(f, memoryview(out).cast("B"), self.offset + start * self._row_bytes())
        return out


def as_source(matrix: Any) -> MatrixSource:
    """A :class:`MatrixSource` for ``matrix``: sources pass through; an ``np.memmap`` of a ``.npy``
    or raw file is re-read from its file block by block (bounded memory); other arrays are wrapped
    (nested lists and other array-likes without a ``shape`` are converted with ``np.asarray``)."""
    if isinstance(matrix, MatrixSource):
        return matrix
    # Only a root memmap (its base is the mmap itself) has an ``offset`` that locates element 0.
    if (
        isinstance(matrix, np.memmap)
        and isinstance(matrix.base, mmap.mmap)
        and matrix.ndim == 2
        and matrix.filename
        and (matrix.flags.c_contiguous or matrix.flags.f_contiguous)
    ):
        return NpyFileSource(
            matrix.filename,
            int(matrix.offset),
            matrix.shape,
            matrix.dtype,
            fortran_order=not matrix.flags.c_contiguous,
        )
    if not (hasattr(matrix, "shape") and hasattr(matrix, "dtype")):
        matrix = np.asarray(matrix)
    if (
        isinstance(matrix, np.ndarray)
        and matrix.ndim == 2
        and not matrix.flags.c_contiguous
        and matrix.flags.f_contiguous
    ):
        return ArraySource(matrix.T, transposed=True)
    return ArraySource(matrix)
