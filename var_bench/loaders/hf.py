"""``load_dataset``: a built benchmark as a Hugging Face ``Dataset``, optionally joined with its
feature store.

The loader sits above both the data stage (built metadata tables) and the feature store; neither
of those imports it.
"""

from __future__ import annotations

import hashlib
import json
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa

from var_bench.benchmarks import SPLITS, BenchmarkSpec, get_benchmark
from var_bench.data.assembly.manifest import POSITIVES, Manifest
from var_bench.data.paths import features_dir
from var_bench.data.prepare import (
    PathLike,
    ensure_built,
    read_split_table,
    split_names,
    verified_ids,
)
from var_bench.errors import InputError, NotBuiltError, VarBenchWarning

if TYPE_CHECKING:  # `datasets` is imported only when needed (slow import)
    import datasets


def _videos_or_rows(folder: Path, split: str, videos: bool) -> pa.Table:
    """The split's video table (a benchmark of sentences, ``videos``) or its rows."""
    m = Manifest.read(folder) if videos else None
    if m is not None and m.videos_sha256 is not None:
        import pyarrow.parquet as pq

        from var_bench.data.assembly.manifest import VIDEOS_FILE

        return pq.read_table(folder / VIDEOS_FILE.format(split=split))
    return read_split_table(folder, split)


def _feature_reader(spec: BenchmarkSpec, folder: Path, home: PathLike | None, videos: bool = False):
    """``read(folder, split)`` giving the metadata table joined with the feature store's columns,
    and ``fingerprint(split)`` naming that table for ``datasets`` (from the store's manifest).

    The store is the video collection's (:func:`~var_bench.data.paths.features_dir`). Built from
    this very metadata (this benchmark, the same id lists), its splits are read as they are: the
    canonical order, no copy, the stored labels. Built for another benchmark over the same videos
    (or from other metadata), each row is found by ``video_id`` in whichever split holds it, and
    ``video_label`` / ``snippet_labels`` are recomputed from this benchmark's metadata by the
    build's rule (:func:`_own_labels`); a video the store lacks is an InputError naming the build.
    """
    from var_bench.features.manifest import FeatureManifest
    from var_bench.features.store import read_split

    store = features_dir(spec, home)
    fm = FeatureManifest.read(store)
    if fm is None:
        raise NotBuiltError(
            f"{spec.name}: expected built features in {store}, found none; run "
            f"'var-bench build {spec.name} --features DIR'"
        )
    meta = Manifest.read(folder)
    own = fm.benchmark == spec.name and meta is not None and fm.ids_sha256 == dict(meta.ids_sha256)
    rows = _StoreRows(store, fm)

    def read(folder: Path, split: str) -> pa.Table:
        table = _pairs(_videos_or_rows(folder, split, videos))
        if own:
            return _join_features(spec, split, table, read_split(store, split))
        feats = rows.take(spec, split, table.column("video_id").to_pylist())
        return _join_features(spec, split, table, _own_labels(table, feats, fm.snippet_frames))

    def fingerprint(split: str) -> str:
        # Without one, datasets hashes the whole table (it pickles every feature buffer): 0.25 s
        # per 50 MB. The manifest names the build; the metadata checksums name the rows.
        key = [
            spec.name,
            spec.version,
            split,
            videos,
            fm.built_at,
            fm.shards,
            fm.ids_sha256,
            meta.ids_sha256 if meta is not None else None,
        ]
        return hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:32]

    return read, fingerprint


def _pairs(table: pa.Table) -> pa.Table:
    """A query table (``query_id``, positives in ``video_ids``: a table gold) as one row per
    (query, positive video) pair, the video in ``video_id``: what features join and models train
    on (several queries of one video are several rows). A video table is returned as it is."""
    if POSITIVES not in table.column_names or "video_id" in table.column_names:
        return table
    import pyarrow.compute as pc

    lists = table.column(POSITIVES).combine_chunks()
    parents = pc.list_parent_indices(lists)
    pairs = table.take(parents)
    return pairs.append_column("video_id", pc.list_flatten(lists))


