"""A searchable index of a video gallery, encoded by a trained model.

Build (``Index.build``): the gallery's videos (a split of the benchmark's feature store, or a raw
feature folder of one's own videos) pass through the checkpoint's ``encode_gallery`` twice:

1. whole videos, batched exactly as ``var-bench evaluate`` batches them (the eval loader), giving
   the gallery outputs G that ranking uses;
2. overlapping snippet windows of every video (:mod:`.segments`), giving window outputs W that
   localise a match.

Search (``Index.search``): the query (text, or an audio feature array on XDViolence-AR) goes
through ``encode_query``; the ranking score of video j is ``model.similarity(q, G)[j]``, the very
function ``evaluate`` uses, so a benchmark caption's search rank equals its rank in the
``evaluate`` matrix. The best segment of a retrieved video is the window with the highest
``model.similarity(q, W)``: the model's own snippet-level similarity (``evidence =
"window-similarity"``). Spans are in seconds: snippet span ``[a, b)`` -> ``[a F / fps, b F / fps)``.

Approximate search (``exact=False``) needs a model that writes its similarity as an inner product
of fixed vectors (``RetrievalModel.search_vectors``); candidates come from an HNSW graph over the
gallery vectors (:class:`.vectors.VectorIndex`), then the same exact scores are reported.

On disk an index is a folder of ``index.json`` and one chunk file per batch of indexed videos
(:mod:`.storage`); a killed build resumes from the last complete chunk, and ``add`` appends
chunks. What gets indexed is a gallery (:mod:`.gallery`).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from var_bench.benchmarks import BenchmarkSpec, get_benchmark
from var_bench.errors import InputError
from var_bench.fsutil import sha256_file
from var_bench.limits import check
from var_bench.readback import confined, require_regular
from var_bench.search.gallery import FolderGallery, Gallery, store_gallery
from var_bench.search.segments import to_seconds, windows
from var_bench.search.storage import INDEX_FILE, INDEX_FORMAT, IndexInfo, load_chunk, save_chunk
from var_bench.search.vectors import VectorIndex

log = logging.getLogger(__name__)

EVIDENCE = "window-similarity"
#: Videos encoded per chunk file (a resumed build redoes at most one chunk).
CHUNK_VIDEOS = 256


@dataclass
class SearchHit:
    """One retrieved video: ``rank`` (1-based), ``score`` (the model's similarity), the best
    segment ``segment_s`` = [start, end) in seconds, its ``segment_snippets``, and ``caption``
    where the benchmark has one."""

    rank: int
    video_id: str
    score: float
    segment_s: list[float]
    segment_snippets: list[int]
    evidence: str = EVIDENCE
    caption: str | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


class Index:
    """A gallery encoded by one model; see the module docstring. Build with :meth:`build`, open
    with :meth:`load`; :meth:`add` appends videos, :meth:`search` ranks them for a query."""

    def __init__(self, folder: Path, info: IndexInfo, model, saved: dict, device) -> None:
        self.folder = Path(folder)
        self.info = info
        self.model = model
        self.saved = saved
        self.device = device
        self._gallery: dict | None = None
        self._windows: dict | None = None
        self._vectors: VectorIndex | None = None

    # ---------------------------------------------------------------- building

    @classmethod
    def build(
        cls,
        checkpoint: str | Path,
        benchmark: str | BenchmarkSpec,
        out: str | Path,
        *,
        split: str = "test",
        features: str | Path | None = None,
        flow: str | Path | None = None,
        home=None,
        device=None,
        progress: bool | None = None,
    ) -> Index:
        """Index ``split`` of the benchmark's feature store (or the raw folder ``features``) with
        the checkpoint's model into ``out``; resumes an unfinished build of the same gallery.
        The arguments are checked before ``out`` is created (a bad ``split`` leaves nothing)."""
        from var_bench.data.prepare import split_names

        spec = get_benchmark(benchmark)
        if features is None:
            split_names(split)
        index = cls.create(checkpoint, spec, Path(out), device=device)
        if features is not None:
            folder = FolderGallery(spec, Path(features), Path(flow) if flow else None)
            gallery = Gallery(folder, folder.identity)
        else:
            gallery = store_gallery(
                spec, split, home=home, crop=index.saved["config"]["data"]["eval_crop"]
            )
        index.add(gallery, progress=progress)
        if features is None and index.info.scores is None:
            index.info.scores = index._benchmark_scores(spec, split)
            index.info.write(index.folder)
        return index

    @classmethod
    def create(
        cls, checkpoint: str | Path, benchmark: str | BenchmarkSpec, out: str | Path, *, device=None
    ) -> Index:
        """An index of ``checkpoint``'s model in ``out``: the existing one there (same weights
        required), else a new empty one; fill it with :meth:`add`."""
        spec, out = get_benchmark(benchmark), Path(out)
        from var_bench.training.checkpoint import MODEL_FILE

        model, saved, dev = _load_model(checkpoint, spec, device)
        sha = sha256_file(Path(checkpoint) / MODEL_FILE)
        if (out / INDEX_FILE).exists():
            index = cls.load(out, device=dev)
            if index.info.weights_sha256 != sha:
                raise InputError(
                    f"{out}: expected an index of the model in {checkpoint} (weights "
                    f"sha256 {sha[:12]}), got one built with {index.info.model} "
                    f"{index.info.weights_sha256[:12]}"
                )
            return index
        ctx = saved["context"]
        info = IndexInfo(
            format=INDEX_FORMAT,
            benchmark=spec.name,
            model=saved["model"],
            checkpoint=str(Path(checkpoint).resolve()),
            weights_sha256=sha,
            query_modality=ctx["query_modality"],
            streams=list(ctx["streams"]),
            dims={k: int(v) for k, v in ctx["dims"].items()},
            features={},
            scores=None,
            snippet_frames=spec.snippet_frames,
            fps=spec.fps,
        )
        out.mkdir(parents=True, exist_ok=True)
        info.write(out)
        return cls(out, info, model, saved, dev)

    def _check_features(self, identity: dict, gallery) -> None:
        if len(gallery) == 0:
            raise InputError("index: expected videos to index, got none")
        item = gallery[0]
        dims = {s: int(np.shape(item[s])[-1]) for s in self.info.dims if s in item}
        want = {s: d for s, d in self.info.dims.items() if s in dims}
        missing = [s for s in self.info.streams if s not in item]
        if missing or dims != want:
            raise InputError(
                f"index: expected features {self.info.dims} (the model's feature "
                f"identity), got {dims} (missing {', '.join(missing) or 'none'})"
            )
        old = self.info.features
        if old and old.get("synthetic") != identity.get("synthetic"):
            raise InputError(
                f"index: expected features like the indexed ones ({old.get('source')}, "
                f"synthetic={old.get('synthetic')}), got {identity.get('source')} "
                f"(synthetic={identity.get('synthetic')})"
            )
        if not old:
            self.info.features = dict(identity)
            self.info.snippet_frames = int(
                identity.get("snippet_frames") or self.info.snippet_frames
            )

    def add(self, gallery: Gallery, *, progress: bool | None = None) -> int:
        """Encode the videos of ``gallery`` not indexed yet (chunk by chunk) and append them.
        Returns the number of videos added. A gallery of another feature set than the indexed
        one, or of features the model was not trained on, is refused."""
        from var_bench.progress import Progress

        self._check_features(gallery.identity, gallery.items)
        done = set(self.info.videos)
        todo = (
            [i for i in range(len(gallery)) if str(gallery.items[i]["video_id"]) not in done]
            if done
            else list(range(len(gallery)))
        )
        check("index_videos", f"index {self.folder}", len(self.info.videos) + len(todo))
        # the one progress policy: a bar on a terminal, plain lines on a pipe (no carriage returns)
        bar = Progress(total=len(todo), desc="index", unit="video", progress=progress)
        for a in range(0, len(todo), CHUNK_VIDEOS):
            items = [gallery.items[i] for i in todo[a : a + CHUNK_VIDEOS]]
            self._write_chunk(items)
            bar.update(len(items))
        bar.close()
        self._gallery = self._windows = self._vectors = None
        return len(todo)

    def _loader(self, items: list[dict]):
        from var_bench.training.config import from_dict
        from var_bench.training.loaders import build_eval_loader
        from var_bench.training.rebuild import context_from_json

        return build_eval_loader(
            self.model,
            items,
            context_from_json(self.saved["context"], self.device),
            from_dict(self.saved["config"]),
        )

    def _write_chunk(self, items: list[dict]) -> None:
        from var_bench.training.encode import encode_split

        base = len(self.info.videos)
        # the gallery side only: a raw folder's videos carry no captions for encode_query
        _, gallery, ids, _ = encode_split(
            self.model, self._loader(items), self.device, queries_too=False
        )
        win_items, spans = [], []
        for pos, it in enumerate(items):
            T = int(min(np.shape(it[s])[0] for s in self.info.streams))
            for a, b in windows(T):
                w = {k: v for k, v in it.items()}
                for s in self.info.streams + (["audio"] if "audio" in it else []):
                    w[s] = np.asarray(it[s])[a:b]
                if "snippet_labels" in w and w["snippet_labels"] is not None:
                    w["snippet_labels"] = np.asarray(w["snippet_labels"])[a:b]
                win_items.append(w)
                spans.append([base + pos, a, b])
        _, wout, _, _ = encode_split(
            self.model, self._loader(win_items), self.device, queries_too=False
        )
        name = f"chunk-{len(self.info.chunks):05d}.safetensors"
        save_chunk(self.folder / name, gallery, wout)
        self.info.videos += [str(v) for v in ids]
        self.info.lengths += [
            int(min(np.shape(it[s])[0] for s in self.info.streams)) for it in items
        ]
        self.info.captions += [it.get("text") for it in items]
        self.info.windows += spans
        self.info.chunks.append(name)
        self.info.write(self.folder)  # the chunk exists before index.json names it

    def _benchmark_scores(self, spec: BenchmarkSpec, split: str) -> dict[str, Any] | None:
        """Test metrics of the indexed split, when every video carries its query (captions)."""
        if self.info.query_modality != "text" or any(c is None for c in self.info.captions):
            return None
        from var_bench.scoring.score import score_matrix

        S = self.similarities(self.info.captions)
        metrics, main = score_matrix(spec, S)
        return {
            "split": split,
            "main_score": spec.task().main_score,
            "score": round(float(main), 2),
            "metrics": {
                d: {k: round(float(v), 2) for k, v in m.items()} for d, m in metrics.items()
            },
        }

    # ---------------------------------------------------------------- opening

    @classmethod
    def load(
        cls, folder: str | Path, *, device=None, checkpoint: str | Path | None = None
    ) -> Index:
        """Open an index; ``checkpoint``: another copy of the model (must be the same weights)."""
        from var_bench.training.checkpoint import MODEL_FILE

        folder = Path(folder)
        info = IndexInfo.read(folder)
        ckpt = Path(checkpoint or info.checkpoint)
        model, saved, dev = _load_model(ckpt, get_benchmark(info.benchmark), device)
        sha = sha256_file(ckpt / MODEL_FILE)
        if sha != info.weights_sha256:
            raise InputError(
                f"{folder}: expected the model the index was built with ({info.model}, "
                f"weights sha256 {info.weights_sha256[:12]}), got {ckpt} with weights "
                f"{sha[:12]}: re-index with this model"
            )
        return cls(folder, info, model, saved, dev)

    def save(self, folder: str | Path | None = None) -> Path:
        """Write ``index.json`` (chunks are written as they are made); copy the index to
        ``folder`` when given. Returns the folder."""
        import shutil

        target = Path(folder) if folder is not None else self.folder
        if target.resolve() != self.folder.resolve():
            target.mkdir(parents=True, exist_ok=True)
            for name in self.info.chunks:
                shutil.copyfile(
                    confined(self.folder, name, f"{self.folder / INDEX_FILE} chunks"),
                    confined(target, name, f"{target} chunks"),
                )
        self.info.write(target)
        return target

    def _load_outputs(self) -> None:
        if self._gallery is not None:
            return
        from var_bench.training.encode import concat_outputs

        where = self.folder / INDEX_FILE
        if not self.info.chunks or not self.info.videos:
            raise InputError(
                f"{where}: expected an index holding videos, got none (its build stopped "
                f"before the first chunk): rerun var-bench index"
            )
        parts_g, parts_w = [], []
        for name in self.info.chunks:
            g, w = load_chunk(confined(self.folder, name, f"{where} chunks"), self.device)
            parts_g.append(g)
            parts_w.append(w)
        keys = set(parts_g[0]), set(parts_w[0])
        for name, g, w in zip(self.info.chunks, parts_g, parts_w):
            if not keys[0] or (set(g), set(w)) != keys:
                raise InputError(
                    f"{self.folder / name}: expected an index chunk of this index's model "
                    f"(gallery and window outputs {sorted(keys[0])}), got {sorted(g)}"
                )
        self._gallery = concat_outputs(parts_g)
        self._windows = concat_outputs(parts_w)
        if (_rows(self._gallery), _rows(self._windows)) != (
            len(self.info.videos),
            len(self.info.windows),
        ):
            raise InputError(
                f"{where}: expected chunks holding {len(self.info.videos)} videos and "
                f"{len(self.info.windows)} windows, got {_rows(self._gallery)} and "
                f"{_rows(self._windows)}: rerun var-bench index"
            )

    # ---------------------------------------------------------------- searching

    def _encode_queries(self, queries: Sequence[Any]) -> dict:
        from var_bench.loaders import make_collate
        from var_bench.training.encode import concat_outputs
        from var_bench.training.runtime import move_batch

        bs = int(self.saved["config"]["train"]["eval_batch_size"])
        parts = []
        self.model.eval()
        with torch.no_grad():
            for a in range(0, len(queries), bs):
                block = list(queries[a : a + bs])
                if self.info.query_modality == "text":
                    if not all(isinstance(q, str) and q.strip() for q in block):
                        raise InputError("query: expected non-empty text, got an empty query")
                    batch = {"text": block, "index": torch.arange(a, a + len(block))}
                else:
                    items = [
                        {"audio": _audio_array(q), "video_id": f"query{a + i}", "index": a + i}
                        for i, q in enumerate(block)
                    ]
                    opts = {
                        k: v for k, v in self.model.eval_loader_options().items() if k != "streams"
                    }
                    batch = make_collate(streams=("audio",), seed=0, **opts)(items)
                parts.append(self.model.encode_query(move_batch(batch, self.device)))
        return concat_outputs(parts)

    def similarities(self, queries: Sequence[Any]) -> np.ndarray:
        """S [len(queries), videos]: ``model.similarity`` of the queries against the gallery."""
        from var_bench.training.encode import similarity_matrix

        self._load_outputs()
        return similarity_matrix(
            self.model, self._encode_queries(queries), self._gallery, device=self.device
        )

    def search(self, query: Any, top: int = 10, *, exact: bool = True) -> list[SearchHit]:
        """The ``top`` videos for one query (text, or an audio feature array ``[T, 128]``)."""
        return self.search_many([query], top=top, exact=exact)[0]

    def search_many(
        self, queries: Sequence[Any], top: int = 10, *, exact: bool = True
    ) -> list[list[SearchHit]]:
        """:meth:`search` for several queries, encoded in the evaluator's batches."""
        q, ranked, scores = self._ranked(queries, top, exact)
        return [self._hits(q, i, ranked[i], scores[i]) for i in range(len(queries))]

    def _ranked(self, queries: Sequence[Any], top: int, exact: bool):
        """The encoded queries and, per query, the ``top`` gallery rows and their scores: exact
        (the model's own similarity) or approximate (the vector index)."""
        if top < 1:
            raise InputError(f"--top: expected a positive number of results, got {top}")
        self._load_outputs()
        q = self._encode_queries(queries)
        if exact:
            from var_bench.training.encode import similarity_matrix

            S = similarity_matrix(self.model, q, self._gallery, device=self.device)
            ranked = [_top(S[i], top) for i in range(S.shape[0])]
            return q, ranked, [S[i, r] for i, r in enumerate(ranked)]
        vecs = self._vector_index()
        qv = self.model.search_vectors(q, "query").float().cpu().numpy()
        found = [vecs.search(qv[i], top, exact=False) for i in range(qv.shape[0])]
        return q, [f[0] for f in found], [f[1] for f in found]

    def moments(
        self, queries: Sequence[Any], top: int = 100, *, exact: bool = True
    ) -> list[list[list]]:
        """Per query, the ``top`` videos as moment predictions ``[video_id, start_s, end_s,
        score]``: the ranking of :meth:`search_many` (score: the video's similarity), each video's
        span its best window (the window-similarity baseline of ``docs/moments.md``). Query x
        window similarities come in one matrix, so a split's sentences cost one pass."""
        from var_bench.training.encode import similarity_matrix

        q, ranked, scores = self._ranked(queries, top, exact)
        W = similarity_matrix(self.model, q, self._windows, device=self.device)
        spans = np.asarray(self.info.windows, dtype=np.int64).reshape(-1, 3)
        # Windows are stored video by video: the best of video j is the argmax over its run.
        starts = np.flatnonzero(np.r_[True, spans[1:, 0] != spans[:-1, 0]])
        ends = np.r_[starts[1:], len(spans)]
        first = np.empty(len(self.info.videos), np.int64)
        last = np.empty(len(self.info.videos), np.int64)
        first[spans[starts, 0]], last[spans[starts, 0]] = starts, ends
        sec = self.info.snippet_frames / self.info.fps
        out = []
        for i in range(len(queries)):
            row = []
            for j, s in zip(np.asarray(ranked[i]).tolist(), np.asarray(scores[i]).tolist()):
                best = first[j] + int(np.argmax(W[i, first[j] : last[j]]))
                a, b = int(spans[best, 1]), int(spans[best, 2])
                row.append([self.info.videos[j], round(a * sec, 3), round(b * sec, 3), float(s)])
            out.append(row)
        return out

    def _vector_index(self) -> VectorIndex:
        if self._vectors is None:
            vec = getattr(self.model, "search_vectors", None)
            out = vec(self._gallery, "gallery") if vec is not None else None
            if out is None:
                raise InputError(
                    f"approximate search: expected a model whose similarity is an "
                    f"inner product of vectors, got {self.info.model} (use exact search)"
                )
            self._vectors = VectorIndex(out.float().cpu().numpy()).approximate()
        return self._vectors

    def _hits(self, q: dict, i: int, ranked: np.ndarray, scores: np.ndarray) -> list[SearchHit]:
        qi = {k: v[i : i + 1] for k, v in q.items()}
        spans = np.asarray(self.info.windows, dtype=np.int64).reshape(-1, 3)
        hits = []
        for rank, (j, s) in enumerate(zip(ranked.tolist(), scores.tolist()), start=1):
            rows = np.flatnonzero(spans[:, 0] == j)
            w = self.model.similarity(qi, {k: v[rows] for k, v in self._windows.items()})
            best = rows[int(torch.argmax(w.float().reshape(-1)).item())]
            span = (int(spans[best, 1]), int(spans[best, 2]))
            seconds = to_seconds(span, snippet_frames=self.info.snippet_frames, fps=self.info.fps)
            hits.append(
                SearchHit(
                    rank,
                    self.info.videos[j],
                    float(s),
                    [round(seconds[0], 3), round(seconds[1], 3)],
                    list(span),
                    caption=self.info.captions[j],
                )
            )
        return hits

    def summary(self) -> str:
        """One line: the model and its benchmark scores."""
        sc = self.info.scores
        main = sc.get("main_score", "SumR") if sc else None
        value = sc.get("score", sc.get("SumR")) if sc else None
        scores = (
            f"{self.info.benchmark} {sc['split']} {main} {value:.1f}"
            if sc and value is not None
            else "no benchmark scores recorded"
        )
        return (
            f"{self.info.model} ({scores}); {len(self.info.videos)} videos indexed from "
            f"{self.info.features.get('source')}"
        )


