"""``build_features``: raw I3D / VGGish trees -> the feature store, resumable, in bounded memory.

Steps: the metadata build gives the ids of each split; the raw trees are indexed once and their
layouts detected (:mod:`.layouts`); every split's ids must be present (or ``allow_missing``) with
crops 0..C-1; then, one video at a time (read by a prefetching thread while the main thread writes
Parquet), each stream's headers are checked, the streams are aligned to a common T
(:mod:`.align`), crops are reduced, values checked finite, labels computed (:mod:`.labels`), and
rows go to a :class:`~.store.ShardWriter`.

Everything is written into ``<version>.partial/`` beside the destination, with a journal
``progress.json`` (a hash of the parameters and inputs, and per split the completed shards). A
re-run with the same parameters and inputs continues after the last completed shard; with anything
different it deletes the staging folder and starts again. Only the finished folder is swapped into
place, so the previous store stays intact until then.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import queue
import shutil
import sys
import threading
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterable, Iterator

import numpy as np

from var_bench._version import __version__
from var_bench.benchmarks import SPLITS, BenchmarkSpec, get_benchmark
from var_bench.errors import InputError
from var_bench.fsutil import atomic_write_text
from var_bench.data.paths import features_dir
from var_bench.features.align import aligned_length, check_crops_mode
from var_bench.features.card import metadata_card, render_features_card
from var_bench.features.extraction import EXTRACTION_FILE, identity_notes, random_marker, tree_identities
from var_bench.features.labels import SNIPPET_FRAMES, snippet_labels
from var_bench.features.layouts import AUTO, StreamIndex, check_crops, index_streams
from var_bench.features.manifest import BUILD_FORMAT, DTYPES, FeatureManifest
from var_bench.features.readers import Scratch, check_finite, read_stream, video_headers
from var_bench.features.store import PART_SUFFIX, ROW_GROUP_BYTES, SHARD_BYTES, ShardWriter, store_features, store_schema

log = logging.getLogger(__name__)

#: The marker file ``var-bench synth`` writes at the root of a synthetic tree.
SYNTH_MARKER = "VAR_BENCH_SYNTHETIC.json"
JOURNAL = "progress.json"
STAGING_SUFFIX = ".partial"
#: Videos read ahead by the reader thread (bounds memory: each is one video's arrays).
PREFETCH = 2
_SHOWN_MISSING = 10


@dataclass(frozen=True)
class _Meta:
    """What the build needs of one metadata row."""

    video_id: str
    anomalous: bool
    segments: list | None


def build_features(benchmark: str | BenchmarkSpec, features: str | os.PathLike, flow=None,
                   audio=None, layout: str = AUTO, crops: str = "mean", dtype: str = "float32",
                   allow_missing: bool = False, home=None, snippet_frames: int | None = None,
                   progress: bool | None = None, *, row_group_bytes: int = ROW_GROUP_BYTES,
                   shard_bytes: int = SHARD_BYTES) -> FeatureManifest:
    """Convert raw feature trees of ``benchmark`` into ``<home>/features/<benchmark>/<version>/``.

    ``features``: the RGB tree (Flow folders and VGGish files inside it are used unless ``flow`` /
    ``audio`` are given); ``layout``: a video layout name or ``"auto"``; ``crops``: mean | center |
    all; ``dtype``: float32 | float16; ``allow_missing``: build even when ids of a split have no
    files (listed in the manifest and card); ``snippet_frames``: F for the snippet labels (default:
    the synthetic marker's, else 16); ``progress``: a tqdm bar (default: when stderr is a TTY).
    Returns the manifest of the finished store.
    """
    spec = get_benchmark(benchmark)
    check_crops_mode(crops)
    if dtype not in DTYPES:
        raise InputError(f"dtype: expected one of {', '.join(DTYPES)}, got {dtype!r}")
    if snippet_frames is not None and int(snippet_frames) < 1:
        raise InputError(f"snippet frames: expected an integer >= 1, got {snippet_frames}")
    if row_group_bytes < 1 or shard_bytes < 1:
        raise InputError("row group and shard sizes: expected positive byte counts")
    built, meta_manifest, metas = _metadata(spec, home)
    index = index_streams(spec, Path(features), None if flow is None else Path(flow),
                          None if audio is None else Path(audio), layout)
    roots = [Path(p) for p in (features, flow, audio) if p is not None]
    identities = tree_identities(roots)
    # Features of random-initialised extractor weights are as meaningless as synthetic ones.
    marker = _marker(roots) or random_marker(identities)
    F = int(snippet_frames or (marker or {}).get("snippet_frames") or SNIPPET_FRAMES)

    missing = {s: [m.video_id for m in metas[s] if any(m.video_id not in ix.files for ix in index.values())]
               for s in SPLITS}
    n_missing = sum(map(len, missing.values()))
    if n_missing and not allow_missing:
        raise InputError(_missing_message(missing, index))
    gone = {v for s in SPLITS for v in missing[s]}
    present = {s: [m.video_id for m in metas[s] if m.video_id not in gone] for s in SPLITS}
    for ix in index.values():
        check_crops(ix, [v for s in SPLITS for v in present[s]])
    num_crops = _num_crops(index, present)
    notes = _notes(index, metas, marker) + identity_notes(identities)

    schema = store_schema(store_features({s: ix.layout.dim for s, ix in index.items()}, dtype,
                                         num_crops if crops == "all" else None))
    params = {
        "build_format": BUILD_FORMAT, "var_bench": __version__, "benchmark": spec.name,
        "version": spec.version, "ids_sha256": meta_manifest.ids_sha256,
        "streams": {s: [ix.layout.name, str(ix.root.resolve()), ix.fingerprint] for s, ix in index.items()},
        "crops": crops, "dtype": dtype, "allow_missing": bool(allow_missing), "snippet_frames": F,
        "row_group_bytes": row_group_bytes, "shard_bytes": shard_bytes,
    }
    dest = features_dir(spec, home)
    staging = dest.with_name(dest.name + STAGING_SUFFIX)
    journal = _Journal.open(staging, hashlib.sha256(json.dumps(params, sort_keys=True).encode()).hexdigest())

    total = sum(len(metas[s]) for s in SPLITS)
    bar = _bar(total, progress, initial=sum(journal.done(s) for s in SPLITS))
    read = _VideoReader(index, crops, np.dtype(dtype), F)
    try:
        for split in SPLITS:
            _build_split(split, metas[split], set(missing[split]), read, schema, staging, journal,
                         row_group_bytes, shard_bytes, bar)
    finally:
        bar.close()

    counts, trimmed, shards, missing_out = journal.summary()
    manifest = FeatureManifest(
        benchmark=spec.name, version=spec.version, build_format=BUILD_FORMAT, var_bench=__version__,
        built_at=datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        layout={s: ix.layout.name for s, ix in index.items()}, streams=list(index),
        crops_mode=crops, num_crops=num_crops, dtype=dtype,
        dims={s: ix.layout.dim for s, ix in index.items()}, snippet_frames=F, synthetic=marker,
        counts=counts, missing=missing_out, trimmed=trimmed, shards=shards,
        ids_sha256=dict(meta_manifest.ids_sha256), notes=notes,
    )
    from var_bench.data.assembly.pipeline import _swap_into_place

    atomic_write_text(staging / "README.md",
                      render_features_card(spec, manifest, metadata_card(built), schema_features(schema)))
    if identities:
        atomic_write_text(staging / EXTRACTION_FILE, json.dumps(identities, indent=1) + "\n")
    manifest.write(staging)
    (staging / JOURNAL).unlink()
    _swap_into_place(staging, dest)
    log.info("feature store of %s written to %s", spec.name, dest)
    return manifest


def schema_features(schema):
    import datasets

    return datasets.Features.from_arrow_schema(schema)


def _metadata(spec: BenchmarkSpec, home):
    """The metadata build's folder, manifest and per split the rows the build needs."""
    import pyarrow.parquet as pq

    from var_bench.data.assembly.manifest import DATA_FILE, Manifest
    from var_bench.data.prepare import ensure_built

    built = ensure_built(spec, home=home, download_missing=False)
    manifest = Manifest.read(built)
    metas = {}
    for s in SPLITS:
        t = pq.read_table(built / DATA_FILE.format(split=s), columns=["video_id", "anomalous", "segments"])
        metas[s] = [_Meta(r["video_id"], bool(r["anomalous"]), r["segments"]) for r in t.to_pylist()]
    return built, manifest, metas


def _marker(roots: list[Path]) -> dict | None:
    """The synthetic-tree marker at the first root that has one (None for upstream trees)."""
    for root in roots:
        path = root / SYNTH_MARKER
        if path.is_file():
            try:
                data = json.loads(path.read_text("utf-8"))
            except (OSError, ValueError) as e:
                raise InputError(f"{path}: expected the JSON marker of a synthetic tree, it does "
                                 f"not parse ({e})") from None
            if not isinstance(data, dict):
                raise InputError(f"{path}: expected a JSON object, got {type(data).__name__}")
            return data
    return None


def _missing_message(missing: dict[str, list[str]], index: dict[str, StreamIndex]) -> str:
    ids = [v for s in SPLITS for v in missing[s]]
    per = ", ".join(f"{s} {len(missing[s])}" for s in SPLITS if missing[s])
    roots = ", ".join(f"{s} {ix.root}" for s, ix in index.items())
    shown = ", ".join(ids[:_SHOWN_MISSING]) + (", ..." if len(ids) > _SHOWN_MISSING else "")
    return (f"expected features for every video of every split, {len(ids)} missing ({per}) in "
            f"{roots}: {shown}; pass --allow-missing to build without them")


def _num_crops(index: dict[str, StreamIndex], present: dict[str, list[str]]) -> int | None:
    """C of the visual streams (read from the first video's header for ``[T, C, D]`` files);
    rgb and flow must agree."""
    first = next((v for s in SPLITS for v in present[s]), None)
    found = {}
    for s, ix in index.items():
        if ix.layout.audio:
            continue
        if ix.num_crops is None and first is not None:
            ix.num_crops = video_headers(ix, first)[0].shape[1]
        found[s] = ix.num_crops
    if len(set(found.values())) > 1:
        raise InputError("crops: expected the same number of crops in every visual stream, found "
                         + ", ".join(f"{s} {c}" for s, c in found.items()))
    return next(iter(found.values()), None)


def _notes(index: dict[str, StreamIndex], metas, marker) -> list[str]:
    notes = []
    if marker is not None:
        notes.append("synthetic features (generated by var-bench synth): not upstream features")
    known = {m.video_id for s in SPLITS for m in metas[s]}
    for s, ix in index.items():
        extra = len(set(ix.files) - known)
        if extra:
            notes.append(f"{s}: {extra} videos in the raw tree are not in the benchmark (ignored)")
        if ix.ignored:
            notes.append(f"{s}: {ix.ignored} .npy files under {ix.root} match no file name of "
                         f"the stream (ignored)")
    return notes


class _VideoReader:
    """Reads one video into a store row (runs in the prefetch thread; owns its scratch buffer)."""

    def __init__(self, index: dict[str, StreamIndex], crops: str, dtype: np.dtype, F: int) -> None:
        self.index, self.crops, self.dtype, self.F = index, crops, dtype, F
        self.scratch = Scratch()

    def __call__(self, item: tuple[int, _Meta]) -> tuple[int, dict, bool]:
        pos, meta = item
        vid = meta.video_id
        heads = {s: video_headers(ix, vid) for s, ix in self.index.items()}
        lengths = {s: h[0].shape[0] for s, h in heads.items()}
        T = aligned_length(lengths, vid)
        row: dict = {"video_id": vid}
        for s, ix in self.index.items():
            x = read_stream(ix, vid, heads[s], T, self.crops, self.scratch)
            if x.dtype != self.dtype:
                x = x.astype(self.dtype)
            check_finite(x, vid, s, _where(heads[s], self.crops, ix))
            row[s] = x
        row["num_snippets"] = T
        for s in self.index:
            row[f"{s}_len"] = lengths[s]
        row["video_label"] = int(meta.anomalous)
        # Segments are null where no temporal annotation exists (train/val) and [] for a normal
        # test video (all zeros).
        row["snippet_labels"] = (None if meta.segments is None
                                 else snippet_labels(meta.segments, T, self.F))
        return pos, row, any(t != T for t in lengths.values())


def _where(heads, crops: str, ix: StreamIndex) -> str:
    if ix.layout.per_crop and crops == "center":
        return str(heads[0].path)
    if len(heads) == 1:
        return str(heads[0].path)
    return f"{len(heads)} crop files in {heads[0].path.parent} ({heads[0].path.name} ...)"


class _Journal:
    """``progress.json`` in the staging folder: the parameter hash and per split the completed
    shards (``path``, ``rows``, ``ids_done`` = ids of the split consumed through that shard,
    ``missing`` ids and ``trimmed`` videos in it), ``complete`` and the ``tail`` after the last shard."""

    def __init__(self, staging: Path, data: dict) -> None:
        self.staging, self.data = staging, data

    @classmethod
    def open(cls, staging: Path, params_hash: str) -> "_Journal":
        try:
            data = json.loads((staging / JOURNAL).read_text("utf-8"))
            ok = data.get("params") == params_hash and all(
                (staging / sh["path"]).is_file() for st in data["splits"].values() for sh in st["shards"])
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            ok = False
        if not ok:
            if staging.exists():
                log.info("staging folder %s is from other parameters or inputs: starting again", staging)
            shutil.rmtree(staging, ignore_errors=True)
            staging.mkdir(parents=True)
            data = {"params": params_hash, "splits": {}}
        else:
            log.info("resuming the build in %s", staging)
        journal = cls(staging, data)
        journal._clean()
        journal.save()
        return journal

    def _clean(self) -> None:
        """Delete partial shards and shards completed after the last journal write."""
        keep = {sh["path"] for st in self.data["splits"].values() for sh in st["shards"]}
        data_dir = self.staging / "data"
        if not data_dir.is_dir():
            return
        for path in data_dir.rglob("*"):
            rel = path.relative_to(self.staging).as_posix()
            if path.is_file() and (path.name.endswith(PART_SUFFIX) or rel not in keep):
                path.unlink()

    def save(self) -> None:
        atomic_write_text(self.staging / JOURNAL, json.dumps(self.data, indent=1) + "\n")

    def split(self, name: str) -> dict:
        return self.data["splits"].setdefault(name, {"shards": [], "complete": False, "tail": None})

    def done(self, name: str) -> int:
        st = self.data["splits"].get(name)
        if not st or not st["shards"]:
            return 0
        return st["shards"][-1]["ids_done"]

    def summary(self):
        counts, trimmed, shards, missing = {}, {}, {}, {}
        for s in SPLITS:
            st = self.data["splits"][s]
            parts = st["shards"] + ([st["tail"]] if st["tail"] else [])
            counts[s] = sum(sh.get("rows", 0) for sh in st["shards"])
            trimmed[s] = sum(p["trimmed"] for p in parts)
            missing[s] = [v for p in parts for v in p["missing"]]
            shards[s] = [sh["path"] for sh in st["shards"]]
        return counts, trimmed, shards, missing


def _build_split(split: str, metas: list[_Meta], missing: set[str], read: _VideoReader, schema,
                 staging: Path, journal: _Journal, row_group_bytes: int, shard_bytes: int, bar) -> None:
    """Write one split's shards, continuing after the journal's last completed shard."""
    st = journal.split(split)
    if st["complete"]:
        return
    start = journal.done(split)
    cursor = start
    pending = {"missing": [], "trimmed": 0}

    def on_shard(rel: str, rows: int) -> None:
        st["shards"].append({"path": rel, "rows": rows, "ids_done": cursor, **pending})
        pending.update(missing=[], trimmed=0)
        journal.save()

    writer = ShardWriter(staging, split, schema, row_group_bytes, shard_bytes,
                         start_index=len(st["shards"]), on_shard=on_shard)
    todo = [(i, m) for i, m in enumerate(metas) if i >= start and m.video_id not in missing]
    try:
        for pos, row, was_trimmed in prefetch(todo, read, PREFETCH):
            pending["missing"] += [m.video_id for m in metas[cursor:pos]]
            bar.update(pos + 1 - cursor)
            cursor = pos + 1
            pending["trimmed"] += int(was_trimmed)
            writer.write([row])
        pending["missing"] += [m.video_id for m in metas[cursor:]]
        bar.update(len(metas) - cursor)
        cursor = len(metas)
        writer.close()
    except BaseException:
        writer.abort()
        raise
    st["complete"] = True
    st["tail"] = dict(pending) if (pending["missing"] or pending["trimmed"]) else None
    journal.save()


def prefetch(items: Iterable, fn: Callable, depth: int) -> Iterator:
    """``map(fn, items)`` computed by one background thread up to ``depth`` items ahead (numpy
    and file reads release the GIL, so reading overlaps the caller's Parquet writing). An
    exception in ``fn`` is raised here, in order."""
    q: queue.Queue = queue.Queue(maxsize=max(1, depth))
    stop = threading.Event()

    def work() -> None:
        try:
            for it in items:
                if stop.is_set():
                    return
                q.put((True, fn(it)))
            q.put((None, None))
        except BaseException as e:  # handed to the consumer, which re-raises it
            q.put((False, e))

    t = threading.Thread(target=work, name="var-bench-reader", daemon=True)
    t.start()
    try:
        while True:
            ok, value = q.get()
            if ok is None:
                return
            if not ok:
                raise value
            yield value
    finally:
        stop.set()
        while t.is_alive():  # unblock a put() so the thread sees `stop` and exits
            try:
                q.get(timeout=0.05)
            except queue.Empty:
                pass
        t.join()


def _bar(total: int, progress: bool | None, initial: int = 0):
    from tqdm.auto import tqdm

    disable = (not sys.stderr.isatty()) if progress is None else not progress
    return tqdm(total=total, initial=initial, unit="video", desc="features", disable=disable)
