"""``extract``: benchmark videos -> raw feature trees in the upstream layout, resumable and sharded.

Per video (its id from the built benchmark, its file found by stem under ``videos``):
decode frame by frame -> frame-rate conversion -> resize -> [flow step] -> 16-frame snippets
(:mod:`.snippets`) -> crops -> the model, batched on the device -> ``[T, C, D]`` -> one ``[T, D]``
float32 file per crop (``[<Class>/]<Stem>__<k>.npy``) or ``<Stem>__vggish.npy`` for audio.

Output folders: ``i3d-rgb`` and ``clip-vit-b16`` write at ``out``; ``i3d-flow`` at ``out/Flow``;
``vggish`` at ``out/VGGish`` (the store's layout detection puts ``Flow/`` files in the flow stream
and ``__vggish`` files in the audio stream), each with its own ``extraction.json``.

Never half-written and resumable: every file is written to a temporary name and renamed, and a
video is done once its marker exists (:mod:`.state`). Sharding (``shard=(K, N)``): :mod:`.shards`.

Overlap: ``workers`` threads decode (and, for TV-L1, compute flow) up to ``workers`` videos ahead
while the main thread runs the model; ``workers=0`` does everything in the calling thread.
"""

from __future__ import annotations

import functools
import logging
import os
import queue
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from var_bench._version import __version__
from var_bench.errors import InputError
from var_bench.extract import frames as FR
from var_bench.extract import recipes as R
from var_bench.extract.distributed import RayOptions, map_videos, resolve_ray
from var_bench.extract.flow import FLOW_METHODS, FlowCarry, make_flow
from var_bench.extract.models import MODELS, STREAM_OF, Encoder, load_encoder
from var_bench.extract.shards import parse_shard, shard_of
from var_bench.extract.snippets import SnippetCutter
from var_bench.extract.state import (
    STATE_DIR,
    check_identity,
    clean_stale,
    is_done,
    write_summary,
    write_video,
)
from var_bench.extract.video import (
    decode_audio,
    decode_frames,
    decoder_identity,
    index_videos,
    match_videos,
    probe_frames,
)
from var_bench.features.extraction import RANDOM_WEIGHTS
from var_bench.limits import bound, refuse

log = logging.getLogger(__name__)

SUBFOLDER = {"i3d-flow": "Flow", "vggish": "VGGish"}
#: Frames decoded per chunk handed from a worker to the model (bounds memory per video).
CHUNK_SNIPPETS = 4
#: Chunks a worker may queue ahead per video.
QUEUE_DEPTH = 4


@dataclass
class ExtractResult:
    """What a call did: ``out`` (the model's folder), ``done`` (videos extracted now),
    ``skipped`` (already done), ``missing`` (ids without a video file), ``snippets`` made,
    ``seconds`` of wall time, the feature set's ``identity``, and ``too_short`` (videos shorter
    than one snippet: nothing written, so a rerun retries them)."""

    out: Path
    done: list[str]
    skipped: list[str]
    missing: list[str]
    snippets: int
    seconds: float
    identity: dict[str, Any]
    #: Videos shorter than one snippet: skipped with a warning, nothing written, not done.
    too_short: list[str] = field(default_factory=list)

    @property
    def snippets_per_second(self) -> float:
        return self.snippets / self.seconds if self.seconds > 0 else 0.0


@dataclass
class _Job:
    """One video to extract."""

    stem: str
    path: Path
    files: list[Path]
    cls: str | None = None


@dataclass
class _Plan:
    """Everything fixed for a run: the recipe, encoder, flow step and output names."""

    key: str
    recipe: R.Recipe
    encoder: Encoder
    flow: Any
    batch: int
    out: Path
    identity: dict[str, Any] = field(default_factory=dict)


