"""Zero-copy numpy views of the rows of an Arrow column of nested lists (``[T, D]``, ``[T, C, D]``).

A feature column (``datasets`` ``Array2D``/``Array3D`` with a dynamic first axis) is stored as
``list<list<float>>`` (or ``list<list<list<float>>>``). Its values are one flat buffer per chunk:
row r of a chunk is ``values[bounds[r]:bounds[r+1]]`` reshaped to ``[-1, *inner]``, where
``bounds`` composes the list offsets of every level (outer offsets index the next level's
offsets, and so on down to the values). Building the view reads only the offsets; a row is then a
slice of the memory-mapped / in-memory Arrow buffer: no Python lists, no copy.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from var_bench.errors import DataError


def _offsets(arr: pa.Array) -> np.ndarray:
    """Offsets (len + 1, into ``arr.values``) of a list-like array, honouring its slice offset."""
    if isinstance(arr, pa.FixedSizeListArray):
        size = arr.type.list_size
        return (np.arange(len(arr) + 1, dtype=np.int64) + arr.offset) * size
    return arr.offsets.to_numpy().astype(np.int64, copy=False)


def list_depth(t: pa.DataType) -> int:
    """Number of nested list levels of an Arrow type (extension types: of their storage)."""
    if isinstance(t, pa.ExtensionType):
        t = t.storage_type
    depth = 0
    while pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_fixed_size_list(t):
        depth, t = depth + 1, t.value_type
    return depth


def _is_list(arr: pa.Array) -> bool:
    return isinstance(arr, (pa.ListArray, pa.LargeListArray, pa.FixedSizeListArray))


@dataclass(frozen=True)
class ChunkView:
    """One chunk: flat values, row bounds into them, and the fixed shape of one snippet."""

    values: np.ndarray
    bounds: np.ndarray
    inner: tuple[int, ...]
    valid: np.ndarray | None  # per-row validity (None: no nulls)

    def row(self, r: int) -> np.ndarray:
        lo, hi = self.bounds[r], self.bounds[r + 1]
        return self.values[lo:hi].reshape((-1,) + self.inner)


def chunk_view(chunk: pa.Array, depth: int, name: str = "column") -> ChunkView:
    """The :class:`ChunkView` of a chunk holding ``depth`` nested list levels over numbers.

    Inner levels must have a uniform length (the D, or C and D, of every snippet); a ragged inner
    level raises :class:`DataError` naming the column.
    """
    if isinstance(chunk, pa.ExtensionArray):
        chunk = chunk.storage
    valid = None
    if chunk.null_count:
        valid = chunk.is_valid().to_numpy(zero_copy_only=False)
    level = chunk
    bounds = None
    inner: list[int] = []
    for d in range(depth):
        if not _is_list(level):
            raise DataError(
                f"{name}: expected {depth} nested list levels, found {d} (type {chunk.type})"
            )
        off = _offsets(level)
        if bounds is None:
            bounds = off
        else:
            used = off[bounds[0] : bounds[-1] + 1]
            widths = np.diff(used)
            if widths.size and (widths != widths[0]).any():
                raise DataError(
                    f"{name}: expected every snippet to have the same shape, found "
                    f"ragged level {d} (lengths {widths.min()}..{widths.max()})"
                )
            inner.append(int(widths[0]) if widths.size else 0)
            bounds = off[bounds]
        level = level.values
    if _is_list(level) or level.null_count:
        raise DataError(
            f"{name}: expected {depth} list levels over non-null numbers, got {chunk.type}"
        )
    values = level.to_numpy(zero_copy_only=True)
    return ChunkView(values, bounds, tuple(inner), valid)


class ColumnView:
    """Row access over all chunks of a column: ``view[i]`` -> ``np.ndarray`` (a view) or None.

    >>> col = pa.chunked_array(
    ...     [pa.array([[[1.0, 2.0], [3.0, 4.0]], None]), pa.array([[[5.0, 6.0]]])]
    ... )
    >>> view = ColumnView(col, list_depth(col.type))
    >>> len(view), view[0].tolist(), view[1], view[2].shape
    (3, [[1.0, 2.0], [3.0, 4.0]], None, (1, 2))
    """

    def __init__(self, column: pa.ChunkedArray | pa.Array, depth: int, name: str = "column"):
        chunks = column.chunks if isinstance(column, pa.ChunkedArray) else [column]
        chunks = [c for c in chunks if len(c)]
        self.chunks = [chunk_view(c, depth, name) for c in chunks]
        self.starts = np.cumsum([0] + [len(c) for c in chunks])

    def __len__(self) -> int:
        return int(self.starts[-1])

    def __getitem__(self, i: int) -> np.ndarray | None:
        # One chunk (a memory-mapped shard of one record batch) is the common case: no search.
        c = 0 if len(self.chunks) == 1 else int(np.searchsorted(self.starts, i, side="right")) - 1
        view = self.chunks[c]
        r = i - int(self.starts[c])
        if view.valid is not None and not view.valid[r]:
            return None
        return view.row(r)
