"""HDF5 export and import of a built feature store (for code that reads HDF5).

Layout of the file::

    /                               attrs: format = "var_bench.features.h5", format_version,
                                           manifest = the store's FeatureManifest as JSON
    /<split>/                       one group per exported split (rows in canonical order;
                                           groups track creation order), attrs: count
    /<split>/<video_id>/            attrs: num_snippets, <stream>_len (original T per stream),
                                           video_label (1 anomalous, 0 normal)
    /<split>/<video_id>/<stream>    dataset [T, D] (or [T, C, D] for a --crops all store), the
                                           store's dtype
    /<split>/<video_id>/snippet_labels   int8 [T]; absent where the split has no annotation

Both directions write to a temporary name and rename when complete, so a failed export leaves no
half-written file and a failed import leaves the previous store untouched.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from dataclasses import asdict, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterable

import numpy as np

from var_bench.benchmarks import SPLITS, get_benchmark
from var_bench.errors import InputError, NotBuiltError
from var_bench.fsutil import atomic_write_text
from var_bench.data.paths import built_dir, features_dir
from var_bench.features.arrowview import ColumnView, list_depth
from var_bench.features.card import metadata_card, render_features_card
from var_bench.features.manifest import BUILD_FORMAT, FeatureManifest
from var_bench.features.store import ShardWriter, read_split, store_features, store_schema

FORMAT = "var_bench.features.h5"
FORMAT_VERSION = 1
LABELS = "snippet_labels"
CARD = "README.md"
_SCALARS = ("num_snippets", "video_label")


def _store(benchmark: str, home) -> tuple[Path, FeatureManifest]:
    spec = get_benchmark(benchmark)
    folder = features_dir(spec, home)
    m = FeatureManifest.read(folder)
    if m is None or m.version != spec.version:
        raise NotBuiltError(f"{spec.name}: expected built features in {folder}, found none; run "
                            f"'var-bench build {spec.name} --features DIR'")
    return folder, m


def _check_splits(splits: Iterable[str], available: Iterable[str]) -> list[str]:
    splits, available = list(splits), list(available)
    bad = [s for s in splits if s not in available]
    if bad or not splits:
        raise InputError(f"split: expected one or more of {', '.join(available)}, got "
                         f"{', '.join(bad or splits) or 'none'}")
    return splits


def _bar(items: list, desc: str, progress: bool | None):
    from var_bench.progress import Progress

    return Progress(items, desc=desc, unit="video", progress=progress)


@contextlib.contextmanager
def _temp_beside(path: Path, suffix: str):
    """A temporary file name beside ``path``; renamed onto ``path`` on success, else deleted."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=suffix, dir=path.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def export_h5(benchmark: str, out_path: str | os.PathLike, *, splits: Iterable[str] | None = None,
              home: str | os.PathLike | None = None, compression: str | None = None,
              progress: bool | None = None) -> Path:
    """Write the feature store of ``benchmark`` (``splits``: default all) to ``out_path`` (HDF5,
    layout in the module docstring). ``compression``: an h5py filter name (e.g. ``"gzip"``,
    ``"lzf"``), default none. ``progress``: a bar per split (:mod:`var_bench.progress`; None: a bar on a terminal, log lines on a pipe). Returns the
    path.
    """
    import h5py

    folder, m = _store(benchmark, home)
    splits = _check_splits(splits if splits is not None else list(m.shards), m.shards)
    out = Path(out_path)
    with _temp_beside(out, ".h5.tmp") as tmp, h5py.File(tmp, "w", track_order=True) as f:
        f.attrs["format"] = FORMAT
        f.attrs["format_version"] = FORMAT_VERSION
        f.attrs["manifest"] = json.dumps(asdict(m))
        for split in splits:
            table = read_split(folder, split)
            group = f.create_group(split, track_order=True)
            group.attrs["count"] = table.num_rows
            views = {s: ColumnView(table.column(s), list_depth(table.column(s).type), s)
                     for s in m.streams}
            labels = ColumnView(table.column(LABELS), 1, LABELS)
            ints = {c: table.column(c).to_pylist() for c in table.column_names
                    if c in _SCALARS or c.endswith("_len")}
            vids = table.column("video_id").to_pylist()
            for i, vid in enumerate(_bar(vids, f"export {split}", progress)):
                if "/" in vid or vid in (".", ""):
                    raise InputError(f"video id {vid!r} cannot be an HDF5 group name")
                g = group.create_group(vid)
                for c, values in ints.items():
                    g.attrs[c] = int(values[i])
                for s, view in views.items():
                    g.create_dataset(s, data=view[i], compression=compression)
                lab = labels[i]
                if lab is not None:
                    g.create_dataset(LABELS, data=lab)
    return out


