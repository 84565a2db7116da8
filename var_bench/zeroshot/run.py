"""``var-bench zeroshot``: a zero-shot encoder on a benchmark's raw videos (or on a CLIP
frame-feature store) -> an official submission ``.npz`` with its sampling manifest -> a record.

Steps (each a top-level function, so a distributed runner can map them): the frame-layout
self-check (:func:`~var_bench.zeroshot.selfcheck.self_check`, before anything is encoded); per
gallery video, :func:`~var_bench.zeroshot.sampling.decode_video` (CPU) then :func:`encode_video`
(the model), both skipped on an embedding-cache hit (:mod:`.cache`); pooling
(:func:`~var_bench.zeroshot.pooling.pool`); the queries (captions through ``encode_text``, or
each video's audio through ``encode_audio``, windows mean-pooled); ``S = Q V^T`` (cosine
similarities, rows = queries, columns = videos); the submission in the per-direction layout with
the manifest in its provenance; the record (:func:`var_bench.score`).
"""

from __future__ import annotations

import functools
import logging
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from var_bench._version import __version__
from var_bench.benchmarks import BenchmarkSpec, get_benchmark
from var_bench.errors import InputError
from var_bench.extract.distributed import RayOptions, map_videos, resolve_ray
from var_bench.zeroshot.cache import EmbeddingCache, model_key
from var_bench.zeroshot.encoders.base import ENCODERS, Sampling, ZeroShotEncoder, get_encoder
from var_bench.zeroshot.pooling import POOLINGS, pool
from var_bench.zeroshot.sampling import decode_video, decoder_name
from var_bench.zeroshot.selfcheck import check_frames, self_check

log = logging.getLogger(__name__)

#: The leaderboard track of zero-shot entries on raw video (the record's feature set).
RAW_VIDEO_TRACK = "zero-shot, raw video"
#: The track of a text tower scored against a CLIP frame-feature store.
FEATURES_TRACK = "zero-shot, CLIP frame features"
#: Default embedding cache: ``<data home>/zeroshot-cache``.
CACHE_FOLDER = "zeroshot-cache"
#: Videos decoded ahead of the encoder, in threads.
DECODE_WORKERS = 2


@dataclass(frozen=True)
class ZeroShotResult:
    """What a zero-shot run made: the submission, its record, the manifest and the work done
    (``encoded`` videos sent through the model, ``cached`` ones read from the cache)."""

    out: Path
    record: Any
    sampling: Sampling
    encoded: int
    cached: int
    seconds: float


def encode_video(encoder: ZeroShotEncoder, frames: np.ndarray) -> np.ndarray:
    """The encode step: decoded frames ``(T, H, W, 3)`` uint8 RGB -> ``(T, d)`` float32
    L2-normalised frame embeddings (the layout checked first)."""
    emb = encoder.encode_frames(check_frames(frames))
    return np.ascontiguousarray(emb, dtype=np.float32)


def roundtrip(frames: np.ndarray, fps: float, max_frames: int) -> np.ndarray:
    """``frames`` written as an H.264 video at ``fps`` and decoded back by :func:`decode_video`
    (the pipeline's decoder, index rule included): what the self-check feeds the preprocessing."""
    import av

    with tempfile.TemporaryDirectory(prefix="var-bench-selfcheck-") as tmp:
        path = Path(tmp) / "pattern.mp4"
        with av.open(str(path), "w") as c:
            s = c.add_stream("libx264", rate=Fraction(fps).limit_denominator(1001))
            s.height, s.width = frames.shape[1:3]
            s.pix_fmt = "yuv420p"
            s.options = {"crf": "0", "preset": "ultrafast", "threads": "1"}
            for f in frames:
                for packet in s.encode(av.VideoFrame.from_ndarray(f, format="rgb24")):
                    c.mux(packet)
            for packet in s.encode():
                c.mux(packet)
        return decode_video(path, fps, max_frames)