def _rows(outputs: dict) -> int:
    """Rows of encoder outputs (the first tensor's dim 0; 0 when none)."""
    return next((int(v.shape[0]) for v in outputs.values() if isinstance(v, torch.Tensor)), 0)


def _load_model(checkpoint: str | Path, spec: BenchmarkSpec, device):
    """The checkpoint's model, trained on ``spec`` or on another benchmark over the same video
    collection with the same query modality (a UCFCrime-AR model indexes UCA's videos: the store
    is the collection's, rows by video id)."""
    from var_bench.training.rebuild import load_trained_model

    model, saved, _, dev = load_trained_model(checkpoint, None, device=device)
    trained_on = get_benchmark(saved["context"]["benchmark"])
    if trained_on.name != spec.name and (
        trained_on.videos.name != spec.videos.name
        or trained_on.query_modality != spec.query_modality
    ):
        raise InputError(
            f"{checkpoint}: expected a checkpoint trained on {spec.name} or on a benchmark over "
            f"its videos ({spec.videos.name}) with {spec.query_modality} queries, got one "
            f"trained on {trained_on.name} ({trained_on.videos.name}, "
            f"{trained_on.query_modality} queries)"
        )
    return model, saved, dev


def _top(row: np.ndarray, k: int) -> np.ndarray:
    from var_bench.search.vectors import top_k

    return top_k(row, k)


def _audio_array(q: Any) -> np.ndarray:
    a = np.asarray(q, dtype=np.float32)
    if a.ndim != 2 or a.shape[0] < 1 or not np.isfinite(a).all():
        raise InputError(f"--audio: expected finite VGGish features [T, D], got shape {a.shape}")
    return a


def load_audio_query(path: str | Path) -> np.ndarray:
    """An audio query from a ``.npy`` of VGGish features ``[T, D]`` (never unpickled)."""
    try:
        require_regular(path, "--audio")
        return _audio_array(np.load(path, allow_pickle=False))
    except (OSError, ValueError) as e:
        raise InputError(f"--audio {path}: expected a .npy array [T, D], got {e}") from None
