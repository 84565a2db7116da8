"""``build_features``: raw I3D / VGGish trees -> the feature store, resumable, in bounded memory.

Steps: the metadata build gives the ids of each split; the raw trees are indexed once and their
layouts detected (:mod:`.layouts`); every split's ids must be present (or ``allow_missing``) with
crops 0..C-1; then, one video at a time (read ahead by reader threads while the main thread writes
the Arrow shards), each stream's headers are checked, the streams are aligned to a common T
(:mod:`.align`), crops are reduced, values checked finite, labels computed (:mod:`.labels`), and
rows go to a :class:`~.store.ShardWriter`.

Everything is written into ``<collection>.partial/`` beside the destination, with a journal
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
import shutil
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from var_bench._version import __version__
from var_bench.benchmarks import SPLITS, BenchmarkSpec, get_benchmark
from var_bench.data.paths import features_dir
from var_bench.errors import InputError
from var_bench.features.align import aligned_length, parse_crop_policy, policy_text
from var_bench.features.card import metadata_card, render_features_card
from var_bench.features.extraction import (
    EXTRACTION_FILE,
    identity_notes,
    random_marker,
    tree_identities,
)
from var_bench.features.fingerprint import (
    HEAD_ROWS,
    Fingerprint,
    compare,
    file_line,
    known_fingerprints,
    match_lines,
)
from var_bench.features.labels import SNIPPET_FRAMES, snippet_labels
from var_bench.features.layouts import (
    AUTO,
    SYNTH_MARKER,
    StreamIndex,
    check_crops,
    index_streams,
    load_layout_file,
)
from var_bench.features.manifest import BUILD_FORMAT, DTYPES, FeatureManifest
from var_bench.features.readers import check_finite, read_stream, video_headers
from var_bench.features.store import (
    PART_SUFFIX,
    ROW_GROUP_BYTES,
    SHARD_BYTES,
    ShardWriter,
    store_features,
    store_schema,
    stored_crops,
)
from var_bench.features.storelock import holds_store_lock
from var_bench.features.validators import check_marker, check_row
from var_bench.fsutil import atomic_write_text, swap_into_place

log = logging.getLogger(__name__)

JOURNAL = "progress.json"
#: Key of a row's fingerprint lines (taken off the row before it is written; kept in the journal).
_FP = "_fingerprint"
STAGING_SUFFIX = ".partial"
#: Reader threads: numpy and the file reads release the GIL, so they read while the main thread
#: writes, and several reads keep a disk busy.
READERS = 4
#: Videos read ahead per reader thread: a short queue keeps the readers busy while memory stays
#: bounded (each is one video's arrays).
PREFETCH_PER_READER = 4
_SHOWN_MISSING = 10


@dataclass(frozen=True)
class _Meta:
    """What the build needs of one metadata row."""

    video_id: str
    anomalous: bool
    segments: list | None


@holds_store_lock  # one writer per store: a second build or import waits (issue 11)
def build_features(
    benchmark: str | BenchmarkSpec,
    features: str | os.PathLike | None,
    flow=None,
    audio=None,
    layout: str = AUTO,
    crops: str = "mean",
    dtype: str = "float32",
    allow_missing: bool = False,
    home=None,
    snippet_frames: int | None = None,
    progress: bool | None = None,
    *,
    streams: dict | None = None,
    layout_file=None,
    lists: dict | None = None,
    row_group_bytes: int = ROW_GROUP_BYTES,
    shard_bytes: int = SHARD_BYTES,
) -> FeatureManifest:
    """Convert raw feature trees of a benchmark's videos into the store of its video collection,
    ``<home>/features/<collection>/`` (replacing the store a benchmark over the same videos built).

    Args:
        benchmark: the benchmark (its built metadata gives the splits and labels).
        features: the main tree (Flow folders and VGGish files inside it are used unless
            ``flow`` / ``audio`` are given).
        flow, audio: separate Flow and VGGish trees.
        layout: a layout name or ``"auto"`` (detected from the file names and sizes).
        crops: a crop policy: mean | center | all | k, or per split ``train=mean,test=5``.
        dtype: float32 | float16.
        allow_missing: build even when ids of a split have no files (listed in the manifest and
            card).
        home: the data home.
        snippet_frames: F for the snippet labels (default: the synthetic marker's, else 16).
        progress: see :mod:`var_bench.progress` (None: a bar on a terminal, log lines on a pipe).
        streams: more trees, stream name -> folder (e.g. ``{"clip": DIR}``).
        layout_file: a YAML file of user layouts.
        lists: stream (``rgb`` = the main tree) -> list file, or a sequence of them, naming the
            videos to take (their union).
        row_group_bytes, shard_bytes: the store's write sizes.

    Returns:
        The manifest of the finished store (with its fingerprint digest and the known releases
        it matches).

    Raises:
        InputError: a tree in no known layout, a file that does not fit it (one line naming the
            file), missing videos (without ``allow_missing``). NotBuiltError: no built metadata.

    Example:
        >>> m = build_features("ucfcrime-ar", "/data/UCF_Crime_I3D")  # doctest: +SKIP
        >>> m.streams, m.counts  # doctest: +SKIP
        (['rgb'], {'train': 1448, 'val': 162, 'test': 290})
    """
    spec = get_benchmark(benchmark)
    policy = parse_crop_policy(crops, SPLITS)
    if dtype not in DTYPES:
        raise InputError(f"dtype: expected one of {', '.join(DTYPES)}, got {dtype!r}")
    if snippet_frames is not None and int(snippet_frames) < 1:
        raise InputError(f"snippet frames: expected an integer >= 1, got {snippet_frames}")
    if row_group_bytes < 1 or shard_bytes < 1:
        raise InputError("row group and shard sizes: expected positive byte counts")
    built, meta_manifest, metas = _metadata(spec, home)
    user = load_layout_file(layout_file) if layout_file is not None else ()
    index = index_streams(
        spec,
        None if features is None else Path(features),
        None if flow is None else Path(flow),
        None if audio is None else Path(audio),
        layout,
        streams={k: Path(v) for k, v in (streams or {}).items()},
        user_layouts=user,
        lists=lists,
    )
    roots = [Path(p) for p in (features, flow, audio, *(streams or {}).values()) if p is not None]
    identities = tree_identities(roots)
    # Features of random-initialised extractor weights are as meaningless as synthetic ones.
    marker = _marker(roots) or random_marker(identities)
    F = int(snippet_frames or (marker or {}).get("snippet_frames") or SNIPPET_FRAMES)

    missing = {
        s: [
            m.video_id for m in metas[s] if any(m.video_id not in ix.files for ix in index.values())
        ]
        for s in SPLITS
    }
    n_missing = sum(map(len, missing.values()))
    if n_missing and not allow_missing:
        raise InputError(_missing_message(missing, index))
    gone = {v for s in SPLITS for v in missing[s]}
    present = {s: [m.video_id for m in metas[s] if m.video_id not in gone] for s in SPLITS}
    for ix in index.values():
        check_crops(ix, [v for s in SPLITS for v in present[s]])
    stream_crops = _num_crops(index, present)
    num_crops = next((stream_crops[s] for s in ("rgb", *stream_crops) if s in stream_crops), None)
    kept_crops = stored_crops(stream_crops)  # what an `all` split stores [T, C, D]
    notes = _notes(index, metas, marker) + identity_notes(identities)

    dims = {s: ix.dim for s, ix in index.items()}
    schemas = {
        sp: store_schema(store_features(dims, dtype, stream_crops if policy[sp] == "all" else None))
        for sp in SPLITS
    }
    params = {
        "build_format": BUILD_FORMAT,
        "var_bench": __version__,
        "benchmark": spec.name,
        "version": spec.version,
        "ids_sha256": meta_manifest.ids_sha256,
        "streams": {
            s: [ix.layout.name, str(ix.root.resolve()), ix.inputs_sha256, ix.dim]
            for s, ix in index.items()
        },
        "crops": policy,
        "dtype": dtype,
        "allow_missing": bool(allow_missing),
        "snippet_frames": F,
        "row_group_bytes": row_group_bytes,
        "shard_bytes": shard_bytes,
    }
    dest = features_dir(spec, home)
    staging = dest.with_name(dest.name + STAGING_SUFFIX)
    journal = _Journal.open(
        staging, hashlib.sha256(json.dumps(params, sort_keys=True).encode()).hexdigest()
    )

    total = sum(len(metas[s]) for s in SPLITS)
    bar = _bar(total, progress, initial=sum(journal.done(s) for s in SPLITS))
    try:
        for split in SPLITS:
            read = _VideoReader(index, policy[split], np.dtype(dtype), F, kept_crops)
            _build_split(
                split,
                metas[split],
                set(missing[split]),
                read,
                schemas[split],
                staging,
                journal,
                row_group_bytes,
                shard_bytes,
                bar,
            )
    finally:
        bar.close()

    fp = Fingerprint.from_lines(
        journal.fingerprint_lines(list(index)), {s: ix.layout.name for s, ix in index.items()}, dims
    )
    known = known_fingerprints(spec)
    matches = {s: (k.name if k else None) for s, k in compare(fp, known).items()}
    for line in match_lines(fp, known, spec.name):
        log.info("fingerprint: %s", line)

    counts, trimmed, shards, missing_out = journal.summary()
    manifest = FeatureManifest(
        benchmark=spec.name,
        version=spec.version,
        build_format=BUILD_FORMAT,
        var_bench=__version__,
        built_at=datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        layout={s: ix.layout.name for s, ix in index.items()},
        streams=list(index),
        crops_mode=policy_text(policy),
        num_crops=num_crops,
        dtype=dtype,
        dims=dims,
        snippet_frames=F,
        synthetic=marker,
        counts=counts,
        missing=missing_out,
        trimmed=trimmed,
        shards=shards,
        ids_sha256=dict(meta_manifest.ids_sha256),
        notes=notes,
        crops=dict(policy),
        features_digest=fp.digest,
        matches=matches,
        lists={s: [str(p) for p in ix.list_files] for s, ix in index.items()},
        stream_crops=kept_crops,
    )
    atomic_write_text(
        staging / "README.md",
        render_features_card(
            spec, manifest, metadata_card(built), schema_features(schemas["train"])
        ),
    )
    fp.write(staging)
    if identities:
        atomic_write_text(staging / EXTRACTION_FILE, json.dumps(identities, indent=1) + "\n")
    manifest.write(staging)
    (staging / JOURNAL).unlink()
    swap_into_place(staging, dest)
    log.info("feature store of %s written to %s", spec.name, dest)
    return manifest


def schema_features(schema):
    import datasets

    return datasets.Features.from_arrow_schema(schema)


def _metadata(spec: BenchmarkSpec, home):
    """The metadata build's folder, manifest and per split the rows the build needs."""
    import pyarrow.parquet as pq

    from var_bench.data.assembly.manifest import DATA_FILE, VIDEOS_FILE, Manifest
    from var_bench.data.prepare import ensure_built

    built = ensure_built(spec, home=home, download_missing=False)
    manifest = Manifest.read(built)
    metas = {}
    for s in SPLITS:
        if manifest.videos_sha256 is not None:
            # A benchmark of sentences (UCA): a row per sentence; the store holds its videos (no
            # snippet labels: its segments belong to sentences, not to anomalies).
            path = built / VIDEOS_FILE.format(split=s)
            t = pq.read_table(path, columns=["video_id", "anomalous"])
            metas[s] = [_Meta(r["video_id"], bool(r["anomalous"]), None) for r in t.to_pylist()]
            continue
        t = pq.read_table(
            built / DATA_FILE.format(split=s), columns=["video_id", "anomalous", "segments"]
        )
        metas[s] = [
            _Meta(r["video_id"], bool(r["anomalous"]), r["segments"]) for r in t.to_pylist()
        ]
    return built, manifest, metas


def _marker(roots: list[Path]) -> dict | None:
    """The synthetic-tree marker at the first root that has one (None for upstream trees)."""
    for root in roots:
        path = root / SYNTH_MARKER
        if path.is_file():
            try:
                data = json.loads(path.read_text("utf-8"))
            except (OSError, ValueError) as e:
                raise InputError(
                    f"{path}: expected the JSON marker of a synthetic tree, it does not parse ({e})"
                ) from None
            if not isinstance(data, dict):
                raise InputError(f"{path}: expected a JSON object, got {type(data).__name__}")
            check_marker(data, path)
            return data
    return None


def _missing_message(missing: dict[str, list[str]], index: dict[str, StreamIndex]) -> str:
    ids = [v for s in SPLITS for v in missing[s]]
    per = ", ".join(f"{s} {len(missing[s])}" for s in SPLITS if missing[s])
    gone = set(ids)
    # name only the streams that lack videos (a list that left some out, a half-copied tree)
    lacking = {s: sum(v not in ix.files for v in gone) for s, ix in index.items()}
    roots = ", ".join(f"{s} {ix.root} ({n} absent)" for s, ix in index.items() if (n := lacking[s]))
    shown = ", ".join(ids[:_SHOWN_MISSING]) + (", ..." if len(ids) > _SHOWN_MISSING else "")
    return (
        f"expected features for every video of every split, {len(ids)} missing ({per}) in "
        f"{roots}: {shown}; pass --allow-missing to build without them"
    )


def _num_crops(index: dict[str, StreamIndex], present: dict[str, list[str]]) -> dict[str, int]:
    """C per video stream (read from the first video's header for ``[T, C, D]`` files when not
    known yet). rgb and flow must agree (one I3D release); other streams (CLIP with 10 crops
    beside XD's 5, captions with none) keep their own."""
    first = next((v for s in SPLITS for v in present[s]), None)
    found = {}
    for s, ix in index.items():
        if ix.layout.audio:
            continue
        if ix.num_crops is None and first is not None:
            ix.num_crops = video_headers(ix, first)[0].shape[1]
        found[s] = ix.num_crops
    if "rgb" in found and "flow" in found and found["rgb"] != found["flow"]:
        raise InputError(
            "crops: expected the same number of crops in the rgb and flow streams, "
            f"found rgb {found['rgb']}, flow {found['flow']}"
        )
    return found


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
            notes.append(
                f"{s}: {ix.ignored} .npy files under {ix.root} match no file name of "
                f"the stream (ignored)"
            )
    return notes


class _VideoReader:
    """Reads one video into a store row (runs in the reader threads)."""

    def __init__(
        self,
        index: dict[str, StreamIndex],
        crops: str,
        dtype: np.dtype,
        F: int,
        kept_crops: dict[str, int],
    ) -> None:
        self.index, self.crops, self.dtype, self.F = index, crops, dtype, F
        self.dims = {s: ix.dim or ix.layout.dim for s, ix in index.items()}
        # stream -> C of the [T, C, D] columns (an `all` split); one-crop streams stay [T, D]
        self.crops_all = kept_crops if crops == "all" else None

    def __call__(self, item: tuple[int, _Meta]) -> tuple[int, dict, bool]:
        pos, meta = item
        vid = meta.video_id
        heads = {s: video_headers(ix, vid, HEAD_ROWS) for s, ix in self.index.items()}
        lengths = {s: h[0].shape[0] for s, h in heads.items()}
        T = aligned_length(lengths, vid)
        row: dict = {"video_id": vid}
        for s, ix in self.index.items():
            x = read_stream(ix, vid, heads[s], T, self.crops)
            if x.ndim == 3 and x.shape[1] == 1:  # one crop: stored [T, D] (see store_features)
                x = x[:, 0]
            x = x.astype(self.dtype, copy=False)
            check_finite(x, vid, s, _where(heads[s], self.crops, ix))
            row[s] = x
        row["num_snippets"] = T
        for s in self.index:
            row[f"{s}_len"] = lengths[s]
        row["video_label"] = int(meta.anomalous)
        # Segments are null where no temporal annotation exists (train/val) and [] for a normal
        # test video (all zeros).
        row["snippet_labels"] = (
            None if meta.segments is None else snippet_labels(meta.segments, T, self.F)
        )
        # The store's row contract, shared with import-h5 (finiteness was checked above, per file).
        check_row(row, self.dims, self.crops_all, finite=False)
        row[_FP] = {
            s: [file_line(h.path.name, h.shape, h.dtype.str, h.head) for h in hs]
            for s, hs in heads.items()
        }
        return pos, row, any(t != T for t in lengths.values())


def _where(heads, crops: str, ix: StreamIndex) -> str:
    if ix.layout.per_crop and crops not in ("mean", "all"):
        return str(heads[0 if crops == "center" else int(crops)].path)
    if len(heads) == 1:
        return str(heads[0].path)
    return f"{len(heads)} crop files in {heads[0].path.parent} ({heads[0].path.name} ...)"


class _Journal:
    """``progress.json`` in the staging folder: the parameter hash and per split the completed
    shards (``path``, ``rows``, ``ids_done`` = ids of the split consumed through that shard,
    ``missing`` ids and ``trimmed`` videos in it), ``complete`` and the ``tail`` after the last
    shard."""

    def __init__(self, staging: Path, data: dict) -> None:
        self.staging, self.data = staging, data

    @classmethod
    def open(cls, staging: Path, params_hash: str) -> _Journal:
        try:
            data = json.loads((staging / JOURNAL).read_text("utf-8"))
            ok = data.get("params") == params_hash and all(
                (staging / sh["path"]).is_file()
                for st in data["splits"].values()
                for sh in st["shards"]
            )
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            ok = False
        if not ok:
            if staging.exists():
                log.info(
                    "staging folder %s is from other parameters or inputs: starting again", staging
                )
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
        # Not fsynced: a journal lost to a power cut does not parse and the build starts again;
        # the shards it names are fsynced before they get their names.
        atomic_write_text(
            self.staging / JOURNAL,
            json.dumps(self.data, separators=(",", ":")) + "\n",
            durable=False,
        )

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

    def fingerprint_lines(self, streams: list[str]) -> dict[str, list[str]]:
        """stream -> the fingerprint lines of every file read, over all splits."""
        out: dict[str, list[str]] = {s: [] for s in streams}
        for s in SPLITS:
            st = self.data["splits"][s]
            for p in st["shards"] + ([st["tail"]] if st["tail"] else []):
                for stream, lines in p.get("fp", {}).items():
                    out.setdefault(stream, []).extend(lines)
        return out


def _build_split(
    split: str,
    metas: list[_Meta],
    missing: set[str],
    read: _VideoReader,
    schema,
    staging: Path,
    journal: _Journal,
    row_group_bytes: int,
    shard_bytes: int,
    bar,
) -> None:
    """Write one split's shards, continuing after the journal's last completed shard."""
    st = journal.split(split)
    if st["complete"]:
        return
    start = journal.done(split)
    cursor = start
    pending = {"missing": [], "trimmed": 0, "fp": {}}

    def on_shard(rel: str, rows: int) -> None:
        st["shards"].append({"path": rel, "rows": rows, "ids_done": cursor, **pending})
        pending.update(missing=[], trimmed=0, fp={})
        journal.save()

    writer = ShardWriter(
        staging,
        split,
        schema,
        row_group_bytes,
        shard_bytes,
        start_index=len(st["shards"]),
        on_shard=on_shard,
    )
    todo = [(i, m) for i, m in enumerate(metas) if i >= start and m.video_id not in missing]
    try:
        for pos, row, was_trimmed in prefetch(todo, read, PREFETCH_PER_READER * READERS, READERS):
            pending["missing"] += [m.video_id for m in metas[cursor:pos]]
            bar.update(pos + 1 - cursor)
            cursor = pos + 1
            pending["trimmed"] += int(was_trimmed)
            for s, lines in row.pop(_FP).items():
                pending["fp"].setdefault(s, []).extend(lines)
            writer.write([row])
        pending["missing"] += [m.video_id for m in metas[cursor:]]
        bar.update(len(metas) - cursor)
        cursor = len(metas)
        writer.close()
    except BaseException:
        writer.abort()
        raise
    st["complete"] = True
    st["tail"] = (
        dict(pending) if (pending["missing"] or pending["trimmed"] or pending["fp"]) else None
    )
    journal.save()


def prefetch(items: Iterable, fn: Callable, depth: int, workers: int = 1) -> Iterator:
    """``map(fn, items)`` computed by ``workers`` background threads up to ``depth`` items ahead,
    yielded in order (numpy and file reads release the GIL, so reading overlaps the caller's
    shard writing). An exception in ``fn`` is raised here, in order; on exit nothing is left
    running."""
    from concurrent.futures import ThreadPoolExecutor

    it = iter(items)
    pool = ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="var-bench-reader")
    pending: deque = deque()
    try:
        for x in it:
            pending.append(pool.submit(fn, x))
            if len(pending) >= max(1, depth):
                break
        while pending:
            value = pending.popleft().result()
            for x in it:  # keep `depth` in flight
                pending.append(pool.submit(fn, x))
                break
            yield value
    finally:
        for f in pending:
            f.cancel()
        pool.shutdown(wait=True, cancel_futures=True)


def _bar(total: int, progress: bool | None, initial: int = 0):
    from var_bench.progress import Progress

    return Progress(total=total, initial=initial, unit="video", desc="features", progress=progress)
