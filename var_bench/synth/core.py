"""``synthesize``: write a synthetic raw feature tree in an exact upstream layout.

Ids, classes, anomalous flags, segments and frame counts come from the built metadata; features
from :mod:`.signal` following the per-video :mod:`.plan`. Every file is written to a temporary
name and renamed, so an interrupted run never leaves a truncated ``.npy`` under its final name.
The marker ``VAR_BENCH_SYNTHETIC.json`` is written first, so even a partial tree is never taken
for upstream data.
"""

from __future__ import annotations

import json
import logging
import math
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from var_bench._version import __version__
from var_bench.benchmarks import get_benchmark
from var_bench.errors import InputError
from var_bench.features.layouts import SYNTH_MARKER
from var_bench.fsutil import atomic_write_text, atomic_writer
from var_bench.synth import layout as L
from var_bench.synth.plan import plan_video
from var_bench.synth.signal import (
    Amplitudes,
    annotated_mask,
    anomaly_direction,
    projection,
    rng_for,
    stream_features,
    unit_latent,
)

log = logging.getLogger(__name__)

GENERATOR = "var_bench.synth"
#: Dimension of the per-video Gaussian latent shared by video and audio (XDViolence-AR).
LATENT_DIM = 64


@dataclass
class SynthSummary:
    """What :func:`synthesize` wrote. ``paths``: folders to give ``var-bench build`` (``features``,
    and ``audio`` for XDViolence-AR; a Flow tree sits under the ``features`` root)."""

    out_dir: Path
    benchmark: str
    layout: dict[str, str]
    streams: tuple[str, ...]
    paths: dict[str, Path]
    videos: dict[str, int]
    files: int
    bytes: int
    marker: dict[str, Any] = field(default_factory=dict)


def _positive(name: str, value: int | None) -> None:
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
        raise InputError(f"{name}: expected a positive integer, got {value!r}")


def _save_npy(path: Path, array: np.ndarray) -> int:
    """``np.save`` atomically (temporary name beside ``path``, then rename); returns the bytes
    written."""
    with atomic_writer(path, "wb") as f:
        np.save(f, np.ascontiguousarray(array, dtype=np.float32), allow_pickle=False)
        return f.tell()


def _prepare(out: Path, folders: tuple[str, ...]) -> None:
    """Refuse a non-empty folder that is not a synthetic tree; clear an old synthetic tree."""
    if out.exists() and not out.is_dir():
        raise InputError(f"synth: expected a folder to write into, got the file {out}")
    if out.is_dir() and any(out.iterdir()):
        if not (out / SYNTH_MARKER).is_file():
            raise InputError(
                f"synth: expected an empty folder or an earlier synthetic tree, got "
                f"{out} (non-empty, no {SYNTH_MARKER})"
            )
        for name in (*folders, SYNTH_MARKER):
            target = out / name
            if target.is_dir():
                shutil.rmtree(target)
            elif target.exists():
                target.unlink()
    out.mkdir(parents=True, exist_ok=True)


def video_records(benchmark: str, videos: int | None, home) -> list[dict]:
    """Metadata rows per upstream split (train = built train + val in upstream order), first
    ``videos`` of each. A benchmark of sentences (a ``query_id`` per row, UCA) gives one record
    per video, in order of its first sentence, with its ``_sentences`` and ``_spans``
    (``[start_s, end_s]``)."""
    from var_bench.data.prepare import load_table

    tables = {s: load_table(benchmark, s, home=home, download=False) for s in ("train+val", "test")}
    out = []
    for split, table in zip(("train", "test"), tables.values()):
        table = table.sort_values("upstream_index", kind="stable")
        if "query_id" in table:
            table = _per_video(table, get_benchmark(benchmark).text_column)
        if videos is not None:
            table = table.head(videos)
        for row in table.to_dict("records"):
            row["_split"] = split
            out.append(row)
    return out


def _per_video(table, text_column: str):
    """Sentence rows -> one row per video (first sentence's columns) with the video's sentences
    and their spans in seconds."""
    grouped = table.groupby("video_id", sort=False)
    first = grouped.head(1).set_index("video_id")
    first["_sentences"] = grouped[text_column].agg(list)
    starts, ends = grouped["start_s"].agg(list), grouped["end_s"].agg(list)
    first["_spans"] = [list(zip(map(float, s), map(float, e))) for s, e in zip(starts, ends)]
    return first.reset_index()


def _segments(value) -> list[tuple[int, int]] | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return [(int(s), int(e)) for s, e in value]


def _frames(value) -> int | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return int(value)