def identity_of(
    key: str, recipe: R.Recipe, encoder: Encoder, flow, benchmark: str
) -> dict[str, Any]:
    """The feature set's identity: everything that changes the numbers."""
    import torch

    visual = key != "vggish"
    ident: dict[str, Any] = {
        "model": key,
        "stream": STREAM_OF[key],
        "dim": encoder.dim,
        "benchmark": benchmark,
        "weights": encoder.weights,
        RANDOM_WEIGHTS: encoder.random,
        "recipe": recipe.to_dict(),
        "fps": recipe.fps,
        "resize": recipe.resize if visual else None,
        "interpolation": FR.interpolation_identity(recipe.interpolation) if visual else None,
        "crop": recipe.crop if visual else None,
        "crops": recipe.crops if visual else 1,
        "snippet_frames": recipe.snippet_frames,
        "snippet_stride": recipe.snippet_frames,
        "flow": flow.identity() if flow is not None else None,
        "decoder": decoder_identity(),
        "precision": encoder.precision,
        "versions": {"var_bench": __version__, "torch": torch.__version__, "numpy": np.__version__},
    }
    if key == "i3d-rgb" or key == "i3d-flow":
        ident["feature"] = "I3D Mixed_5c mean over time and space"
    elif key == "clip-vit-b16":
        ident["feature"] = (
            f"CLIP ViT-B/16 image embedding (unnormalised), {recipe.clip_frame} frame(s) "
            f"of each snippet"
        )
    else:
        ident["feature"] = (
            "VGGish embedding after PCA + 8-bit quantisation"
            if recipe.audio_output == "pca"
            else "VGGish raw embedding"
        )
        ident["audio"] = {
            "rate": 16000,
            "mono": True,
            "downmix": "mean of the channels",
            "resampler": "ffmpeg swresample",
            "window_s": 0.96,
            "window_end": "(k + 1) * F / fps s",
            "T": "#{k: round(100 (k + 1) F / fps) <= log-mel frames}",
        }
    if flow is not None:
        import cv2

        ident["versions"]["opencv"] = cv2.__version__
    return ident


def _frame_chunks(job: _Job, recipe: R.Recipe) -> Iterator[np.ndarray]:
    """Resized RGB frames of a video in chunks of ``CHUNK_SNIPPETS * F`` frames (last shorter)."""
    size = CHUNK_SNIPPETS * recipe.snippet_frames
    chunk: list[np.ndarray] = []
    for frame in decode_frames(job.path, recipe.fps, resize=recipe.resize):
        chunk.append(FR.resize_frame(frame, recipe.resize, recipe.interpolation))
        if len(chunk) == size:
            yield np.stack(chunk)
            chunk = []
    if chunk:
        yield np.stack(chunk)


def _produce_visual(plan: _Plan) -> Callable[[_Job], Iterator]:
    """The worker side of a visual model: ``("frames", n)`` counts and model inputs — cropped
    snippets (``("snips", array)``), or frames for a device-side flow step (``("raw", array)``)."""

    def produce(job: _Job) -> Iterator:
        worker_flow = plan.flow is not None and not plan.flow.on_device
        carry = FlowCarry(plan.flow) if worker_flow else None
        cutter = (
            None if (plan.flow is not None and plan.flow.on_device) else SnippetCutter(plan.recipe)
        )
        for chunk in _frame_chunks(job, plan.recipe):
            yield ("frames", len(chunk))
            if cutter is None:
                yield ("raw", chunk)
                continue
            x = carry.push(chunk) if carry is not None else chunk
            snips = cutter.push(x) if len(x) else None
            if snips is not None:
                yield ("snips", snips)

    return produce


def _produce_audio(plan: _Plan) -> Callable[[_Job], Iterator]:
    from var_bench.extract.vggish import examples_at, log_mel

    def produce(job: _Job) -> Iterator:
        samples = decode_audio(job.path)
        mel = log_mel(samples)
        ends = R.audio_window_ends(
            len(mel), plan.recipe.fps or _native_fps(job.path), plan.recipe.snippet_frames
        )
        yield ("frames", len(samples))
        for s in range(0, len(ends), plan.batch):
            yield ("examples", examples_at(mel, ends[s : s + plan.batch]))

    return produce


def _native_fps(path: Path) -> float:
    from var_bench.extract.video import _open, native_rate

    c = _open(path)
    try:
        return float(native_rate(c.streams.video[0]))
    finally:
        c.close()


