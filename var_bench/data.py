"""Get the benchmarks onto disk and load them: download + build, ``load_dataset``, ids, tables.

Data flows one way: pinned upstream files -> verified cache (``<home>/raw``) -> built Parquet and
dataset card (``<home>/built/<benchmark>/<version>``) -> these loaders.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import warnings
from pathlib import Path
from typing import Iterable

from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.parquet as pq

from .benchmarks import BENCHMARKS, SPLITS, BenchmarkSpec, get_benchmark
from .build.manifest import DATA_FILE, Manifest
from .errors import InputError, NotBuiltError, VarBenchWarning
from .paths import built_dir, data_home, raw_dir
from .sources import resolve_mirror, source

if TYPE_CHECKING:  # `datasets` and the build pipeline are imported only when needed (slow imports)
    import datasets
    import pandas as pd

log = logging.getLogger(__name__)

PathLike = str | os.PathLike


def _current(spec: BenchmarkSpec, folder: Path) -> Manifest | None:
    """The folder's manifest if it is a complete build of this version from the pinned sources."""
    m = Manifest.read(folder)
    pinned = {source(k).key: source(k).sha256 for k in spec.sources.values()}
    if m is None or m.version != spec.version or m.sources != pinned:
        return None
    return m


def download(benchmarks: Iterable[str] | str | None = None, *, home: PathLike | None = None,
             mirror: str | None = None, progress: bool | None = None,
             rebuild: bool = False) -> dict[str, Manifest]:
    """Fetch, verify and build ``benchmarks`` (default: all). Returns each benchmark's manifest.

    Verified files are never fetched twice and an up-to-date build is not redone (unless
    ``rebuild``): a second call does no network work. ``mirror``: a folder or http(s) URL laid out
    ``<owner>-<repo>/<file>`` (default ``$VAR_BENCH_MIRROR``, else the pinned upstream URLs).
    """
    names = [benchmarks] if isinstance(benchmarks, str) else list(benchmarks or BENCHMARKS)
    specs = [get_benchmark(b) for b in names]
    mirror = resolve_mirror(mirror)
    out: dict[str, Manifest] = {}
    for spec in specs:
        folder = built_dir(spec, home)
        manifest = None if rebuild else _current(spec, folder)
        if manifest is None:
            from .build.pipeline import build
            from .download import fetch_all

            roles = list(spec.sources)
            paths = fetch_all([source(spec.sources[r]) for r in roles], raw_dir(home), mirror,
                              progress=progress)
            log.info("building %s into %s", spec.name, folder)
            manifest = build(spec, dict(zip(roles, map(Path, paths))), folder)
        out[spec.name] = manifest
    return out


def ensure_built(benchmark: str | BenchmarkSpec, *, home: PathLike | None = None,
                 mirror: str | None = None, download_missing: bool = True) -> Path:
    """The built folder of ``benchmark``, downloading and building it first if needed."""
    spec = get_benchmark(benchmark)
    folder = built_dir(spec, home)
    if _current(spec, folder) is None:
        if not download_missing:
            raise NotBuiltError(
                f"{spec.name}: expected a built dataset in {data_home(home)}, found none; run "
                f"'var-bench download {spec.name}'"
            )
        download([spec.name], home=home, mirror=mirror)
    return folder


def _split_names(split: str) -> list[str]:
    parts = [p.strip() for p in str(split).split("+")]
    bad = [p for p in parts if p not in SPLITS]
    if bad:
        raise InputError(f"split: expected one of {', '.join(SPLITS)} (or several joined with +), "
                         f"got {split!r}")
    return parts


def _read(folder: Path, split: str, columns: list[str] | None = None) -> pa.Table:
    return pq.read_table(folder / DATA_FILE.format(split=split), columns=columns)


def _feature_reader(spec: BenchmarkSpec, folder: Path, home: PathLike | None):
    """``read(folder, split)`` giving the metadata table joined with the feature store's columns,
    and ``fingerprint(split)`` naming that table for ``datasets`` (from the store's manifest)."""
    from .features.manifest import FeatureManifest
    from .features.store import read_split
    from .paths import features_dir

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
        return _join_features(spec, split, _read(folder, split), read_split(store, split))

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
    merged = datasets.Features({**datasets.Features.from_arrow_schema(meta.schema),
                                **datasets.Features.from_arrow_schema(feats.schema)})
    merged = datasets.Features({c: merged[c] for c in names})
    table = pa.Table.from_arrays(columns, names=names)
    return table.replace_schema_metadata(merged.arrow_schema.metadata)


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
    read, fingerprint = _read, lambda split: None
    if features:
        read, fingerprint = _feature_reader(get_benchmark(benchmark), folder, home)
    if split is None:
        return datasets.DatasetDict({s: datasets.Dataset(read(folder, s), fingerprint=fingerprint(s))
                                     for s in SPLITS})
    tables = [read(folder, s) for s in _split_names(split)]
    return datasets.Dataset(pa.concat_tables(tables) if len(tables) > 1 else tables[0],
                            fingerprint=fingerprint(split))


def load_table(benchmark: str, split: str = "test", *, home: PathLike | None = None,
               mirror: str | None = None, download: bool = True) -> "pd.DataFrame":
    """One split (or ``a+b``) as a pandas DataFrame, canonical order."""
    folder = ensure_built(benchmark, home=home, mirror=mirror, download_missing=download)
    return pa.concat_tables([_read(folder, s) for s in _split_names(split)]).to_pandas()


def ids(benchmark: str, split: str = "test", *, home: PathLike | None = None,
        mirror: str | None = None, download: bool = True) -> list[str]:
    """Canonical video ids of ``split`` in canonical (upstream) order."""
    folder = ensure_built(benchmark, home=home, mirror=mirror, download_missing=download)
    return [v for s in _split_names(split) for v in _read(folder, s, ["video_id"])["video_id"].to_pylist()]
