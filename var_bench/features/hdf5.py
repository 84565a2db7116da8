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

An imported file is untrusted: it must be self-contained (:mod:`var_bench.h5guard`: no external
link, virtual dataset or external storage), its manifest must declare a valid layout, every
dataset's shape is checked against the manifest and the video's attributes *before* it is read,
and every row passes :func:`var_bench.features.validators.check_row`, the check the build runs.
The import holds the store's writer lock (:mod:`.storelock`) and swaps the finished store in with
one atomic exchange.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterable
from dataclasses import asdict, replace
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from var_bench.benchmarks import SPLITS, get_benchmark
from var_bench.data.paths import built_dir, features_dir
from var_bench.errors import InputError, NotBuiltError
from var_bench.features.align import parse_crop_policy, policy_text
from var_bench.features.arrowview import ColumnView, list_depth
from var_bench.features.card import metadata_card, render_features_card
from var_bench.features.manifest import BUILD_FORMAT, FeatureManifest
from var_bench.features.store import ShardWriter, read_split, store_features, store_schema
from var_bench.features.storelock import holds_store_lock
from var_bench.features.validators import (
    MAX_SNIPPETS,
    check_count,
    check_row,
    check_store_layout,
    expected_shape,
)
from var_bench.fsutil import atomic_path, atomic_write_text, make_temp_dir, swap_into_place
from var_bench.h5guard import check_self_contained

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
        raise NotBuiltError(
            f"{spec.name}: expected built features in {folder}, found none; run "
            f"'var-bench build {spec.name} --features DIR'"
        )
    return folder, m


def _check_splits(splits: Iterable[str], available: Iterable[str]) -> list[str]:
    splits, available = list(splits), list(available)
    bad = [s for s in splits if s not in available]
    if bad or not splits:
        raise InputError(
            f"split: expected one or more of {', '.join(available)}, got "
            f"{', '.join(bad or splits) or 'none'}"
        )
    return splits


def _bar(items: list, desc: str, progress: bool | None):
    from var_bench.progress import Progress

    return Progress(items, desc=desc, unit="video", progress=progress)


def export_h5(
    benchmark: str,
    out_path: str | os.PathLike,
    *,
    splits: Iterable[str] | None = None,
    home: str | os.PathLike | None = None,
    compression: str | None = None,
    progress: bool | None = None,
) -> Path:
    """Write the feature store of ``benchmark`` (``splits``: default all) to ``out_path`` (HDF5,
    layout in the module docstring). ``compression``: an h5py filter name (e.g. ``"gzip"``,
    ``"lzf"``), default none. ``progress``: a bar per split (:mod:`var_bench.progress`; None: a bar
    on a terminal, log lines on a pipe). Returns the path.
    """
    folder, m = _store(benchmark, home)
    splits = _check_splits(splits if splits is not None else list(m.shards), m.shards)
    out = Path(out_path)
    _remove_dead_exports(out)
    _write_export(out, folder, m, splits, compression, progress)
    return out


def _remove_dead_exports(out: Path) -> None:
    """Delete temporary files of exports to ``out`` whose process is gone (a ``kill -9`` runs
    no cleanup); a running export's file (its pid is alive) is left alone, so no lock is needed."""
    if not out.parent.is_dir():
        return
    for p in out.parent.glob(f".{out.name}.*.h5.tmp"):
        pid = p.name[len(out.name) + 2 :].split(".", 1)[0]
        if not pid.isdigit():
            continue
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            p.unlink(missing_ok=True)
        except OSError:  # alive, someone else's
            pass


def _write_export(
    out: Path,
    folder: Path,
    m: FeatureManifest,
    splits: list[str],
    compression: str | None,
    progress: bool | None,
) -> None:
    import h5py

    with (
        atomic_path(out, ".h5.tmp", f"{os.getpid()}.") as tmp,
        h5py.File(tmp, "w", track_order=True) as f,
    ):
        f.attrs["format"] = FORMAT
        f.attrs["format_version"] = FORMAT_VERSION
        f.attrs["manifest"] = json.dumps(asdict(m))
        for split in splits:
            table = read_split(folder, split)
            group = f.create_group(split, track_order=True)
            group.attrs["count"] = table.num_rows
            views = {
                s: ColumnView(table.column(s), list_depth(table.column(s).type), s)
                for s in m.streams
            }
            labels = ColumnView(table.column(LABELS), 1, LABELS)
            ints = {
                c: table.column(c).to_pylist()
                for c in table.column_names
                if c in _SCALARS or c.endswith("_len")
            }
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


