"""Search an archive of raw videos with a zero-shot model (``var-bench index MODEL --videos DIR``).

Build (:meth:`ZeroShotIndex.build`): every video under the folder (any depth, by file stem) goes
through the zero-shot pipeline (:mod:`var_bench.zeroshot.run`: self-check, decode, encode, the
embedding cache): its ``(T, d)`` frame embeddings and their times are kept, and the pooled video
embedding ``v_j`` (the manifest's pooling) ranks it.

Search: a text query (or an audio file, for an encoder with audio) is embedded as ``q``; the score
of video j is the cosine ``q . v_j``; its best segment is the window of frames (the windows of
:func:`var_bench.search.segments.windows` over its T frames) whose pooled embedding ``w`` has the
highest ``q . w`` (``evidence = "window-similarity"``), reported in seconds from its rows' edges
(:func:`~var_bench.zeroshot.run.row_edges`: a frame's row runs to the next frame; an encoder
with one row per clip gives the whole sampled span).

On disk: ``index.json`` (:class:`ZeroShotIndexInfo`: the model, its weights argument, the
sampling manifest, videos, row offsets, durations) and ``frames.npy`` / ``times.npy`` (all
rows, and each video's R + 1 row edges in seconds, video after video). A rebuild reads the
embedding cache, so it encodes only new or changed videos.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from var_bench.errors import InputError
from var_bench.fsutil import atomic_path, atomic_write_text
from var_bench.search.index import EVIDENCE, SearchHit
from var_bench.search.segments import windows
from var_bench.search.vectors import top_k
from var_bench.zeroshot.pooling import pool

INDEX_FILE = "index.json"
KIND = "zeroshot"
FORMAT = 1


@dataclass
class ZeroShotIndexInfo:
    """What a zero-shot index holds (``index.json``). ``lengths``: each video's sampled span in
    seconds; ``snippet_frames`` = 1 and ``fps`` = 1.0 make the search pages' timelines read
    seconds."""

    model: str
    weights: str | None
    sampling: dict[str, Any]
    source: str
    videos: list[str] = field(default_factory=list)
    offsets: list[int] = field(default_factory=list)
    lengths: list[float] = field(default_factory=list)
    kind: str = KIND
    format: int = FORMAT
    snippet_frames: int = 1
    fps: float = 1.0

    @property
    def captions(self) -> list[None]:
        return [None] * len(self.videos)

    @classmethod
    def read(cls, folder: Path) -> ZeroShotIndexInfo:
        path = Path(folder) / INDEX_FILE
        try:
            data = json.loads(path.read_text("utf-8"))
            if data.get("kind") != KIND or data.get("format") != FORMAT:
                raise ValueError(f"kind {data.get('kind')!r}, format {data.get('format')!r}")
            return cls(**data)
        except (OSError, ValueError, TypeError) as e:
            raise InputError(
                f"{path}: expected a zero-shot index (kind {KIND}, format {FORMAT}), got {e}"
            ) from None


def is_zeroshot_index(folder: str | Path) -> bool:
    """Whether ``folder`` holds a zero-shot index (its ``index.json`` says ``kind: zeroshot``)."""
    try:
        return json.loads((Path(folder) / INDEX_FILE).read_text("utf-8")).get("kind") == KIND
    except (OSError, ValueError, AttributeError):
        return False


class ZeroShotIndex:
    """Raw videos indexed by a zero-shot encoder; see the module docstring."""

    def __init__(self, folder: Path, info: ZeroShotIndexInfo, frames, times, encoder) -> None:
        self.folder, self.info, self.encoder = Path(folder), info, encoder
        self.frames, self.times = frames, times
        rule = (
            "max"
            if str(info.sampling.get("pooling", "")).startswith("element-wise max")
            else "mean"
        )
        self.rule = rule
        self.vectors = (
            np.stack([pool(self._video(j)[0], rule) for j in range(len(info.videos))])
            if info.videos
            else np.zeros((0, frames.shape[1]), np.float32)
        )

    @classmethod
    def build(
        cls,
        model: str,
        videos: str | Path,
        out: str | Path,
        *,
        weights: str | None = None,
        device: str = "cpu",
        cache: str | Path | bool | None = True,
        identity: str = "stat",
        home=None,
        progress: bool | None = None,
        encoder=None,
        workers: int = 2,
        ray=None,
    ) -> ZeroShotIndex:
        """Index every video under ``videos`` with zero-shot ``model`` into ``out``.

        ``workers`` / ``ray``: decoding ahead in threads, or decoding and encoding on Ray Data
        (``"local"``, an address or ``RayOptions``), as in :func:`var_bench.zeroshot.zeroshot`;
        the index is the same either way."""
        from var_bench.data.paths import data_home
        from var_bench.extract.distributed import resolve_ray
        from var_bench.extract.video import index_videos
        from var_bench.zeroshot.cache import EmbeddingCache, model_key
        from var_bench.zeroshot.encoders.base import get_encoder
        from var_bench.zeroshot.run import (
            CACHE_FOLDER,
            frame_entries,
            run_self_check,
            worker_factory,
        )

        paths = index_videos(videos)
        if not paths:
            raise InputError(f"--videos: expected video files under {videos}, found none")
        enc = encoder or get_encoder(model, weights, device)
        if "video" not in enc.modalities:
            raise InputError(f"{model}: expected an encoder of video, it has no video tower")
        run_self_check(enc)
        root = data_home(home) / CACHE_FOLDER if cache is True else (Path(cache) if cache else None)
        vcache = EmbeddingCache(root, model_key(enc.sampling), identity)
        opts = resolve_ray(ray, device, workers)
        remote = None if encoder is not None else worker_factory(model, weights, device, {})
        entries = frame_entries(
            enc, dict(sorted(paths.items())), vcache, progress, workers, opts, remote
        )
        ids = list(entries)
        frames = np.concatenate([entries[v][0] for v in ids]).astype(np.float32)
        times = np.concatenate([np.asarray(entries[v][1], np.float64) for v in ids])
        offsets = np.cumsum([0] + [len(entries[v][0]) for v in ids]).tolist()
        info = ZeroShotIndexInfo(
            model=model,
            weights=weights,
            sampling=enc.sampling.to_json(),
            source=str(Path(videos).resolve()),
            videos=ids,
            offsets=offsets,
            lengths=[float(entries[v][1][-1]) for v in ids],
        )
        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        for name, arr in (("frames.npy", frames), ("times.npy", times)):
            with atomic_path(out / name, suffix=".npy") as tmp:
                np.save(tmp, arr, allow_pickle=False)
        atomic_write_text(out / INDEX_FILE, json.dumps(asdict(info), indent=1) + "\n")
        return cls(out, info, frames, times, enc)

    @classmethod
    def load(cls, folder: str | Path, *, device: str = "cpu", encoder=None) -> ZeroShotIndex:
        """Open an index; its model is loaded again (same weights argument) and must have the
        same sampling manifest (else: re-index)."""
        from var_bench.zeroshot.encoders.base import get_encoder

        folder = Path(folder)
        info = ZeroShotIndexInfo.read(folder)
        try:
            frames = np.load(folder / "frames.npy", allow_pickle=False)
            times = np.load(folder / "times.npy", allow_pickle=False)
        except (OSError, ValueError) as e:
            raise InputError(f"{folder}: expected frames.npy and times.npy, got {e}") from None
        enc = encoder or get_encoder(info.model, info.weights, device)
        got = enc.sampling.to_json()
        diff = [k for k in info.sampling if info.sampling[k] != got.get(k)]
        if diff:
            raise InputError(
                f"{folder}: expected the model the index was built with ({info.model}), got one "
                f"that differs in {', '.join(diff)}: re-index with this model"
            )
        return cls(folder, info, frames, times, enc)

    def _video(self, j: int) -> tuple[np.ndarray, np.ndarray]:
        """Video j's ``(R, d)`` rows and their ``R + 1`` edges in seconds."""
        a, b = self.info.offsets[j], self.info.offsets[j + 1]
        return self.frames[a:b], self.times[a + j : b + j + 1]

    def embed_query(self, query: Any) -> np.ndarray:
        """A text query, or an audio file's path (``audio=`` in :meth:`search`) -> ``(d,)``."""
        if isinstance(query, str):
            if not query.strip():
                raise InputError("query: expected non-empty text, got an empty query")
            return np.asarray(self.encoder.encode_text([query])[0], np.float32)
        if "audio" not in self.encoder.modalities:
            raise InputError(f"--audio: expected a model with audio, {self.info.model} has none")
        from var_bench.extract.video import decode_audio

        rate = int(self.encoder.sampling.audio_rate or 16000)
        wave = decode_audio(Path(query), rate)
        return pool(self.encoder.encode_audio(wave, rate), "mean")

    def search(self, query: Any, top: int = 10, *, exact: bool = True) -> list[SearchHit]:
        """The ``top`` videos for a text ``query`` (or a :class:`~pathlib.Path` of an audio
        file), each with its best window (module docstring)."""
        if top < 1:
            raise InputError(f"--top: expected a positive number of results, got {top}")
        q = self.embed_query(query)
        scores = self.vectors @ q
        hits = []
        for rank, j in enumerate(top_k(scores, top).tolist(), start=1):
            emb, t = self._video(j)
            spans = windows(len(emb))
            w = [float(pool(emb[a:b], self.rule) @ q) for a, b in spans]
            a, b = spans[int(np.argmax(w))]
            hits.append(
                SearchHit(
                    rank,
                    self.info.videos[j],
                    float(scores[j]),
                    [round(float(t[a]), 3), round(float(t[b]), 3)],
                    [a, b],
                    evidence=EVIDENCE,
                )
            )
        return hits

    def search_many(self, queries: Sequence[Any], top: int = 10) -> list[list[SearchHit]]:
        """:meth:`search` for several queries."""
        return [self.search(q, top) for q in queries]

    def summary(self) -> str:
        """One line: the model, its weights and what is indexed."""
        s = self.info.sampling
        return (
            f"{self.info.model} zero-shot ({s.get('model_id')}, {s.get('weights')}, "
            f"{s.get('fps')} fps, at most {s.get('max_frames')} frames); "
            f"{len(self.info.videos)} videos indexed from {self.info.source}"
        )