def _read_manifest(f, path: Path) -> FeatureManifest:
    if f.attrs.get("format") != FORMAT:
        raise InputError(f"{path}: expected an HDF5 file written by 'var-bench export-h5' "
                         f"(root attribute format={FORMAT}), got {f.attrs.get('format')!r}")
    if int(f.attrs.get("format_version", -1)) != FORMAT_VERSION:
        raise InputError(f"{path}: expected format_version {FORMAT_VERSION}, got "
                         f"{f.attrs.get('format_version')!r}")
    try:
        return FeatureManifest(**json.loads(f.attrs["manifest"]))
    except (KeyError, TypeError, ValueError) as e:
        raise InputError(f"{path}: expected a feature manifest in the root attribute 'manifest', "
                         f"got an unreadable one ({type(e).__name__})") from None


def _rows(group, order: list[str], m: FeatureManifest) -> Iterable[dict]:
    """Store rows (dicts as :class:`ShardWriter` takes them) of ``group`` in ``order``."""
    for vid in order:
        g = group[vid]
        row: dict = {"video_id": vid}
        for s in m.streams:
            if s not in g:
                raise InputError(f"HDF5 video {vid!r}: expected dataset {s!r}, found "
                                 f"{', '.join(g) or 'none'}")
            row[s] = np.asarray(g[s][()], dtype=m.dtype)
        for key in ("num_snippets", "video_label") + tuple(f"{s}_len" for s in m.streams):
            if key not in g.attrs:
                raise InputError(f"HDF5 video {vid!r}: expected attribute {key!r}, found none")
            row[key] = int(g.attrs[key])
        row[LABELS] = np.asarray(g[LABELS][()], np.int8) if LABELS in g else None
        yield row


def _import_split(group, split: str, canonical: list[str], m: FeatureManifest, schema, out: Path,
                  path: Path, progress: bool | None) -> tuple[list[str], list[str]]:
    """Write one split's shards under ``out`` in canonical order; (shard paths, ids written)."""
    present = set(group)
    unknown = sorted(present - set(canonical))
    if unknown:
        raise InputError(f"{path}: split {split} holds {len(unknown)} ids unknown to the "
                         f"{m.benchmark} metadata (first: {unknown[0]!r})")
    order = [v for v in canonical if v in present]
    writer = ShardWriter(out, split, schema)
    try:
        for row in _rows(group, _bar(order, f"import {split}", progress), m):
            writer.write([row])
        return writer.close(), order
    except BaseException:
        writer.abort()
        raise


def _install(tmp: Path, final: Path) -> None:
    """Move the complete store ``tmp`` onto ``final``, replacing a previous store."""
    old = None
    if final.exists():
        old = final.with_name(f".{final.name}.old-{os.getpid()}")
        os.replace(final, old)
    os.replace(tmp, final)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def import_h5(benchmark: str, in_path: str | os.PathLike, *, home: str | os.PathLike | None = None,
              progress: bool | None = None) -> FeatureManifest:
    """Build the feature store of ``benchmark`` from an HDF5 file written by :func:`export_h5`,
    so ``load_dataset(..., features=True)`` reads it. Rows follow the metadata build's canonical
    order; ids of the metadata missing from the file are listed in the manifest's ``missing``.
    The store is written beside its final place and renamed when complete. Returns its manifest.
    """
    import h5py

    from var_bench.data.prepare import ids as split_ids

    spec = get_benchmark(benchmark)
    path = Path(in_path)
    try:
        f = h5py.File(path, "r")
    except (OSError, ValueError) as e:
        raise InputError(f"{path}: expected a readable HDF5 file, got {type(e).__name__}: "
                         f"{' '.join(str(e).split())[:120]}") from None
    final = features_dir(spec, home)
    with f:
        m = _read_manifest(f, path)
        if m.build_format != BUILD_FORMAT:
            raise InputError(f"{path}: expected a feature store of build format {BUILD_FORMAT}, "
                             f"got {m.build_format}; re-export it with this var-bench version")
        if m.benchmark != spec.name or m.version != spec.version:
            raise InputError(f"{path}: expected features of {spec.name} {spec.version}, got "
                             f"{m.benchmark} {m.version}")
        splits = [s for s in SPLITS if s in f]
        if not splits:
            raise InputError(f"{path}: expected groups for one or more of {', '.join(SPLITS)}, "
                             f"found none")
        crops_all = m.num_crops if m.crops_mode == "all" else None
        features = store_features({s: m.dims[s] for s in m.streams}, m.dtype, crops_all)
        schema = store_schema(features)
        final.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{final.name}.import-", dir=final.parent))
        try:
            shards, counts, missing = {}, {}, {}
            for split in splits:
                canonical = split_ids(spec.name, split, home=home, download=False)
                shards[split], order = _import_split(f[split], split, canonical, m, schema, tmp,
                                                     path, progress)
                counts[split] = len(order)
                missing[split] = [v for v in canonical if v not in set(order)]
            new = replace(m, built_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
                          shards=shards, counts=counts, missing=missing,
                          trimmed={s: m.trimmed.get(s, 0) for s in splits},
                          notes=list(m.notes) + [f"imported from HDF5 file {path.name}"])
            card = render_features_card(spec, new, metadata_card(built_dir(spec, home)), features)
            atomic_write_text(tmp / CARD, card)
            new.write(tmp)
            _install(tmp, final)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
    return new