def _read_manifest(f, path: Path) -> FeatureManifest:
    if f.attrs.get("format") != FORMAT:
        raise InputError(
            f"{path}: expected an HDF5 file written by 'var-bench export-h5' "
            f"(root attribute format={FORMAT}), got {f.attrs.get('format')!r}"
        )
    version = f.attrs.get("format_version", -1)
    if (
        isinstance(version, (bool, np.bool_))
        or not isinstance(version, (int, np.integer))
        or int(version) != FORMAT_VERSION
    ):
        raise InputError(f"{path}: expected format_version {FORMAT_VERSION}, got {version!r}")
    try:
        m = FeatureManifest(**json.loads(f.attrs["manifest"]))
    except (KeyError, TypeError, ValueError, RecursionError) as e:
        raise InputError(
            f"{path}: expected a feature manifest in the root attribute 'manifest', "
            f"got an unreadable one ({type(e).__name__})"
        ) from None
    check_store_layout(
        m.streams, m.dims, m.dtype, m.crops_mode, m.num_crops, f"{path}: manifest", m.stream_crops
    )
    if not isinstance(m.crops, dict) or (m.crops and _policy_text(m.crops) != m.crops_mode):
        raise InputError(
            f"{path}: manifest crops: expected split -> mode agreeing with crops_mode "
            f"{m.crops_mode!r}, got {m.crops!r}"
        )
    for name in ("layout", "counts", "missing", "trimmed", "shards", "ids_sha256"):
        if not isinstance(getattr(m, name), dict):
            raise InputError(
                f"{path}: manifest {name}: expected a mapping, got "
                f"{type(getattr(m, name)).__name__}"
            )
    if not isinstance(m.notes, list):
        raise InputError(f"{path}: manifest notes: expected a list, got {type(m.notes).__name__}")
    return m


def _policy_text(crops: dict) -> str | None:
    try:
        return policy_text(parse_crop_policy(crops, SPLITS))
    except InputError:
        return None


def _dataset(g, name: str, want: tuple[int, ...], what: str, kinds: str = "fiu"):
    """The dataset ``g[name]``, checked (kind, dtype, shape) before its data is read."""
    import h5py

    ds = g.get(name)
    if not isinstance(ds, h5py.Dataset):
        raise InputError(
            f"{what}: expected dataset {name!r}, got "
            f"{'none' if ds is None else type(ds).__name__.lower()}"
        )
    if ds.dtype.kind not in kinds or ds.dtype.hasobject or ds.dtype.fields is not None:
        raise InputError(f"{what}: {name} expected a numeric dataset, got dtype {ds.dtype}")
    if tuple(ds.shape) != want:
        raise InputError(f"{what}: {name} expected shape {list(want)}, got {list(ds.shape)}")
    return ds


def _rows(
    group, order: list[str], m: FeatureManifest, crops_all: dict[str, int] | None
) -> Iterable[dict]:
    """Store rows (dicts as :class:`ShardWriter` takes them) of ``group`` in ``order``, each
    checked by :func:`check_row` (shapes are checked before reading, so a declared giant dataset
    is refused without allocating it). ``crops_all``: stream -> C of the split's ``[T, C, D]``
    streams (:meth:`FeatureManifest.split_crops`)."""
    import h5py

    for vid in order:
        what = f"HDF5 video {vid!r}"
        g = group.get(vid)
        if not isinstance(g, h5py.Group):
            raise InputError(f"{what}: expected a group, got {type(g).__name__.lower()}")
        row: dict = {"video_id": vid}
        for key in ("num_snippets", "video_label") + tuple(f"{s}_len" for s in m.streams):
            if key not in g.attrs:
                raise InputError(f"{what}: expected attribute {key!r}, found none")
            value = g.attrs[key]
            if isinstance(value, np.ndarray) and value.shape == ():
                value = value[()]
            row[key] = check_count(value, f"{what}: attribute {key}", 0, MAX_SNIPPETS + 1)
        T = check_count(row["num_snippets"], f"{what}: num_snippets", 1, MAX_SNIPPETS)
        for s in m.streams:
            want = expected_shape(s, m.dims, crops_all, T, s == "audio")
            row[s] = np.asarray(_dataset(g, s, want, what)[()], dtype=m.dtype)
        row[LABELS] = (
            np.asarray(_dataset(g, LABELS, (T,), what, "iu")[()], np.int8) if LABELS in g else None
        )
        check_row(row, m.dims, crops_all, what=what)
        yield row


