"""The feature store on disk: Arrow IPC (stream format) shards per split, written in bounded memory.

Stream columns are ``datasets``' ``Array2D``/``Array3D`` extension types (nested lists) and the
schema carries the Hugging Face feature metadata, so ``datasets`` decodes the arrays (a shard is
also what ``datasets.Dataset.from_file`` reads). Arrays are built from one flat float buffer per
record batch (``pa.ListArray.from_arrays`` with offsets), never from Python lists.

Why Arrow IPC and not Parquet: an uncompressed IPC file is the Arrow buffers themselves, so
writing is a copy of them and reading is a memory map (no decoding: a row is a view into the page
cache, :mod:`.arrowview`); Parquet had to encode and decode repetition/definition levels for every
float of a nested list (the 0.2 store's build and ``--crops all`` load costs). I3D/VGGish floats
do not compress (lz4/snappy saved < 0.1%, zstd 7.5% at twice the write time), so nothing is lost.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pyarrow as pa

from var_bench.errors import NotBuiltError
from var_bench.features.manifest import SHARD_FILE, FeatureManifest

#: Default bytes of array data buffered before a row group is written.
ROW_GROUP_BYTES = 8 << 20
#: Default bytes of array data per shard before the next shard starts.
SHARD_BYTES = 1 << 30
PART_SUFFIX = ".part"


def _hf_list(inner):
    import datasets

    return getattr(datasets, "List", datasets.Sequence)(inner)  # datasets >= 4 names it List


def stored_crops(stream_crops: dict[str, int | None]) -> dict[str, int]:
    """stream -> C for the streams a ``--crops all`` split stores as ``[T, C, D]``: C > 1 and not
    a query stream (captions, text embeddings). The others (one crop, audio, text) stay ``[T, D]``.

    >>> stored_crops({"rgb": 5, "clip": 10, "audio": None, "text_emb": 1})
    {'rgb': 5, 'clip': 10}
    """
    from var_bench.features.streams import query_streams

    query = query_streams()
    return {s: int(c) for s, c in stream_crops.items() if c and c > 1 and s not in query}


def store_features(streams: dict[str, int], dtype: str, crops_all: int | dict[str, int] | None):
    """The ``datasets.Features`` of a store: ``streams`` maps stream -> D; ``crops_all`` is C (or
    stream -> C) when crops are stored (``[T, C, D]``), else None. Streams without crops (C = 1,
    audio, captions) stay ``[T, D]`` (:func:`stored_crops`)."""
    import datasets

    per = (
        stored_crops(crops_all if isinstance(crops_all, dict) else {s: crops_all for s in streams})
        if crops_all
        else {}
    )
    cols: dict = {"video_id": datasets.Value("string")}
    for s, d in streams.items():
        c = per.get(s)
        cols[s] = (
            datasets.Array3D(shape=(None, c, d), dtype=dtype)
            if c
            else datasets.Array2D(shape=(None, d), dtype=dtype)
        )
    cols["num_snippets"] = datasets.Value("int32")
    for s in streams:
        cols[f"{s}_len"] = datasets.Value("int32")
    cols["video_label"] = datasets.Value("int8")
    cols["snippet_labels"] = _hf_list(datasets.Value("int8"))
    return datasets.Features(cols)


def store_schema(features) -> pa.Schema:
    """Arrow schema of ``features``: ``datasets``' ArrayXD extension types (written to Parquet as
    nested lists plus the extension name, so pyarrow alone reads plain lists) and the
    ``huggingface`` feature metadata, so ``datasets`` decodes the arrays."""
    return features.arrow_schema


def nested_array(arrays: Sequence[np.ndarray], value_type: pa.DataType) -> pa.Array:
    """``list<list<...<value>>>`` from equal-trailing-shape arrays ``[T_i, *inner]``: one flat
    buffer, int32 offsets per nesting level (row i holds ``arrays[i]``).

    >>> arr = nested_array([np.zeros((2, 3)), np.ones((1, 3))], pa.float32())
    >>> arr.type, arr.to_pylist()[1]
    (ListType(list<item: list<item: float>>), [[1.0, 1.0, 1.0]])
    """
    inner_shape = arrays[0].shape[1:]
    flat = (
        arrays[0].reshape(-1)
        if len(arrays) == 1
        else np.concatenate([a.reshape(-1) for a in arrays])
    )
    values: pa.Array = pa.array(flat, type=value_type)
    n_leading = sum(a.shape[0] for a in arrays)
    # Innermost level first: fixed sizes, then the per-row T offsets.
    count = n_leading * int(np.prod(inner_shape, dtype=np.int64))
    for size in reversed(inner_shape):
        count //= size
        values = pa.ListArray.from_arrays(
            pa.array(np.arange(count + 1, dtype=np.int64) * size, type=pa.int32()), values
        )
    offsets = np.zeros(len(arrays) + 1, dtype=np.int32)
    np.cumsum([a.shape[0] for a in arrays], out=offsets[1:])
    return pa.ListArray.from_arrays(pa.array(offsets), values)


def labels_array(labels: Sequence[np.ndarray | None]) -> pa.Array:
    """``list<int8>`` with nulls where a row has no labels."""
    lens = np.array([0 if x is None else len(x) for x in labels], dtype=np.int32)
    offsets = np.zeros(len(labels) + 1, dtype=np.int32)
    np.cumsum(lens, out=offsets[1:])
    present = [x for x in labels if x is not None]
    values = np.concatenate(present).astype(np.int8) if present else np.zeros(0, np.int8)
    mask = pa.array([x is None for x in labels], type=pa.bool_())
    return pa.ListArray.from_arrays(pa.array(offsets), pa.array(values, type=pa.int8()), mask=mask)


def rows_table(rows: list[dict], schema: pa.Schema) -> pa.Table:
    """A table of ``rows`` (dicts: video_id, stream arrays, ints, snippet_labels or None)."""
    cols = []
    for f in schema:
        vals = [r[f.name] for r in rows]
        if f.name == "video_id":
            cols.append(pa.array(vals, type=pa.string()))
        elif f.name == "snippet_labels":
            cols.append(labels_array(vals))
        elif isinstance(f.type, pa.ExtensionType):
            value_type = f.type.storage_type
            while pa.types.is_list(value_type):
                value_type = value_type.value_type
            cols.append(pa.ExtensionArray.from_storage(f.type, nested_array(vals, value_type)))
        else:
            cols.append(pa.array(np.asarray(vals), type=f.type))
    return pa.Table.from_arrays(cols, schema=schema)


def row_bytes(row: dict) -> int:
    """Bytes of a row's arrays (what the row-group and shard budgets count)."""
    return sum(v.nbytes for v in row.values() if isinstance(v, np.ndarray))