def synthesize(
    out_dir: str | os.PathLike,
    benchmark: str,
    *,
    videos: int | None = None,
    seed: int = 0,
    crops: int | None = None,
    snippets: int = 32,
    snippet_frames: int = 16,
    flow: bool | None = None,
    layout: str | None = None,
    ragged: bool | None = None,
    text_model: str | None = None,
    home: str | os.PathLike | None = None,
    progress: bool | None = None,
    **amplitudes: float,
) -> SynthSummary:
    """Write a synthetic raw feature tree of a benchmark, with a signal models can learn, in one
    of its video collection's declared layouts (what ``var-bench build`` reads).

    Args:
        out_dir: the tree to write.
        benchmark: the benchmark (its built metadata, in ``home``, gives the videos and captions).
        videos: only the first N videos of each upstream split (train, test), canonical order.
        seed: the random seed.
        crops: crops per video (default ``spec.upstream_crops``).
        snippets: N; T of an unannotated video is drawn in [ceil(N/2), N].
        snippet_frames: F, frames per snippet.
        flow: also write a Flow tree (default: where the public release has Flow).
        layout: one of the collection's video layouts (default: the first).
        ragged: flow and audio may be one snippet short (default: on for XDViolence-AR).
        text_model: the model whose sentence embeddings are the content (default ``"offline"``,
            the packaged MiniLM; a small folder makes big trees quick in tests).
        home, progress: the data home; the progress policy.
        amplitudes: fields of :class:`~var_bench.synth.signal.Amplitudes`.

    Returns:
        A :class:`SynthSummary`: the trees written (``paths``), counts and knobs.

    Raises:
        InputError: an unknown layout or knob, a layout without Flow asked for Flow.
        NotBuiltError: no built metadata.

    Example:
        >>> made = synthesize("synth/ucf", "ucfcrime-ar", videos=50)  # doctest: +SKIP
        >>> made.paths["features"]  # doctest: +SKIP
        PosixPath('synth/ucf')
    """
    from var_bench.progress import Progress

    spec = get_benchmark(benchmark)
    name = spec.name
    layouts = {lay.name: lay for lay in L.video_layouts(spec)}
    video_layout = layout or next(iter(layouts))
    if video_layout not in layouts:
        raise InputError(
            f"layout: expected one of {', '.join(layouts)} for {name}, got {video_layout!r}"
        )
    for knob, value in (
        ("videos", videos),
        ("crops", crops),
        ("snippets", snippets),
        ("snippet_frames", snippet_frames),
    ):
        _positive(knob, value)
    unknown = sorted(set(amplitudes) - set(Amplitudes.__dataclass_fields__))
    if unknown:
        raise InputError(
            f"amplitudes: expected any of {', '.join(Amplitudes.__dataclass_fields__)}"
            f", got {', '.join(unknown)}"
        )
    for k, v in amplitudes.items():
        # A NaN or infinite amplitude would write an all-NaN tree that the build refuses later.
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v < 0:
            raise InputError(f"{k}: expected a finite number >= 0, got {v!r}")
    amp = Amplitudes(**{k: float(v) for k, v in amplitudes.items()})
    audio = spec.audio_layout is not None
    # A benchmark of sentences (UCA): each sentence's embedding sits in its own span.
    sentences = any(c.name == "query_id" for c in spec.columns)
    flow = ("flow" in spec.public_streams) if flow is None else bool(flow)
    if flow and not layouts[video_layout].flow:
        raise InputError(
            f"flow: the {video_layout} layout has no Flow tree; expected no flow, got flow on"
        )
    ragged = audio if ragged is None else bool(ragged)
    crops = crops or spec.upstream_crops
    if not layouts[video_layout].per_crop and crops != spec.upstream_crops:
        log.info("%s with %d crops (upstream has %d)", video_layout, crops, spec.upstream_crops)
    streams = ("rgb",) + (("flow",) if flow else ()) + (("audio",) if audio else ())
    stream_layout = {
        s: spec.audio_layout if s == "audio" else layouts[video_layout] for s in streams
    }

    records = video_records(
        name, videos, home
    )  # before touching out_dir: a missing build fails clean
    for r in records:
        if "_spans" in r:  # seconds -> frames: the plan's rules then apply as for annotations
            r["num_frames"] = max(1, round(float(r["duration_s"]) * spec.fps))
            r["segments"] = [(round(s * spec.fps), round(e * spec.fps)) for s, e in r["_spans"]]
    plans = [
        plan_video(
            seed,
            name,
            r["video_id"],
            r["_split"],
            bool(r["anomalous"]),
            L.class_folder(r),
            _frames(r.get("num_frames")),
            _segments(r.get("segments")),
            snippets=snippets,
            frames=snippet_frames,
            streams=streams,
            ragged=ragged,
        )
        for r in records
    ]
    out = Path(out_dir)
    classes = [p.class_folder for p in plans]
    _prepare(
        out,
        tuple(
            dict.fromkeys(
                f
                for lay in dict.fromkeys(stream_layout.values())
                for f in L.top_folders(lay, classes)
            )
        ),
    )
    marker = {
        "generator": GENERATOR,
        "var_bench": __version__,
        "benchmark": name,
        "seed": seed,
        "snippet_frames": snippet_frames,
        "crops": crops,
        "snippets": snippets,
        "videos": videos,
        "layout": {s: lay.name for s, lay in stream_layout.items()},
        "streams": list(streams),
        "ragged": ragged,
        "signal": {
            "content": (
                f"{spec.text_column} sentence embedding ({text_model or 'offline'})"
                if not audio
                else f"per-video Gaussian latent, dim {LATENT_DIM}"
            )
            + (", per sentence in its span" if sentences else ""),
            "amplitudes": amp.as_dict(),
            "anomaly_in": "signal snippets of anomalous videos",
            "docs": "docs/synth.md",
        },
    }
    atomic_write_text(out / SYNTH_MARKER, json.dumps(marker, indent=1) + "\n")

    contents = _contents(records, seed, name, audio, spec.text_column, text_model)
    width = contents[0].shape[-1] if len(contents) else LATENT_DIM
    if sentences:
        contents = [
            _sentence_content(c, r["segments"], p.mask.size, snippet_frames)
            for c, r, p in zip(contents, records, plans)
        ]
    dims = {s: stream_layout[s].dim for s in streams}
    proj = {s: projection(seed, s, width, dims[s]) for s in streams}
    direction = {s: anomaly_direction(seed, s, dims[s]) for s in streams}

    files = size = 0
    for plan, content in Progress(
        list(zip(plans, contents)), desc=f"synth {name}", unit="video", progress=progress
    ):
        for s in streams:
            n = plan.lengths[s]
            feats = stream_features(
                rng_for(seed, name, plan.video_id, s),
                plan.mask[:n],
                1 if s == "audio" else crops,
                content[:n] @ proj[s] if content.ndim == 2 else content @ proj[s],
                direction[s] if plan.anomalous else None,
                amp,
                amp.audio_signal if s == "audio" else amp.signal,
            )
            if stream_layout[s].per_crop:
                parts = [feats[:, k, :] for k in range(crops)]
            else:
                parts = [feats[:, 0, :] if s == "audio" else feats]
            paths = L.video_files(
                stream_layout[s],
                s,
                plan.split,
                plan.video_id,
                1 if s == "audio" else crops,
                plan.class_folder,
            )
            for rel, arr in zip(paths, parts):
                size += _save_npy(out / rel, arr)
                files += 1
    counts = {s: sum(p.split == s for p in plans) for s in ("train", "test")}
    build_paths = {"features": out}
    if audio:
        build_paths["audio"] = out / spec.audio_layout.root("audio")
    log.info("synth %s: %d files, %d bytes in %s", name, files, size, out)
    return SynthSummary(
        out, name, marker["layout"], streams, build_paths, counts, files, size, marker
    )