def run_self_check(encoder: ZeroShotEncoder, decode: bool = True) -> None:
    """The frame-layout self-check of ``encoder``; with ``decode``, through the decoder as well
    (skipped when ``max_frames`` < 4: the pattern's four frames would be thinned)."""
    s = encoder.sampling
    if decode and s.max_frames >= 4:
        self_check(encoder, lambda f: roundtrip(f, s.fps, s.max_frames))
    else:
        self_check(encoder)


def video_embeddings(
    encoder: ZeroShotEncoder,
    paths: Mapping[str, Path],
    cache: EmbeddingCache,
    progress: bool | None = None,
    decode_workers: int = DECODE_WORKERS,
    ray: RayOptions | None = None,
    worker_encoder: Callable[[], ZeroShotEncoder] | None = None,
) -> dict[str, np.ndarray]:
    """``(T, d)`` frame embeddings of every video (cache first, then decode + encode)."""
    got = frame_entries(encoder, paths, cache, progress, decode_workers, ray, worker_encoder)
    return {vid: emb for vid, (emb, _) in got.items()}


# -- the steps a worker runs (module level, so Ray can ship them) -------------------------------


def decode_entry(path: str | Path, fps: float, max_frames: int) -> dict[str, np.ndarray]:
    """The decode step as a record: ``{"frames": (T, H, W, 3) uint8, "times": (T,) s}``."""
    frames, times = decode_video(path, fps, max_frames, with_times=True)
    return {"frames": frames, "times": times}


