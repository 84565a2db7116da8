"""A trivial baseline on a synthetic tree: how much retrieval plain pooling + ridge already gets.

Query features q (UCFCrime-AR: the caption's MiniLM embedding; XDViolence-AR: the mean of the
video's audio snippets) and video features v (mean over crops and snippets of RGB, concatenated
with Flow when present) are centred with the train means; W = (Q^T Q + lam I)^{-1} Q^T V on the
upstream train split; the test similarity is S_ij = cos(q_i W, v_j). The tree's signal should make
this clearly better than chance yet far from perfect (docs/synth.md reports the figures).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from var_bench.benchmarks import Layout, get_benchmark
from var_bench.features.layouts import SYNTH_MARKER
from var_bench.synth import layout as L
from var_bench.synth.core import video_records


def _pooled(
    tree: Path, lay: Layout, stream: str, split: str, stem: str, crops: int, folder: str
) -> np.ndarray:
    arrays = [np.load(tree / p) for p in L.video_files(lay, stream, split, stem, crops, folder)]
    return np.mean([a.reshape(-1, a.shape[-1]).mean(0) for a in arrays], axis=0)


def pooled_features(
    tree: str | os.PathLike, records: list[dict], marker: dict, stream: str
) -> np.ndarray:
    """Mean over snippets and crops of one stream: ``[len(records), D]`` float64."""
    tree = Path(tree)
    lay = L.layout_named(get_benchmark(marker["benchmark"]), marker["layout"][stream])
    crops = 1 if stream == "audio" else marker["crops"]
    return np.stack(
        [
            _pooled(tree, lay, stream, r["_split"], r["video_id"], crops, L.class_folder(r))
            for r in records
        ]
    )


def _cosine(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a = a / np.linalg.norm(a, axis=1, keepdims=True).clip(1e-12)
    b = b / np.linalg.norm(b, axis=1, keepdims=True).clip(1e-12)
    return a @ b.T


def ridge_similarity(
    q_train: np.ndarray,
    v_train: np.ndarray,
    q_test: np.ndarray,
    v_test: np.ndarray,
    lam: float = 1.0,
) -> np.ndarray:
    """S ``[Nq, Nv]`` = cos((q - mq) W, v - mv) with W the ridge solution on the train pairs."""
    mq, mv = q_train.mean(0), v_train.mean(0)
    q, v = q_train - mq, v_train - mv
    w = np.linalg.solve(q.T @ q + lam * np.eye(q.shape[1]), q.T @ v)
    return _cosine((q_test - mq) @ w, v_test - mv)


def ridge_matrix(
    tree: str | os.PathLike, *, home: str | os.PathLike | None = None, lam: float = 1.0
) -> np.ndarray:
    """The ridge baseline's test similarity matrix ``[Nq, Nv]`` (queries x videos, canonical
    order of the tree's test videos): a submission for ``var_bench.score`` on a full tree."""
    marker = json.loads((Path(tree) / SYNTH_MARKER).read_text(encoding="utf-8"))
    spec = get_benchmark(marker["benchmark"])
    records = video_records(spec.name, marker["videos"], home)
    video = np.concatenate(
        [pooled_features(tree, records, marker, s) for s in marker["streams"] if s != "audio"],
        axis=1,
    )
    if "audio" in marker["streams"]:
        query = pooled_features(tree, records, marker, "audio")
    else:
        from var_bench.models.text import sentence_embeddings

        query = sentence_embeddings([r["caption_en"] for r in records]).astype(np.float64)
    train = np.array([r["_split"] == "train" for r in records])
    return ridge_similarity(query[train], video[train], query[~train], video[~train], lam)


def ridge_baseline(
    tree: str | os.PathLike, *, home: str | os.PathLike | None = None, lam: float = 1.0
) -> dict:
    """Metrics of the ridge baseline on the tree's test videos (any number of them):
    ``{direction: {R@1, ...}, <main score>: float, "N": int}`` (retrieval: R@K in percent,
    ranks 1-based, SumR, expected-value tie rule)."""
    from var_bench.scoring.score import score_matrix

    marker = json.loads((Path(tree) / SYNTH_MARKER).read_text(encoding="utf-8"))
    spec = get_benchmark(marker["benchmark"])
    sim = ridge_matrix(tree, home=home, lam=lam)
    metrics, main = score_matrix(spec, sim)
    out: dict = dict(metrics)
    out[spec.task().main_score] = main
    out["N"] = int(sim.shape[0])
    return out