class ShardWriter:
    """Write one split's rows as Arrow IPC shards ``data/<split>/part-NNNNN.arrow`` under
    ``out_dir``: rows are buffered up to ``row_group_bytes`` (array bytes) then written as one
    record batch; a shard is closed once it holds ``shard_bytes``. Each shard is written as
    ``*.arrow.part`` and renamed when complete; ``on_shard(relative path, rows)`` is called
    after each rename (the build's resume journal). ``start_index``: number of the first shard.
    """

    def __init__(
        self,
        out_dir: Path,
        split: str,
        schema: pa.Schema,
        row_group_bytes: int = ROW_GROUP_BYTES,
        shard_bytes: int = SHARD_BYTES,
        *,
        start_index: int = 0,
        on_shard: Callable[[str, int], None] | None = None,
    ) -> None:
        self.out_dir, self.split, self.schema = Path(out_dir), split, schema
        self.row_group_bytes, self.shard_bytes = row_group_bytes, shard_bytes
        self.on_shard = on_shard
        self._index = start_index
        self._buffer: list[dict] = []
        self._buffered = 0
        self._writer: pa.ipc.RecordBatchStreamWriter | None = None
        self._sink: pa.OSFile | None = None
        self._shard_bytes = 0
        self._shard_rows = 0
        self._written: list[str] = []

    @property
    def _rel(self) -> str:
        return SHARD_FILE.format(split=self.split, index=self._index)

    def write(self, rows: list[dict]) -> None:
        """Buffer ``rows``; write a row group (and close the shard) when the budgets are reached."""
        for r in rows:
            self._buffer.append(r)
            self._buffered += row_bytes(r)
        if self._buffered >= self.row_group_bytes:
            self._flush()
            if self._shard_bytes >= self.shard_bytes:
                self._close_shard()

    def _flush(self) -> None:
        if not self._buffer:
            return
        if self._writer is None:
            self._open()
        self._writer.write_table(
            rows_table(self._buffer, self.schema), max_chunksize=len(self._buffer)
        )
        self._shard_bytes += self._buffered
        self._shard_rows += len(self._buffer)
        self._buffer, self._buffered = [], 0

    def _close_shard(self) -> None:
        self._writer.close()
        os.fsync(self._sink.fileno())  # on disk before it gets its name
        self._sink.close()
        self._writer = self._sink = None
        part = self.out_dir / (self._rel + PART_SUFFIX)
        os.replace(part, self.out_dir / self._rel)
        self._written.append(self._rel)
        rows, self._shard_rows, self._shard_bytes = self._shard_rows, 0, 0
        self._index += 1
        if self.on_shard is not None:
            self.on_shard(self._written[-1], rows)

    def _open(self) -> None:
        path = self.out_dir / (self._rel + PART_SUFFIX)
        path.parent.mkdir(parents=True, exist_ok=True)
        self._sink = pa.OSFile(str(path), "wb")
        self._writer = pa.ipc.new_stream(self._sink, self.schema)

    def close(self) -> list[str]:
        """Flush, close the last shard and return the relative paths of the shards this writer
        completed. A split with no shard at all gets one empty shard (it carries the schema)."""
        self._flush()
        if self._writer is None and self._index == 0:
            self._open()
        if self._writer is not None:
            self._close_shard()
        return list(self._written)

    def abort(self) -> None:
        """Close and delete the open ``.part`` file (a partial shard is never resumed; on a full
        disk its bytes are what the user needs back)."""
        if self._writer is not None:
            for step in (self._writer.close, self._sink.close):
                try:
                    step()
                except OSError:  # e.g. ENOSPC writing the end marker: the file goes anyway
                    pass
            self._writer = self._sink = None
            (self.out_dir / (self._rel + PART_SUFFIX)).unlink(missing_ok=True)


def read_shard(path: Path, columns: list[str] | None = None) -> pa.Table:
    """One shard, memory-mapped: its buffers are views of the file's pages (no copy, no decode)."""
    # The map stays open as long as the table's buffers reference it (closing it would unmap them).
    table = pa.ipc.open_stream(pa.memory_map(str(path), "r")).read_all()
    return table.select(columns) if columns is not None else table


def read_split(folder: Path, split: str, columns: list[str] | None = None) -> pa.Table:
    """One split of the store in ``folder`` as an Arrow table (shards concatenated in order,
    memory-mapped; the ``huggingface`` feature metadata stays in the schema)."""
    folder = Path(folder)
    m = FeatureManifest.read(folder)
    if m is None:
        raise NotBuiltError(
            f"expected a feature store (manifest.json) in {folder}, found none; "
            f"run 'var-bench build BENCHMARK --features DIR'"
        )
    if split not in m.shards:
        raise NotBuiltError(
            f"feature store {folder}: expected split {split!r}, it holds {', '.join(m.shards)}"
        )
    tables = [read_shard(folder / rel, columns) for rel in m.shards[split]]
    return pa.concat_tables(tables) if len(tables) > 1 else tables[0]