def encode_entry(encoder: ZeroShotEncoder, item: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The encode step on :func:`decode_entry`'s record: ``{"emb": (R, d), "edges": (R + 1,)}``
    (:func:`encode_video`, then :func:`row_edges`)."""
    emb = encode_video(encoder, item["frames"])
    return {"emb": emb, "edges": row_edges(item["times"], len(emb), encoder.sampling.fps)}


def encode_audio_entry(encoder: ZeroShotEncoder, samples: np.ndarray) -> np.ndarray:
    """The audio encode step: mono samples at the manifest's rate -> ``(W, d)`` float32."""
    rate = encoder.sampling.audio_rate
    return np.ascontiguousarray(encoder.encode_audio(samples, rate), np.float32)


def named_encoder(model: str, weights: str | None, device: str, recipe: tuple) -> ZeroShotEncoder:
    """A worker's own copy of a registered encoder (``recipe``: the sampling options as
    ``(key, value)`` pairs), loaded once per worker."""
    return get_encoder(model, weights, device, **dict(recipe))


def given_encoder(encoder: ZeroShotEncoder) -> ZeroShotEncoder:
    """A worker's copy of an encoder object the caller built (shipped pickled)."""
    return encoder


def _step(factory: Callable[[], ZeroShotEncoder], step: Callable) -> Callable:
    """An encoding worker's function: its encoder built once, ``step`` bound to it."""
    return functools.partial(step, factory())


def frame_entries(
    encoder: ZeroShotEncoder,
    paths: Mapping[str, Path],
    cache: EmbeddingCache,
    progress: bool | None = None,
    decode_workers: int = DECODE_WORKERS,
    ray: RayOptions | None = None,
    worker_encoder: Callable[[], ZeroShotEncoder] | None = None,
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Per video ``((R, d) embeddings, (R + 1,) row edges in seconds)``: from the cache, else
    :func:`~var_bench.zeroshot.sampling.decode_video` then :func:`encode_video`. Row ``r``
    covers seconds ``[edges[r], edges[r + 1])``: one row per sampled frame (frame times, the last
    plus ``1 / fps``), or, for an encoder that embeds the whole clip in fewer rows, the sampled
    span cut evenly.

    Decoding runs ``decode_workers`` videos ahead of the encoder in threads (FFmpeg releases the
    GIL), so on a GPU the decoder's time hides behind the model's; 0 decodes in line. With
    ``ray``, the cache misses go through :func:`~var_bench.extract.distributed.map_videos`
    instead: :func:`decode_entry` on ``ray.decode_workers`` CPU workers, :func:`encode_entry` on
    ``ray.encode_workers`` workers, each with the encoder ``worker_encoder()`` builds (default:
    ``encoder`` itself, shipped pickled). Results and their order depend on neither.
    """
    from concurrent.futures import ThreadPoolExecutor

    from var_bench.progress import Progress

    s = encoder.sampling
    out: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    todo = []
    for vid, path in paths.items():
        found = cache.get_entry(path)
        if found is None:
            todo.append((vid, path))
        elif found[1] is None:  # an entry stored without times: frames 1 / fps apart
            out[vid] = (found[0], np.arange(len(found[0]) + 1) / (s.fps or 1.0))
        else:
            out[vid] = found

    if ray is not None:
        where = dict(todo)
        rows = map_videos(
            todo,
            functools.partial(decode_entry, fps=s.fps, max_frames=s.max_frames),
            functools.partial(
                _step, worker_encoder or functools.partial(given_encoder, encoder), encode_entry
            ),
            ray=ray,
        )
        with Progress(total=len(todo), desc="zero-shot", unit="video", progress=progress) as bar:
            for vid, got in rows:
                cache.put(where[vid], got["emb"], got["edges"])
                out[vid] = (got["emb"], got["edges"])
                bar.update(1)
        return {vid: out[vid] for vid in paths}

    def decode(path: Path):
        return decode_video(path, s.fps, s.max_frames, with_times=True)

    with (
        Progress(total=len(todo), desc="zero-shot", unit="video", progress=progress) as bar,
        ThreadPoolExecutor(max_workers=max(1, decode_workers)) as pool_,
    ):
        ahead = max(0, decode_workers)
        pending = [pool_.submit(decode, p) for _, p in todo[:ahead]]
        for i, (vid, path) in enumerate(todo):
            if ahead:
                frames, times = pending.pop(0).result()
                if i + ahead < len(todo):
                    pending.append(pool_.submit(decode, todo[i + ahead][1]))
            else:
                frames, times = decode(path)
            emb = encode_video(encoder, frames)
            edges = row_edges(times, len(emb), s.fps)
            cache.put(path, emb, edges)
            out[vid] = (emb, edges)
            bar.update(1)
    return {vid: out[vid] for vid in paths}


def row_edges(times: np.ndarray, rows: int, fps: float | None) -> np.ndarray:
    """Seconds each of ``rows`` embedding rows covers, as ``rows + 1`` edges, from the sampled
    frames' ``times``: the frame times and the last plus ``1 / fps`` when there is a row per
    frame, else that span cut evenly.

    >>> row_edges(np.array([0.0, 1.0, 2.0]), 3, 1.0).tolist()
    [0.0, 1.0, 2.0, 3.0]
    >>> row_edges(np.array([0.0, 1.0, 2.0]), 1, 1.0).tolist()
    [0.0, 3.0]
    """
    end = float(times[-1]) + (1.0 / fps if fps else 1.0)
    if rows == len(times):
        return np.append(np.asarray(times, np.float64), end)
    return np.linspace(float(times[0]), end, rows + 1)


def audio_embeddings(
    encoder: ZeroShotEncoder,
    paths: Mapping[str, Path],
    cache: EmbeddingCache,
    ray: RayOptions | None = None,
    worker_encoder: Callable[[], ZeroShotEncoder] | None = None,
) -> dict[str, np.ndarray]:
    """``(W, d)`` window embeddings of every video's audio (cache first; the misses decoded at
    the manifest's rate and encoded by :func:`encode_audio_entry`, on Ray when ``ray`` is
    given, as in :func:`frame_entries`)."""
    from var_bench.extract.video import decode_audio

    rate = encoder.sampling.audio_rate
    if not rate:
        raise InputError(f"{encoder.sampling.model_id}: expected an audio rate in its manifest")
    out = {vid: cache.get(path) for vid, path in paths.items()}
    todo = [(vid, paths[vid]) for vid, emb in out.items() if emb is None]
    factory = functools.partial(given_encoder, encoder)  # in this process: the caller's one
    if ray is not None and worker_encoder is not None:
        factory = worker_encoder
    rows = map_videos(
        todo,
        functools.partial(decode_audio, rate=rate),
        functools.partial(_step, factory, encode_audio_entry),
        ray=ray,
    )
    for vid, emb in rows:
        cache.put(paths[vid], emb)
        out[vid] = emb
    return out


def _pooling_rule(sampling: Sampling) -> str:
    for name, words in POOLINGS.items():
        if sampling.pooling in (name, words):
            return name
    return "mean"


def _needs(encoder: ZeroShotEncoder, spec: BenchmarkSpec, model: str) -> None:
    task = spec.task()
    want = {task.query_modality, task.gallery_modality}
    missing = want - set(encoder.modalities)
    if missing:
        raise InputError(
            f"{model}: expected an encoder of {' and '.join(sorted(want))} for {spec.name}, it "
            f"encodes {', '.join(sorted(encoder.modalities)) or 'nothing'}"
        )


def queries_of(
    spec: BenchmarkSpec, split: str, home=None, mirror: str | None = None
) -> tuple[list[str], list[str] | None]:
    """The canonical ids of ``split`` and, for text queries, their captions (row i: video i)."""
    from var_bench.data.prepare import load_table

    table = load_table(spec.name, split, home=home, mirror=mirror)
    ids = [str(v) for v in table["video_id"]]
    if spec.task().query_modality != "text":
        return ids, None
    return ids, [str(t) for t in table[spec.text_column]]


def zeroshot(
    model: str,
    benchmark: str | BenchmarkSpec,
    videos: str | Path,
    out: str | Path,
    *,
    split: str = "test",
    weights: str | None = None,
    device: str = "cpu",
    cache: str | Path | None | bool = True,
    identity: str = "stat",
    check: bool = True,
    name: str | None = None,
    home=None,
    mirror: str | None = None,
    progress: bool | None = None,
    encoder: ZeroShotEncoder | None = None,
    workers: int = DECODE_WORKERS,
    ray: RayOptions | str | None = None,
    **recipe: Any,
) -> ZeroShotResult:
    """Run zero-shot encoder ``model`` on ``benchmark``'s ``split`` from the raw videos under
    ``videos`` and write the submission ``out`` (``.npz``); return the scored result.

    Args:
        model: a name registered in :data:`var_bench.zeroshot.ENCODERS` (``clip-vit-b16``).
        benchmark: a benchmark name or spec; its built dataset gives ids and captions.
        videos: a folder holding one file per video id (any depth; matched by file stem).
        out: the submission path (``.npz``).
        split: ``test`` (or ``train`` / ``val``).
        weights: None (the model's pinned default), a path, or ``random``.
        device: ``cpu``, ``cuda``, ``cuda:N``.
        cache: the embedding cache folder; True: ``<data home>/zeroshot-cache``; None / False:
            no cache.
        identity: how a video is known to the cache: ``stat`` (path, size, mtime) or
            ``sha256`` (its bytes).
        check: run the frame-layout self-check first (through the decoder too).
        name: the entry's name (default ``<model> zero-shot``).
        encoder: an encoder already loaded (``model`` then only names it; with ``ray`` it is
            shipped to the workers pickled).
        workers: videos decoded ahead of the model in threads (0: in line); with ``ray``, the
            decoding workers when ``ray`` is an address or ``"local"``.
        ray: None (this process), a :class:`~var_bench.extract.distributed.RayOptions`, or an
            address string (``"local"``: a Ray started for the call; ``"auto"``,
            ``"ray://host:10001"``): decoding on CPU workers, the model on encoding workers (each
            loads ``model`` once); the submission is the same as without Ray.
        recipe: sampling options the encoder accepts (``fps``, ``max_frames``, ``pooling``).

    Returns:
        :class:`ZeroShotResult` (the record carries the manifest in ``provenance["sampling"]``).

    Raises:
        InputError: an unknown model, missing videos, a failed self-check, bad options.
    """
    from var_bench.data.paths import data_home
    from var_bench.extract.video import index_videos, match_videos

    t0 = time.perf_counter()
    spec = get_benchmark(benchmark)
    _check_out(out)
    if encoder is None:
        ENCODERS.lookup(model)  # an unknown name fails before any work
    ids, texts = queries_of(spec, split, home, mirror)
    paths = match_videos(ids, index_videos(videos), videos, allow_missing=True)
    missing = [v for v in ids if v not in paths]
    if missing:
        raise InputError(
            f"--videos: expected a video file for each of the {len(ids)} {split} ids, "
            f"{len(missing)} missing under {videos}: {', '.join(missing[:5])}"
            + (", ..." if len(missing) > 5 else "")
        )
    enc = encoder or get_encoder(model, weights, device, **recipe)
    _needs(enc, spec, model)
    if check:
        run_self_check(enc)
    # the pipeline decodes every video itself, so its decoder is what the manifest names
    s = replace(enc.sampling, decoder=decoder_name())
    root = None
    if cache is True:
        root = data_home(home) / CACHE_FOLDER
    elif cache:
        root = Path(cache)
    vcache = EmbeddingCache(root, model_key(s), identity)
    opts = resolve_ray(ray, device, workers)
    # Ray workers load their own copy of a registered model; an object given here travels pickled
    remote = None if encoder is not None else worker_factory(model, weights, device, recipe)
    frames = video_embeddings(enc, paths, vcache, progress, workers, opts, remote)
    rule = _pooling_rule(s)
    V = np.stack([pool(frames[v], rule) for v in ids])
    task = spec.task()
    acache = None
    if task.query_modality == "text":
        Q = enc.encode_text(texts)
    else:
        acache = EmbeddingCache(root, {**model_key(s), "modality": "audio"}, identity)
        audio = audio_embeddings(enc, paths, acache, opts, remote)
        Q = np.stack([pool(audio[v], "mean") for v in ids])
    S = Q.astype(np.float32) @ V.astype(np.float32).T
    encoded = vcache.misses + (acache.misses if acache else 0)
    cached = vcache.hits + (acache.hits if acache else 0)
    provenance = _provenance(model, name, s, RAW_VIDEO_TRACK, {"videos": len(ids)})
    record = _write_and_score(Path(out), spec, S, ids, provenance, split, home, mirror)
    seconds = time.perf_counter() - t0
    log.info(
        "zero-shot %s on %s %s: %d videos (%d encoded, %d from the cache) in %.2f s",
        model,
        spec.name,
        split,
        len(ids),
        vcache.misses,
        vcache.hits,
        seconds,
    )
    return ZeroShotResult(Path(out), record, s, encoded, cached, seconds)


def zeroshot_features(
    model: str,
    benchmark: str | BenchmarkSpec,
    out: str | Path,
    *,
    features: str | Path | None = None,
    split: str = "test",
    weights: str | None = None,
    device: str = "cpu",
    name: str | None = None,
    home=None,
    mirror: str | None = None,
    encoder: ZeroShotEncoder | None = None,
) -> ZeroShotResult:
    """The no-video path: ``model``'s text tower against a CLIP frame-feature store.

    Video embedding: the mean of the L2-normalised per-snippet CLIP features (crops averaged
    first), L2-normalised; S = captions' text embeddings times those. ``features``: a raw CLIP
    tree (VadCLIP's public 512-d features, or ``var-bench extract --model clip-vit-b16``'s
    output) in any layout the benchmark declares; None: the benchmark's built feature store
    (its ``clip`` stream).

    Raises:
        InputError: a store without CLIP features, dimensions that differ from the text tower's,
            a benchmark whose queries are not text.
    """
    t0 = time.perf_counter()
    spec = get_benchmark(benchmark)
    _check_out(out)
    if spec.task().query_modality != "text":
        raise InputError(
            f"--features: expected a benchmark with text queries, {spec.name}'s queries are "
            f"{spec.task().query_modality}"
        )
    if encoder is None:
        ENCODERS.lookup(model)
    ids, texts = queries_of(spec, split, home, mirror)
    snippets, source = _clip_features(spec, split, ids, features, home)
    enc = encoder or get_encoder(model, weights, device)
    if "text" not in enc.modalities:
        raise InputError(f"{model}: expected an encoder of text, it has no text tower")
    Q = enc.encode_text(texts)
    V = np.stack([pool(snippets[v], "mean") for v in ids])
    if V.shape[1] != Q.shape[1]:
        raise InputError(
            f"--features: expected {Q.shape[1]}-d CLIP features for {model}'s text tower, got "
            f"{V.shape[1]}-d in {source}"
        )
    s = replace(
        enc.sampling,
        decoder=f"none: precomputed CLIP frame features ({source})",
        fps=0.0,
        max_frames=0,
        index_rule="the feature store's snippets (fps 0, max_frames 0: set by the store)",
        pooling=POOLINGS["mean"] + " (crops averaged first)",
    )
    S = Q.astype(np.float32) @ V.T
    provenance = _provenance(model, name, s, FEATURES_TRACK, {"videos": len(ids), "source": source})
    record = _write_and_score(Path(out), spec, S, ids, provenance, split, home, mirror)
    return ZeroShotResult(Path(out), record, s, 0, 0, time.perf_counter() - t0)


def _clip_features(
    spec: BenchmarkSpec, split: str, ids: list[str], features, home
) -> tuple[dict[str, np.ndarray], str]:
    """video id -> ``[T, D]`` CLIP features (crops averaged), and where they came from."""
    if features is None:
        from var_bench.loaders import FeatureDataset

        ds = FeatureDataset.from_benchmark(spec.name, split, home=home)
        if "clip" not in ds.streams:
            raise InputError(
                f"--features: expected a 'clip' stream in {spec.name}'s built feature store, it "
                f"has {', '.join(ds.streams)} (build it from VadCLIP's features or var-bench "
                f"extract --model clip-vit-b16, or pass --features PATH)"
            )
        ds = FeatureDataset.from_benchmark(spec.name, split, home=home, streams=("clip",))
        got = {}
        for i in range(len(ds)):
            item = ds[i]
            got[str(item["video_id"])] = np.asarray(item["clip"], np.float32)
        source = "the built feature store"
    else:
        from var_bench.features.layouts import index_streams
        from var_bench.features.readers import read_stream, video_headers

        root = Path(features)
        if not root.is_dir():
            raise InputError(f"--features: expected a folder of CLIP features, {root} is not one")
        indexes = index_streams(spec, root)
        index = indexes.get("clip")
        if index is None:
            raise InputError(
                f"--features {root}: expected CLIP features (e.g. VadCLIP's <Class>/<Stem>__<k>"
                f".npy), found the streams {', '.join(indexes) or 'none'}"
            )
        got = {}
        for vid in ids:
            if vid not in index.files:
                continue
            heads = video_headers(index, vid)
            T = min(h.shape[0] for h in heads)
            got[vid] = read_stream(index, vid, heads, T, "mean")
        source = f"{root.name} ({index.layout.name})"
    missing = [v for v in ids if v not in got]
    if missing:
        raise InputError(
            f"--features: expected CLIP features for each of the {len(ids)} {split} videos, "
            f"{len(missing)} missing: {', '.join(missing[:5])}"
        )
    return got, source


def worker_factory(model: str, weights, device: str, recipe: dict) -> Callable[[], ZeroShotEncoder]:
    """A picklable factory of registered ``model`` for Ray's encoding workers."""
    return functools.partial(named_encoder, model, weights, device, tuple(sorted(recipe.items())))


def _check_out(out) -> None:
    if Path(out).suffix != ".npz":
        raise InputError(f"--out: expected a path ending in .npz, got {str(out)!r}")


def _provenance(
    model: str, name: str | None, s: Sampling, track: str, extra: dict[str, Any]
) -> dict[str, Any]:
    return {
        "name": name or f"{model} zero-shot",
        "disclosure": {
            "features": track,
            "training_data": "none (zero-shot)",
            "extra_training_data": "none",
            "checkpoint_selection": "none (zero-shot)",
            "tuned_on_test": "no",
            "test_time_normalisation": "none",
        },
        "feature_set": track,
        "zeroshot": {"model": model, **extra},
        "sampling": s.to_json(),
        "var_bench": __version__,
    }


def _write_and_score(out: Path, spec, S, ids, provenance, split, home, mirror):
    from var_bench.scoring.score import score
    from var_bench.training.evaluate import write_submission

    write_submission(out, spec, S, ids, provenance)
    return score(out, spec, split=split, home=home, mirror=mirror)