def _contents(
    records: list[dict], seed: int, name: str, audio: bool, text_column: str, text_model
) -> list[np.ndarray] | np.ndarray:
    """Content vectors: per video ``[H]``, the caption's embedding (text queries) or a unit latent
    (audio queries); for a benchmark of sentences, per video ``[sentences, H]``."""
    if not audio:
        from var_bench.models.text import sentence_embeddings

        if records and "_sentences" in records[0]:
            flat = [s for r in records for s in r["_sentences"]]
            emb = sentence_embeddings(flat, model_dir=text_model).astype(np.float64)
            ends = np.cumsum([len(r["_sentences"]) for r in records])[:-1]
            return np.split(emb, ends)
        texts = [r[text_column] for r in records]
        return sentence_embeddings(texts, model_dir=text_model).astype(np.float64)
    return (
        np.stack(
            [unit_latent(rng_for(seed, name, r["video_id"], "latent"), LATENT_DIM) for r in records]
        )
        if records
        else np.zeros((0, LATENT_DIM))
    )


def _sentence_content(
    emb: np.ndarray, segments: list[tuple[int, int]], num_snippets: int, frames: int
) -> np.ndarray:
    """``[T, H]``: per snippet the sum of the embeddings of the sentences whose span marks it
    (:func:`~var_bench.synth.signal.annotated_mask` of each span alone)."""
    marks = np.stack([annotated_mask([seg], num_snippets, frames) for seg in segments])
    return marks.T.astype(np.float64) @ emb