def _encode_video(
    plan: _Plan, items: Iterator, on_snippets: Callable[[int], None]
) -> tuple[np.ndarray, int]:
    """Run the model over one video's items; ``[T, C, D]`` (audio: ``[T, 1, D]``) and N."""
    import torch

    enc = plan.encoder
    outs: list[np.ndarray] = []
    n_frames = 0
    pending: list[np.ndarray] = []
    device_flow = FlowCarry(plan.flow) if plan.flow is not None and plan.flow.on_device else None
    cutter = SnippetCutter(plan.recipe) if device_flow is not None else None
    per = max(1, plan.batch // plan.recipe.crops)  # snippets per forward pass

    def run(snips: np.ndarray) -> None:
        s, c = snips.shape[:2]
        feats = enc.encode(
            torch.from_numpy(np.ascontiguousarray(snips.reshape(s * c, *snips.shape[2:])))
        )
        outs.append(feats.numpy().reshape(s, c, -1))
        on_snippets(s)

    def flush(force: bool) -> None:
        while pending and (force or sum(len(p) for p in pending) >= per):
            allx = np.concatenate(pending)
            pending.clear()
            take = len(allx) if force else (len(allx) // per) * per
            for i in range(0, take, per):
                run(allx[i : i + per])
            if take < len(allx):
                pending.append(allx[take:])
            if not force:
                return

    for kind, value in items:
        if kind == "frames":
            n_frames += value
        elif kind == "examples":
            feats = enc.encode(torch.from_numpy(value))
            outs.append(feats.numpy()[:, None])
            on_snippets(len(value))
        else:
            snips = value if kind == "snips" else cutter.push(device_flow.push(value))
            if snips is not None:
                pending.append(snips)
                flush(False)
    flush(True)
    if outs:
        return np.concatenate(outs).astype(np.float32), n_frames
    return _empty(plan), n_frames


def _empty(plan: _Plan) -> np.ndarray:
    """The ``[0, C, D]`` features of a video too short for one snippet."""
    c = 1 if plan.key == "vggish" else plan.recipe.crops
    return np.zeros((0, c, plan.encoder.dim), np.float32)


# -- the Ray Data path: the same inputs and batches as above, cut into independent chunks --------


def _ray_decode(key: str, recipe: R.Recipe, batch: int, path: str) -> Iterator[dict]:
    """A decoding worker's side of ``extract`` for one video: chunks of model-input frames of
    exactly one forward pass (``max(1, batch // crops)`` snippets; the last one shorter), or of
    ``batch`` VGGish examples, each with the decoded frames (samples) it consumed (``count``).
    Batches therefore fall where the single-process loop puts them, so the features are equal."""
    if key == "vggish":
        from var_bench.extract.vggish import examples_at, log_mel

        samples = decode_audio(path)
        mel = log_mel(samples)
        ends = R.audio_window_ends(
            len(mel), recipe.fps or _native_fps(Path(path)), recipe.snippet_frames
        )
        count = len(samples)
        for s in range(0, len(ends), batch):
            yield {"x": examples_at(mel, ends[s : s + batch]), "count": np.array([count])}
            count = 0
        if count:
            yield {"x": None, "count": np.array([count])}
        return
    size = max(1, batch // recipe.crops) * recipe.snippet_frames
    carry = FlowCarry(make_flow("tvl1")) if key == "i3d-flow" else None
    buf: list[np.ndarray] = []
    held = count = 0
    for chunk in _frame_chunks(_Job(Path(path).stem, Path(path), []), recipe):
        count += len(chunk)
        x = carry.push(chunk) if carry is not None else chunk
        buf.append(x)
        held += len(x)
        while held >= size:
            allx = np.concatenate(buf)
            yield {"x": allx[:size], "count": np.array([count])}
            count = 0
            buf, held = [allx[size:]], held - size
    yield {"x": np.concatenate(buf) if buf else None, "count": np.array([count])}


def _ray_encoder(key, weights, device, recipe, precision, pca, home, unpinned):
    """An encoding worker's model (loaded once, never downloading) -> its ``encode(chunk)``."""
    import torch

    enc = load_encoder(
        key,
        weights,
        device=device,
        recipe=recipe,
        precision=precision,
        pca=pca,
        home=home,
        allow_unpinned=unpinned,
        download=False,
    )
    crops = 1 if key == "vggish" else recipe.crops

    def encode(chunk: dict) -> dict:
        x = chunk["x"]
        feats = np.zeros((0, crops, enc.dim), np.float32)
        if x is not None and key == "vggish" and len(x):
            feats = enc.encode(torch.from_numpy(x)).numpy()[:, None]
        elif x is not None and key != "vggish":
            snips = SnippetCutter(recipe).push(x) if len(x) else None
            if snips is not None:
                s, c = snips.shape[:2]
                flat = np.ascontiguousarray(snips.reshape(s * c, *snips.shape[2:]))
                feats = enc.encode(torch.from_numpy(flat)).numpy().reshape(s, c, -1)
        return {"feats": feats.astype(np.float32), "count": chunk["count"]}

    return encode


def _pipelined(
    jobs: list[_Job], produce: Callable[[_Job], Iterator], workers: int
) -> Iterator[tuple[_Job, Iterator]]:
    """``(job, items)`` in order; items come from ``workers`` threads up to ``workers`` videos
    ahead."""
    if workers <= 0:
        for job in jobs:
            yield job, produce(job)
        return
    queues = [queue.Queue(maxsize=QUEUE_DEPTH) for _ in jobs]
    stop = threading.Event()
    lock = threading.Lock()
    next_job = [0]

    def put(q: queue.Queue, item) -> bool:
        while not stop.is_set():
            try:
                q.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def work() -> None:
        while not stop.is_set():
            with lock:
                i = next_job[0]
                next_job[0] += 1
            if i >= len(jobs):
                return
            try:
                for item in produce(jobs[i]):
                    if not put(queues[i], ("item", item)):
                        return
                put(queues[i], ("end", None))
            except BaseException as e:  # handed to the consumer, raised there in order
                put(queues[i], ("error", e))

    threads = [
        threading.Thread(target=work, name=f"var-bench-decode-{w}", daemon=True)
        for w in range(min(workers, len(jobs)))
    ]
    for t in threads:
        t.start()

    def items(q: queue.Queue) -> Iterator:
        while True:
            tag, value = q.get()
            if tag == "end":
                return
            if tag == "error":
                raise value
            yield value

    try:
        for i, job in enumerate(jobs):
            yield job, items(queues[i])
    finally:
        stop.set()
        for t in threads:
            t.join()


def check_run_snippets(jobs: list[_Job], recipe: R.Recipe) -> int:
    """The run's snippets, ``sum(floor(duration_s * fps / F))`` over the videos to do, from each
    container's header (:func:`~var_bench.extract.video.probe_frames`, no decoding); refused
    above the ``run_snippets`` bound before any work starts. Returns the total."""
    total = sum(int(probe_frames(j.path, recipe.fps) // recipe.snippet_frames) for j in jobs)
    if total > bound("run_snippets"):
        raise refuse(
            "run_snippets",
            "extract",
            f"{total} ({len(jobs)} videos at {recipe.fps or 'native'} fps, "
            f"{recipe.snippet_frames} frames a snippet)",
        )
    return total


def _benchmark_videos(spec, home) -> tuple[list[str], dict[str, str]]:
    """Canonical ids of every split and their class names."""
    from var_bench.benchmarks import SPLITS
    from var_bench.data.prepare import load_table

    table = load_table(spec.name, "+".join(SPLITS), home=home, download=False)
    ids = table["video_id"].tolist()
    classes = dict(zip(ids, table["class"].tolist())) if "class" in table else {}
    return ids, classes


def extract(
    benchmark: str,
    videos: str | os.PathLike,
    out: str | os.PathLike,
    model: str,
    *,
    recipe: str | R.Recipe | None = None,
    flow: str = "tvl1",
    crops: int | None = None,
    device: str = "cpu",
    batch: int = 32,
    workers: int = 2,
    shard: str | tuple[int, int] | None = None,
    weights: str | os.PathLike | None = None,
    pca: str | os.PathLike | None = None,
    allow_missing: bool = False,
    precision: str = "fp32",
    unpinned_weights: bool = False,
    ids: list[str] | None = None,
    ray: RayOptions | str | None = None,
    progress: bool | None = None,
    home=None,
    download: bool = True,
    mirror: str | None = None,
) -> ExtractResult:
    """Extract features of a benchmark's videos into a raw feature tree in the upstream layout
    (what ``var-bench build`` reads), resumably.

    Args:
        benchmark: the benchmark whose videos (every split's) are extracted.
        videos: the folder holding the video files.
        out: the tree to write.
        model: ``i3d-rgb``, ``i3d-flow``, ``vggish`` or a CLIP model (``MODELS``).
        recipe: a name of :data:`~var_bench.extract.recipes.RECIPES` or a :class:`Recipe`
            (default: the public-release recipe of the benchmark's video collection; ``vadclip``
            for CLIP).
        flow: ``tvl1`` or ``raft`` (``i3d-flow``). crops: 10 | 5 | 1, overriding the recipe's.
        device, batch, workers, precision: the torch device, clips (snippet x crop) per forward
            pass, decoding threads running ahead of the model, fp32 | fp16 | bf16.
        shard: ``"K/N"`` or ``"auto"`` (torchrun / SLURM variables).
        weights: a file or folder, ``"random"`` (random-initialised, for tests and dry runs: the
            identity says so), or None (the data home's pinned file, fetched into it first when
            missing unless ``download`` is False; ``mirror``: a folder or http(s) URL to fetch
            from, default ``$VAR_BENCH_MIRROR``, else the pinned URL).
        pca: the VGGish PCA file (default: beside the weights).
        allow_missing: skip videos with no file (listed) instead of refusing.
        unpinned_weights: accept weights whose sha256 is not pinned.
        ids: extract only these ids (default: every split's).
        ray: run on Ray Data (:mod:`var_bench.extract.distributed`): a
            :class:`~var_bench.extract.distributed.RayOptions`, ``"local"`` (a local Ray) or a
            cluster address. Decoding (and TV-L1 flow) runs on ``workers`` CPU workers, the model
            on the encoding workers (one GPU each when ``device`` is CUDA); this process writes
            the same files, array for array, as without Ray. Workers read ``weights`` (or the
            data home's pinned file) from the same path. RAFT flow is not offered on Ray.
        progress, home: the progress policy; the data home.

    Returns:
        An :class:`ExtractResult`: the videos done, skipped and failed, and the tree's identity.

    Raises:
        InputError: an unknown model, recipe or option; missing videos (without
            ``allow_missing``); weights that do not verify. ExtrasError: the ``extract`` extra
            is not installed.

    Example:
        >>> extract("ucfcrime-ar", "UCF_Crimes/Videos", "feats/ucf", "i3d-rgb")  # doctest: +SKIP
    """
    from var_bench.benchmarks import get_benchmark

    t0 = time.perf_counter()
    spec = get_benchmark(benchmark)
    if model not in MODELS:
        raise InputError(f"--model: expected one of {', '.join(MODELS)}, got {model!r}")
    if flow not in FLOW_METHODS:
        raise InputError(f"--flow: expected one of {', '.join(FLOW_METHODS)}, got {flow!r}")
    if batch < 1 or workers < 0:
        raise InputError(
            f"--batch / --workers: expected batch >= 1 and workers >= 0, got {batch}, {workers}"
        )
    rec = (
        R.get_recipe(recipe)
        if recipe is not None
        else R.default_recipe(spec.videos.name, "clip" if model.startswith("clip") else "i3d")
    )
    rec = rec.with_options(crops=crops)
    k, n = parse_shard(shard)
    if device == "cuda" and n > 1 and "LOCAL_RANK" in os.environ:
        device = f"cuda:{int(os.environ['LOCAL_RANK'])}"  # one GPU per torchrun process

    all_ids, classes = _benchmark_videos(spec, home)
    if ids is not None:
        unknown = [v for v in ids if v not in set(all_ids)]
        if unknown:
            raise InputError(
                f"ids: expected ids of {spec.name}, got {len(unknown)} unknown: "
                f"{', '.join(unknown[:10])}"
            )
        all_ids = [v for v in all_ids if v in set(ids)]
    mine = shard_of(all_ids, (k, n))
    found = match_videos(all_ids, index_videos(videos), videos, allow_missing)
    missing = [v for v in mine if v not in found]

    ray_opts = resolve_ray(ray, device, workers)
    if ray_opts is not None and model == "i3d-flow" and flow == "raft":
        raise InputError(
            "--ray: expected --flow tvl1 for i3d-flow (TV-L1 runs on the decoding workers), got "
            "raft, which runs beside the model; use --shard to spread a RAFT extraction"
        )
    fetching = {"download": download, "mirror": mirror, "progress": progress}
    encoder = load_encoder(
        model,
        None if weights is None else str(weights),
        # On Ray the model runs on the workers: this process loads it on the CPU only to
        # resolve and verify the weights and to know the identity.
        device="cpu" if ray_opts is not None else device,
        recipe=rec,
        precision="fp32" if ray_opts is not None else precision,
        pca=pca,
        home=home,
        allow_unpinned=unpinned_weights,
        **fetching,
    )
    if ray_opts is not None:
        encoder = replace(encoder, precision=precision)
    flow_step = None
    if model == "i3d-flow":
        raft_state, raft_entry = (
            _raft_weights(weights, home, unpinned_weights, **fetching)
            if flow == "raft"
            else (None, None)
        )
        flow_step = make_flow(flow, device=device, weights=raft_state)
        flow_step.weights_entry = raft_entry
    out_dir = Path(out) / SUBFOLDER.get(model, "")
    identity = identity_of(model, rec, encoder, flow_step, spec.name)
    plan = _Plan(model, rec, encoder, flow_step, batch, out_dir, identity)
    state = out_dir / STATE_DIR
    check_identity(state, identity)

    class_folders = (
        bool(spec.video_layouts and spec.video_layouts[0].class_folders) and model != "vggish"
    )
    jobs, skipped = [], []
    for vid in mine:
        if vid not in found:
            continue
        if is_done(state, vid):
            skipped.append(vid)
            continue
        folder = (
            out_dir / str(classes.get(vid, "")) if class_folders and classes.get(vid) else out_dir
        )
        files = (
            [folder / f"{vid}__vggish.npy"]
            if model == "vggish"
            else [folder / f"{vid}__{c}.npy" for c in range(rec.crops)]
        )
        jobs.append(_Job(vid, found[vid], files, classes.get(vid)))
    check_run_snippets(jobs, rec)
    log.info(
        "extract %s %s: shard %d/%d, %d videos to do, %d already done, %d missing",
        spec.name,
        model,
        k,
        n,
        len(jobs),
        len(skipped),
        len(missing),
    )

    produce = _produce_audio(plan) if model == "vggish" else _produce_visual(plan)
    bar = _bar(len(jobs), progress, model)
    snippets = [0]
    t_start = time.perf_counter()

    def on_snippets(s: int) -> None:
        snippets[0] += s
        el = time.perf_counter() - t_start
        bar.set_postfix_str(f"{snippets[0] / el:.1f} snippets/s" if el > 0 else "", refresh=False)

    def local_results() -> Iterator[tuple[_Job, np.ndarray, int]]:
        for job, items in _pipelined(jobs, produce, workers):
            clean_stale(job.files)
            feats, n_frames = _encode_video(plan, items, on_snippets)
            yield job, feats, n_frames

    def ray_results() -> Iterator[tuple[_Job, np.ndarray, int]]:
        by_stem = {job.stem: job for job in jobs}
        worker_encoder = functools.partial(
            _ray_encoder,
            model,
            None if weights is None else str(weights),
            "cuda" if ray_opts.num_gpus else "cpu",
            rec,
            precision,
            None if pca is None else str(pca),
            home,
            unpinned_weights,
        )
        for stem, out in map_videos(
            [(job.stem, job.path) for job in jobs],
            functools.partial(_ray_decode, model, rec, plan.batch),
            worker_encoder,
            ray=ray_opts,
        ):
            clean_stale(by_stem[stem].files)
            feats = _empty(plan) if out is None else out["feats"]
            on_snippets(len(feats))
            yield by_stem[stem], feats, 0 if out is None else int(out["count"].sum())

    done: list[str] = []
    too_short: list[str] = []
    try:
        for job, feats, n_frames in ray_results() if ray_opts is not None else local_results():
            if len(feats) == 0:  # shorter than one snippet: no file, no done-marker
                log.warning(
                    "%s: skipped, shorter than one snippet (%d %s < %d frames); no features "
                    "written",
                    job.path,
                    n_frames,
                    "samples" if plan.key == "vggish" else "frames",
                    plan.recipe.snippet_frames,
                )
                too_short.append(job.stem)
                bar.update(1)
                continue
            write_video(
                state,
                plan.out,
                job.stem,
                job.files,
                feats,
                {"samples" if plan.key == "vggish" else "frames": int(n_frames)},
            )
            done.append(job.stem)
            bar.update(1)
    finally:
        bar.close()
    write_summary(out_dir)
    seconds = time.perf_counter() - t0
    log.info(
        "extracted %d videos (%d snippets) in %.1f s: %.2f snippets/s",
        len(done),
        snippets[0],
        seconds,
        snippets[0] / max(seconds, 1e-9),
    )
    return ExtractResult(out_dir, done, skipped, missing, snippets[0], seconds, identity, too_short)


def _raft_weights(weights, home, unpinned: bool, **fetching) -> tuple[dict | None, dict]:
    """RAFT's state dict and weights entry: the data home's pinned file (fetched when missing, per
    ``fetching``: ``download``, ``mirror``, ``progress``), random (None) when the I3D weights are
    random."""
    from var_bench.extract import weights as W

    if weights == W.RANDOM:
        return None, {"random": True}
    pin = W.PINS["raft"]
    vf = W.verify(W.resolve(pin, None, home, **fetching), pin, allow_unpinned=unpinned)
    return W.load_state_dict(vf.path), {
        "file": pin.filename,
        "sha256": vf.sha256,
        "pinned": vf.pinned,
    }


def _bar(total: int, progress: bool | None, desc: str):
    from tqdm.auto import tqdm

    disable = (not sys.stderr.isatty()) if progress is None else not progress
    return tqdm(total=total, unit="video", desc=desc, disable=disable)