def _import_split(
    group,
    split: str,
    canonical: list[str],
    m: FeatureManifest,
    out: Path,
    path: Path,
    progress: bool | None,
) -> tuple[list[str], list[str]]:
    """Write one split's shards under ``out`` in canonical order; (shard paths, ids written)."""
    import h5py

    if not isinstance(group, h5py.Group):
        raise InputError(
            f"{path}: split {split}: expected a group of videos, got {type(group).__name__.lower()}"
        )
    present = set(group)
    unknown = sorted(present - set(canonical))
    if unknown:
        raise InputError(
            f"{path}: split {split} holds {len(unknown)} ids unknown to the "
            f"{m.benchmark} metadata (first: {unknown[0]!r})"
        )
    order = [v for v in canonical if v in present]
    crops_all = m.split_crops(split)
    schema = store_schema(store_features({s: m.dims[s] for s in m.streams}, m.dtype, crops_all))
    writer = ShardWriter(out, split, schema)
    try:
        for row in _rows(group, _bar(order, f"import {split}", progress), m, crops_all):
            writer.write([row])
        return writer.close(), order
    except BaseException:
        writer.abort()
        raise


@holds_store_lock  # one writer per store: a concurrent build or import waits (issue 11)
def import_h5(
    benchmark: str,
    in_path: str | os.PathLike,
    *,
    home: str | os.PathLike | None = None,
    progress: bool | None = None,
) -> FeatureManifest:
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
        raise InputError(
            f"{path}: expected a readable HDF5 file, got {type(e).__name__}: "
            f"{' '.join(str(e).split())[:120]}"
        ) from None
    final = features_dir(spec, home)
    with f:
        check_self_contained(f, str(path))  # before anything is read from it
        m = _read_manifest(f, path)
        if m.build_format != BUILD_FORMAT:
            raise InputError(
                f"{path}: expected a feature store of build format {BUILD_FORMAT}, "
                f"got {m.build_format}; re-export it with this var-bench version"
            )
        if m.benchmark != spec.name or m.version != spec.version:
            raise InputError(
                f"{path}: expected features of {spec.name} {spec.version}, got "
                f"{m.benchmark} {m.version}"
            )
        splits = [s for s in SPLITS if s in f]
        unknown = sorted(set(f) - set(SPLITS))
        if unknown:
            raise InputError(
                f"{path}: expected groups named {', '.join(SPLITS)}, got {unknown[0][:80]!r}"
            )
        if not splits:
            raise InputError(
                f"{path}: expected groups for one or more of {', '.join(SPLITS)}, found none"
            )
        final.parent.mkdir(parents=True, exist_ok=True)
        tmp = make_temp_dir(f".{final.name}.import-", final.parent)
        try:
            shards, counts, missing = {}, {}, {}
            for split in splits:
                canonical = split_ids(spec.name, split, home=home, download=False)
                shards[split], order = _import_split(
                    f[split], split, canonical, m, tmp, path, progress
                )
                counts[split] = len(order)
                missing[split] = [v for v in canonical if v not in set(order)]
            new = replace(
                m,
                built_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
                shards=shards,
                counts=counts,
                missing=missing,
                trimmed={s: m.trimmed.get(s, 0) for s in splits},
                notes=list(m.notes) + [f"imported from HDF5 file {path.name}"],
            )
            features = store_features(
                {s: m.dims[s] for s in m.streams}, m.dtype, m.split_crops("train")
            )
            card = render_features_card(spec, new, metadata_card(built_dir(spec, home)), features)
            atomic_write_text(tmp / CARD, card)
            new.write(tmp)
            swap_into_place(tmp, final)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
    return new
