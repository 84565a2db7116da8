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

import pyarrow as pa

from var_bench.benchmarks import SPLITS, BenchmarkSpec, get_benchmark
from var_bench.data.assembly.manifest import Manifest
from var_bench.data.paths import features_dir
from var_bench.data.prepare import PathLike, ensure_built, read_split_table, split_names, verified_ids
from var_bench.errors import NotBuiltError, VarBenchWarning

if TYPE_CHECKING:  # `datasets` is imported only when needed (slow import)
    import datasets


def _feature_reader(spec: BenchmarkSpec, folder: Path, home: PathLike | None):
    """``read(folder, split)`` giving the metadata table joined with the feature store's columns,
    and ``fingerprint(split)`` naming that table for ``datasets`` (from the store's manifest)."""
    from var_bench.features.manifest import FeatureManifest
    from var_bench.features.store import read_split

    store = features_dir(spec, home)
    fm = FeatureManifest.read(store)
    if fm is None or fm.version != spec.version:
        raise NotBuiltError(
            f"{spec.name}: expected built features in {store}, found none; run "
            f"'var-bench build {spec.name} --features DIR'"
        )
    meta = Manifest.read(folder)
    if meta is not None and any(fm.ids_sha256.get(s) != h for s, h in meta.ids_sha256.items()):
        warnings.warn(f"{spec.name}: the feature store in {store} was built against other "
                      f"metadata (id-list checksums differ); rebuild it with 'var-bench build "
                      f"{spec.name} --features DIR'", VarBenchWarning, stacklevel=3)

    def read(folder: Path, split: str) -> pa.Table:
        return _join_features(spec, split, read_split_table(folder, split), read_split(store, split))

    def fingerprint(split: str) -> str:
        # Without one, datasets hashes the whole table (it pickles every feature buffer): 0.25 s
        # per 50 MB. The manifest names the build; the metadata checksums name the rows.
        key = [spec.name, spec.version, split, fm.built_at, fm.shards, fm.ids_sha256,
               meta.ids_sha256 if meta is not None else None]
        return hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:32]

    return read, fingerprint


def _join_features(spec: BenchmarkSpec, split: str, meta: pa.Table, feats: pa.Table) -> pa.Table:
    """``meta`` (canonical order) with ``feats``' columns, joined on ``video_id``.

    The store keeps canonical order, so normally no row moves and the feature columns are reused
    as they are (no copy); rows missing from the store are dropped from ``meta`` (with a warning).
    Only a store in another order is reordered (a copy).
    """
    import datasets

    ids = meta.column("video_id").to_pylist()
    fids = feats.column("video_id").to_pylist()
    if ids != fids:
        pos = {v: i for i, v in enumerate(fids)}
        keep = [i for i, v in enumerate(ids) if v in pos]
        if len(keep) < len(ids):
            warnings.warn(f"{spec.name} {split}: {len(ids) - len(keep)} of {len(ids)} videos have "
                          f"no features in the store (built with --allow-missing); dropped",
                          VarBenchWarning, stacklevel=4)
            meta = meta.take(keep)
        kept = [ids[i] for i in keep]
        if kept != fids:
            feats = feats.take([pos[v] for v in kept])
    names = meta.column_names + [c for c in feats.column_names if c != "video_id"]
    columns = [meta.column(c) for c in meta.column_names]
    columns += [feats.column(c) for c in names[meta.num_columns:]]
    table = pa.Table.from_arrays(columns, names=names)
    return table.replace_schema_metadata(_merged_metadata(meta.schema, feats.schema, tuple(names)))


_MERGED: dict = {}


def _merged_metadata(meta: pa.Schema, feats: pa.Schema, names: tuple[str, ...]) -> dict:
    """The ``huggingface`` schema metadata of the joined table. Cached by the two schemas:
    ``datasets`` rebuilds Features through deep copies (tens of ms), every load of a split
    would pay it again for the same store."""
    import datasets

    key = (meta.to_string(show_schema_metadata=True), feats.to_string(show_schema_metadata=True), names)
    if key not in _MERGED:
        merged = datasets.Features({**datasets.Features.from_arrow_schema(meta),
                                    **datasets.Features.from_arrow_schema(feats)})
        _MERGED[key] = datasets.Features({c: merged[c] for c in names}).arrow_schema.metadata
    return _MERGED[key]


def load_dataset(benchmark: str, split: str | None = None, *, home: PathLike | None = None,
                 mirror: str | None = None, download: bool = True, features: bool = False
                 ) -> "datasets.Dataset | datasets.DatasetDict":
    """A Hugging Face ``Dataset`` of one split (``"train"``, ``"val"``, ``"test"``, or several
    joined with ``+``), or a ``DatasetDict`` of all splits when ``split`` is None.

    Rows are in canonical order. Downloads and builds the benchmark on first use (``download=False``
    raises :class:`NotBuiltError` instead). Tables are small and held in memory: nothing is written
    to the Hugging Face cache.

    ``features=True`` adds the columns of the built feature store (``var-bench build``): per
    stream ``rgb``/``flow``/``audio`` an ``Array2D`` ``[T, D]`` (``Array3D`` ``[T, C, D]`` for a
    store built with ``--crops all``) with a dynamic first axis, plus ``num_snippets``,
    ``<stream>_len``, ``video_label`` and ``snippet_labels``. Rows are joined on ``video_id``; a
    video absent from the store (built with ``--allow-missing``) is dropped with a warning. The
    feature arrays are not copied: they stay in the Arrow buffers read from the store's shards.
    """
    import datasets

    folder = ensure_built(benchmark, home=home, mirror=mirror, download_missing=download)
    for s in (SPLITS if split is None else split_names(split)):
        verified_ids(folder, s)  # an edited built table is refused, not loaded in a new order
    read, fingerprint = read_split_table, lambda split: None
    if features:
        read, fingerprint = _feature_reader(get_benchmark(benchmark), folder, home)
    if split is None:
        return datasets.DatasetDict({s: datasets.Dataset(read(folder, s), fingerprint=fingerprint(s))
                                     for s in SPLITS})
    tables = [read(folder, s) for s in split_names(split)]
    return datasets.Dataset(pa.concat_tables(tables) if len(tables) > 1 else tables[0],
                            fingerprint=fingerprint(split))


