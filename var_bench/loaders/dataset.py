"""A torch ``Dataset`` over a feature-joined ``datasets.Dataset`` (``load_dataset(features=True)``).

``ds[i]`` is a dict: ``index`` (int, the row), ``video_id``, per stream present (``rgb``, ``flow``,
``audio``) a float32 array ``[T, D]``, ``video_label`` (float, 1 anomalous), ``snippet_labels``
(int8 ``[T]``, -1 filled where the split has no temporal annotation), ``class`` and, for a text
query benchmark, ``text`` (the caption column its spec names, ``text_column``); for a benchmark
whose queries are not its videos each row is one (query, positive video) pair, with its
``query_id``.

Arrays are read straight from the Arrow buffers (:mod:`.arrowview`): a float32 store gives
read-only views with no copy; float16 stores are cast to float32. A store built with
``--crops all`` (``[T, C, D]``) is reduced to one crop per item by ``crop``: ``"random"`` (a crop
drawn per item: training; every stream of the item with the same crop count takes the SAME crop,
so RGB and Flow of a snippet come from one spatial crop), ``"center"`` (crop 0) or ``"mean"``
(mean over crops).
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np
import pyarrow as pa
import torch

from var_bench.benchmarks import get_benchmark
from var_bench.errors import InputError
from var_bench.features.arrowview import ColumnView, list_depth
from var_bench.features.streams import known_streams
from var_bench.loaders.rng import LazyRng
from var_bench.loaders.sampling import CROPS


def _table_and_rows(dataset: Any) -> tuple[pa.Table, np.ndarray | None]:
    """The Arrow table behind ``dataset`` and its row mapping (``select``/``shuffle`` indices)."""
    if isinstance(dataset, pa.Table):
        return dataset, None
    data = getattr(dataset, "data", None)
    table = getattr(data, "table", None)
    if not isinstance(table, pa.Table):
        raise InputError(
            f"FeatureDataset: expected a datasets.Dataset or pyarrow Table, got "
            f"{type(dataset).__name__}"
        )
    # datasets keeps select()/shuffle() as an indices table over the unchanged data: follow it
    # rather than flatten_indices(), which would copy every feature array.
    indices = getattr(dataset, "_indices", None)
    rows = None
    if indices is not None:
        idx_table = getattr(indices, "table", indices)
        rows = idx_table.column(0).to_numpy().astype(np.int64)
    return table, rows


class FeatureDataset(torch.utils.data.Dataset):
    """Rows of a feature-joined dataset as dicts of numpy arrays (see the module docstring).

    ``streams``: the stream columns to return (default: all present). ``crop``: how a
    ``[T, C, D]`` store becomes ``[T, D]``. ``seed``: for ``crop="random"`` (per DataLoader worker,
    see :mod:`.rng`).
    """

    def __init__(
        self,
        dataset: Any,
        *,
        streams: tuple[str, ...] | list[str] | None = None,
        crop: str = "mean",
        seed: int | None = None,
        text_column: str | None = None,
    ) -> None:
        table, self._rows = _table_and_rows(dataset)
        # Every store stream has a ``<stream>_len`` column: the vocabulary is open (rgb, flow,
        # clip, text_emb, audio, user names), so that, not a fixed list, says what is a stream.
        cols = table.column_names
        present = [s for s in cols if f"{s}_len" in cols] or [
            s for s in known_streams() if s in cols
        ]
        if streams is None:
            streams = present
        unknown = [s for s in streams if s not in present]
        if unknown or not streams:
            raise InputError(
                f"FeatureDataset: expected feature streams among "
                f"{', '.join(present) or 'none'} (load_dataset(..., features=True)), "
                f"asked for {', '.join(streams) or 'none'}"
            )
        if crop not in CROPS:
            raise InputError(
                f"FeatureDataset: crop expected one of {', '.join(CROPS)}, got {crop!r}"
            )
        if "video_id" not in table.column_names:
            raise InputError("FeatureDataset: expected a video_id column, got none")
        self.streams: tuple[str, ...] = tuple(streams)
        self.crop = crop
        self._rng = LazyRng(seed)
        self._views = {}
        for s in self.streams:
            depth = list_depth(table.column(s).type)
            if depth not in (2, 3):
                raise InputError(
                    f"FeatureDataset: expected stream {s} as [T, D] or [T, C, D] "
                    f"arrays, got type {table.column(s).type}"
                )
            self._views[s] = ColumnView(table.column(s), depth, s)
        self._labels = (
            ColumnView(table.column("snippet_labels"), 1, "snippet_labels")
            if "snippet_labels" in table.column_names
            else None
        )
        self._ids = table.column("video_id").to_pylist()
        label_col = "video_label" if "video_label" in table.column_names else "anomalous"
        self._video_label = (
            np.asarray(table.column(label_col).to_pylist(), np.float32)
            if label_col in table.column_names
            else None
        )
        self._class = table.column("class").to_pylist() if "class" in table.column_names else None
        self._text = (
            table.column(text_column).to_pylist()
            if text_column is not None and text_column in table.column_names
            else None
        )
        # A pair row of a table gold: the query it is of (several rows may share one video).
        self._query = (
            table.column("query_id").to_pylist() if "query_id" in table.column_names else None
        )
        self._n = len(self._rows) if self._rows is not None else table.num_rows

    @classmethod
    def from_benchmark(
        cls, benchmark: str, split: str, home: str | os.PathLike | None = None, **kw: Any
    ) -> FeatureDataset:
        """``FeatureDataset(load_dataset(benchmark, split, features=True, home=home), **kw)``.

        Never downloads: features need a built metadata dataset and a feature store already
        (``var-bench download``, then ``var-bench build``); the error names the missing step.
        """
        from var_bench.loaders.hf import load_dataset

        spec = get_benchmark(benchmark)
        kw.setdefault("text_column", spec.text_column)
        return cls(load_dataset(spec, split, features=True, home=home, download=False), **kw)

    @property
    def dims(self) -> dict[str, int]:
        """Feature width D of each stream (e.g. ``{"rgb": 1024}``)."""
        return {s: (v.chunks[0].inner[-1] if v.chunks else 0) for s, v in self._views.items()}

    def __len__(self) -> int:
        return self._n

    def _stream(self, s: str, row: int, drawn: dict[int, int]) -> np.ndarray:
        """Stream ``s`` of ``row`` as ``[T, D]``; ``drawn``: the item's random crop index per crop
        count, shared by its streams (filled on first use)."""
        a = self._views[s][row]
        if a.ndim == 3:  # [T, C, D]: one crop per item
            if self.crop == "center":
                a = a[:, 0]
            elif self.crop == "random":
                n_crops = a.shape[1]
                if n_crops not in drawn:
                    drawn[n_crops] = int(self._rng.get().integers(n_crops))
                a = a[:, drawn[n_crops]]
            else:
                return a.mean(axis=1, dtype=np.float32)
        return a if a.dtype == np.float32 else a.astype(np.float32)

    def __getitem__(self, i: int) -> dict[str, Any]:
        i = int(i)
        if i < -self._n or i >= self._n:
            raise IndexError(f"FeatureDataset index {i} out of range for {self._n} rows")
        i %= self._n
        row = int(self._rows[i]) if self._rows is not None else i
        item: dict[str, Any] = {"index": i, "video_id": self._ids[row]}
        drawn: dict[int, int] = {}
        for s in self.streams:
            item[s] = self._stream(s, row, drawn)
        T = item[self.streams[0]].shape[0]
        labels = self._labels[row] if self._labels is not None else None
        item["snippet_labels"] = (
            np.full(T, -1, np.int8) if labels is None else labels.astype(np.int8, copy=False)
        )
        item["video_label"] = (
            float(self._video_label[row]) if self._video_label is not None else 0.0
        )
        if self._class is not None:
            item["class"] = self._class[row]
        if self._text is not None:
            item["text"] = self._text[row]
        if self._query is not None:
            item["query_id"] = self._query[row]
        return item