class _StoreRows:
    """Rows of a feature store by ``video_id``, whichever split holds them (its splits are read,
    memory-mapped, on first use)."""

    def __init__(self, store: Path, manifest) -> None:
        self.store, self.manifest = store, manifest
        self.parts: dict[str, pa.Table] = {}
        self.where: dict[str, tuple[str, int]] = {}  # video id -> (store split, row)

    def take(self, spec: BenchmarkSpec, split: str, ids: list[str]) -> pa.Table:
        """The rows of ``ids`` in their order (a copy of those rows); a video the store lacks,
        or videos from store splits of different crop modes, are one InputError line."""
        from var_bench.features.store import read_split

        if not self.parts:
            for s in self.manifest.shards:
                self.parts[s] = read_split(self.store, s)
                self.where.update(
                    (v, (s, i)) for i, v in enumerate(self.parts[s].column("video_id").to_pylist())
                )
        fm = self.manifest
        missing = [v for v in ids if v not in self.where]
        if missing:
            raise InputError(
                f"{spec.name} {split}: {len(missing)} of {len(ids)} videos are not in "
                f"the feature store {self.store} (built for {fm.benchmark}), e.g. "
                f"{missing[0]}; build it for {spec.name}: 'var-bench build "
                f"{spec.name} --features DIR'"
            )
        used = list(dict.fromkeys(self.where[v][0] for v in ids)) or list(self.parts)[:1]
        if len({fm.crop_mode(s) == "all" for s in used}) > 1:
            raise InputError(
                f"{spec.name} {split}: expected its videos' features in one shape, "
                f"they lie in store splits of crop modes "
                f"{', '.join(f'{s} {fm.crop_mode(s)}' for s in used)} ({self.store}); "
                f"build it for {spec.name}: 'var-bench build {spec.name} --features DIR'"
            )
        start = dict(zip(used, np.cumsum([0] + [self.parts[s].num_rows for s in used[:-1]])))
        table = (
            pa.concat_tables([self.parts[s] for s in used])
            if len(used) > 1
            else self.parts[used[0]]
        )
        return table.take(
            pa.array([int(start[s]) + i for s, i in map(self.where.get, ids)], pa.int64())
        )


def _own_labels(meta: pa.Table, feats: pa.Table, snippet_frames: int) -> pa.Table:
    """``feats`` (rows in ``meta``'s order) with ``video_label`` and ``snippet_labels`` made from
    ``meta`` by the build's rule: ``anomalous`` -> 1/0; labels of the ``segments`` over each row's
    T snippets of ``snippet_frames`` frames, null where a row has none. A column ``meta`` lacks
    keeps the store's."""
    from var_bench.features.labels import snippet_labels
    from var_bench.features.store import labels_array

    names = meta.column_names
    new = {}
    if "anomalous" in names:
        new["video_label"] = pa.array(np.asarray(meta.column("anomalous").to_pylist(), np.int8))
    if "segments" in names:
        lengths = feats.column("num_snippets").to_pylist()
        new["snippet_labels"] = labels_array(
            [
                None if seg is None else snippet_labels(seg, t, snippet_frames)
                for seg, t in zip(meta.column("segments").to_pylist(), lengths)
            ]
        )
    for name, values in new.items():
        i = feats.schema.get_field_index(name)
        feats = feats.set_column(i, feats.schema.field(i), values.cast(feats.schema.field(i).type))
    return feats


def _join_features(spec: BenchmarkSpec, split: str, meta: pa.Table, feats: pa.Table) -> pa.Table:
    """``meta`` (canonical order) with ``feats``' columns, joined on ``video_id``.

    The store keeps canonical order, so normally no row moves and the feature columns are reused
    as they are (no copy); rows missing from the store are dropped from ``meta`` (with a warning).
    Only a store in another order is reordered (a copy).
    """

    ids = meta.column("video_id").to_pylist()
    fids = feats.column("video_id").to_pylist()
    if ids != fids:
        pos = {v: i for i, v in enumerate(fids)}
        keep = [i for i, v in enumerate(ids) if v in pos]
        if len(keep) < len(ids):
            warnings.warn(
                f"{spec.name} {split}: {len(ids) - len(keep)} of {len(ids)} videos have "
                f"no features in the store (built with --allow-missing); dropped",
                VarBenchWarning,
                stacklevel=4,
            )
            meta = meta.take(keep)
        kept = [ids[i] for i in keep]
        if kept != fids:
            feats = feats.take([pos[v] for v in kept])
    names = meta.column_names + [c for c in feats.column_names if c != "video_id"]
    columns = [meta.column(c) for c in meta.column_names]
    columns += [feats.column(c) for c in names[meta.num_columns :]]
    table = pa.Table.from_arrays(columns, names=names)
    return table.replace_schema_metadata(_merged_metadata(meta.schema, feats.schema, tuple(names)))


_MERGED: dict = {}


def _merged_metadata(meta: pa.Schema, feats: pa.Schema, names: tuple[str, ...]) -> dict:
    """The ``huggingface`` schema metadata of the joined table. Cached by the two schemas:
    ``datasets`` rebuilds Features through deep copies (tens of ms), every load of a split
    would pay it again for the same store."""
    import datasets

    key = (
        meta.to_string(show_schema_metadata=True),
        feats.to_string(show_schema_metadata=True),
        names,
    )
    if key not in _MERGED:
        merged = datasets.Features(
            {
                **datasets.Features.from_arrow_schema(meta),
                **datasets.Features.from_arrow_schema(feats),
            }
        )
        _MERGED[key] = datasets.Features({c: merged[c] for c in names}).arrow_schema.metadata
    return _MERGED[key]


def load_dataset(
    benchmark: str,
    split: str | None = None,
    *,
    home: PathLike | None = None,
    mirror: str | None = None,
    download: bool = True,
    features: bool = False,
    videos: bool = False,
) -> datasets.Dataset | datasets.DatasetDict:
    """A built benchmark as a Hugging Face ``Dataset`` (one split) or ``DatasetDict`` (all).

    Rows are in canonical order. Tables are small and held in memory: nothing is written to the
    Hugging Face cache.

    ``features=True`` adds the columns of the video collection's feature store (``var-bench
    build``): per stream ``rgb``/``flow``/``audio`` an ``Array2D`` ``[T, D]`` (``Array3D``
    ``[T, C, D]`` for a store built with ``--crops all``) with a dynamic first axis, plus
    ``num_snippets``, ``<stream>_len``, ``video_label`` and ``snippet_labels``. Rows are joined on
    ``video_id``; a video absent from the store (built with ``--allow-missing``) is dropped with a
    warning. The feature arrays are not copied: they stay in the Arrow buffers read from the
    store's shards. A store built for another benchmark over the same videos is read by
    ``video_id`` (those rows copied), with this benchmark's labels. For a benchmark whose queries
    are not its videos (``query_id`` rows naming their positives in ``video_ids``), the features
    come as one row per (query, positive video) pair: several captions of one video are several
    training rows.

    Args:
        benchmark: the benchmark's name.
        split: ``"train"``, ``"val"``, ``"test"``, several joined with ``+``, or None for all.
        home, mirror: where the built dataset is (or is built from).
        download: download and build on first use (False: :class:`NotBuiltError` instead).
        features: join the feature store's columns.
        videos: for a benchmark whose queries are not its videos (UCA), the split's video table
            (one row per video: with ``features``, each video's features once, not once per
            sentence) instead of its query rows.

    Returns:
        A ``datasets.Dataset`` (one split) or ``datasets.DatasetDict`` (``split=None``).

    Raises:
        InputError: an unknown benchmark or split. NotBuiltError: nothing built (and
            ``download`` False), or no feature store for ``features=True``.

    Example:
        >>> test = load_dataset("ucfcrime-ar", "test")  # doctest: +SKIP
        >>> test[0]["video_id"], len(test)  # doctest: +SKIP
        ('Abuse028_x264', 290)
    """
    import datasets

    folder = ensure_built(benchmark, home=home, mirror=mirror, download_missing=download)
    for s in SPLITS if split is None else split_names(split):
        verified_ids(folder, s)  # an edited built table is refused, not loaded in a new order
    read, fingerprint = (lambda f, s: _videos_or_rows(f, s, videos)), lambda split: None
    if features:
        read, fingerprint = _feature_reader(get_benchmark(benchmark), folder, home, videos)
    if split is None:
        return datasets.DatasetDict(
            {s: datasets.Dataset(read(folder, s), fingerprint=fingerprint(s)) for s in SPLITS}
        )
    tables = [read(folder, s) for s in split_names(split)]
    return datasets.Dataset(
        pa.concat_tables(tables) if len(tables) > 1 else tables[0], fingerprint=fingerprint(split)
    )
