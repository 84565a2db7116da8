"""Evaluation: encode a split with a model, build the similarity matrix, score it.

The matrix S has one row per query (text on UCFCrime-AR, audio on XDViolence-AR) and one column
per video, both in the split's order; query i's positive is video i. Validation during training
scores S directly with the project's counting kernel (:func:`score_matrix`); :func:`evaluate`
writes a submission file in the official format and scores it with :func:`var_bench.score`, so
``var-bench score`` on that file gives the same numbers.
"""

from __future__ import annotations

import json
import logging
import time
import warnings
from pathlib import Path
from typing import Any, Iterable

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from var_bench.benchmarks import BenchmarkSpec, get_benchmark
from var_bench.errors import InputError, VarBenchWarning
from var_bench.fsutil import atomic_writer
from var_bench.scoring.metrics import count_direction, sum_recall, summarise
from var_bench.scoring.record import FEATURES_KEY, REFERENCE_MODEL_KEY, ResultRecord
from var_bench.training.runtime import autocast, move_batch

log = logging.getLogger(__name__)

#: Queries per similarity block (bounds memory: block x N scores at a time).
SIMILARITY_BLOCK = 256


def _pad_to(t: Tensor, shape: tuple[int, ...]) -> Tensor:
    pad: list[int] = []
    for have, want in zip(reversed(t.shape[1:]), reversed(shape)):
        pad += [0, want - have]
    return F.pad(t, pad) if any(pad) else t


def concat_outputs(parts: list[dict[str, Any]]) -> dict[str, Any]:
    """Concatenate per-batch encoder outputs along dim 0. Tensors whose trailing sizes differ
    between batches (e.g. padded snippet or token axes) are zero-padded (False for masks) to the
    largest; lists are chained."""
    if not parts:
        return {}
    out: dict[str, Any] = {}
    for key in parts[0]:
        values = [p[key] for p in parts]
        if isinstance(values[0], Tensor):
            trailing = tuple(max(v.shape[i] for v in values) for i in range(1, values[0].dim()))
            out[key] = torch.cat([_pad_to(v, trailing) for v in values], dim=0)
        else:
            out[key] = [x for v in values for x in v]
    return out


def _rows(outputs: dict[str, Any], start: int, stop: int) -> dict[str, Any]:
    return {k: v[start:stop] for k, v in outputs.items()}


@torch.no_grad()
def encode_split(model, loader: Iterable[dict], device: torch.device,
                 amp: torch.dtype | None = None) -> tuple[dict, dict, list[str]]:
    """(query outputs, gallery outputs, video ids) over ``loader``, in its order. Outputs stay on
    ``device``."""
    model.eval()
    queries, gallery, ids = [], [], []
    for batch in loader:
        batch = move_batch(batch, device)
        with autocast(amp, device):
            queries.append(model.encode_query(batch))
            gallery.append(model.encode_gallery(batch))
        ids.extend(batch["video_id"])
    return concat_outputs(queries), concat_outputs(gallery), ids


@torch.no_grad()
def similarity_matrix(model, queries: dict, gallery: dict, *, block: int = SIMILARITY_BLOCK,
                      amp: torch.dtype | None = None, device: torch.device | None = None) -> np.ndarray:
    """S = model.similarity over blocks of ``block`` queries -> float32 ndarray [Nq, Nv]."""
    n = next(len(v) for v in queries.values())
    rows = []
    for start in range(0, n, block):
        with autocast(amp, device or torch.device("cpu")):
            s = model.similarity(_rows(queries, start, start + block), gallery)
        rows.append(s.float().cpu())
    S = torch.cat(rows, dim=0).numpy()
    if not np.isfinite(S).all():
        raise InputError(f"{getattr(model, 'name', 'model')}: expected finite similarities, "
                         f"got NaN or Inf (diverged training?)")
    return np.ascontiguousarray(S, dtype=np.float32)


def score_matrix(spec: BenchmarkSpec, S: np.ndarray) -> tuple[dict[str, dict[str, float]], float]:
    """Metrics of both directions of ``spec`` on a square S (query i <-> video i) and SumR."""
    metrics = {d.name: summarise(count_direction(S, d.over_rows)) for d in spec.directions}
    return metrics, sum_recall(metrics)


def expand_to_canonical(S: np.ndarray, ids: list[str], canonical: list[str]) -> np.ndarray:
    """S over ``ids`` placed into the canonical N x N layout. Videos absent from the feature store
    (``--allow-missing``) get a score below every real one: their columns never outrank a real
    video, and their own rows are constant (the tie rule then gives them exactly chance)."""
    index = {v: i for i, v in enumerate(canonical)}
    unknown = [v for v in ids if v not in index]
    if unknown:
        raise InputError(f"expected video ids of the split, got {len(unknown)} unknown ids "
                         f"(first {unknown[0]!r}): the feature store does not match the metadata")
    pos = np.array([index[v] for v in ids], dtype=np.int64)
    fill = np.float32(S.min() - 1.0) if S.size else np.float32(0.0)
    full = np.full((len(canonical), len(canonical)), fill, dtype=np.float32)
    full[np.ix_(pos, pos)] = S
    return full


def write_submission(path: Path, spec: BenchmarkSpec, S: np.ndarray, ids: list[str]) -> Path:
    """Write the official ``.npz`` in the per-direction layout: S under the first direction's name
    (``t2v`` / ``a2v``: rows = queries, columns = videos), S^T under the second (``v2t`` /
    ``v2a``: rows = videos; the reader requires both once one is named by direction), plus
    ``<query>_ids`` and ``<gallery>_ids`` (the query of row i is the caption / audio of video i,
    so both id arrays are the video ids)."""
    path = Path(path)
    if path.suffix != ".npz":
        raise InputError(f"--out: expected a path ending in .npz, got {str(path)!r}")
    id_array = np.array(ids, dtype=str)
    S = S.astype(np.float32, copy=False)
    arrays = {spec.directions[0].name: S, spec.directions[1].name: np.ascontiguousarray(S.T),
              f"{spec.query_modality}_ids": id_array, f"{spec.gallery_modality}_ids": id_array}
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_writer(path, "wb") as f:
        np.savez(f, **arrays)
    return path


def _features_disclosure(spec: BenchmarkSpec, home) -> str | None:
    """``real ...`` or ``synthetic ...`` from the feature store manifest (None if unknown)."""
    try:
        from var_bench.features.manifest import FeatureManifest
        from var_bench.data.paths import features_dir
    except ImportError:
        return None
    manifest = FeatureManifest.read(features_dir(spec, home))
    if manifest is None:
        return None
    synthetic = getattr(manifest, "synthetic", None)
    if synthetic:
        seed = synthetic.get("seed") if isinstance(synthetic, dict) else None
        return f"synthetic features (var_bench.synth, seed {seed})"
    return f"real features ({', '.join(manifest.streams)})"


def _extraction_disclosure(spec: BenchmarkSpec, home) -> str | None:
    """The store's ``var-bench extract`` identities (stream -> identity) as JSON, else None."""
    from var_bench.data.paths import features_dir
    from var_bench.features.extraction import read_store_identities

    found = read_store_identities(features_dir(spec, home))
    return None if found is None else json.dumps(found, sort_keys=True)


def evaluate(checkpoint_dir: str | Path, benchmark: str | BenchmarkSpec, *, split: str = "test",
             out: str | Path = "submission.npz", home=None, device=None, json_path=None,
             data=None, features: str | None = None, batch_size: int | None = None) -> ResultRecord:
    """Encode ``split`` with the checkpoint's model, write the submission ``out`` (``.npz``), score
    it with :func:`var_bench.score` and return the record (also saved to ``json_path``).

    ``data``: a dataset to use instead of the feature store (tests); ``features``: the
    ``features`` disclosure for such data. The record's disclosure names the reference model,
    the features (real or synthetic) and how the checkpoint was chosen. The end-to-end time
    (model load, encode, similarity, write, score) is logged.
    """
    from var_bench.scoring.score import score
    from var_bench.training.trainer import build_eval_loader, load_trained_model, open_split

    t0 = time.perf_counter()
    spec = get_benchmark(benchmark)
    model, saved, state, dev = load_trained_model(checkpoint_dir, spec, device=device)
    cfg = saved["config"]
    dataset = data if data is not None else open_split(spec, split, home, cfg["data"]["eval_crop"])
    _check_dims(dataset, saved["context"], checkpoint_dir)
    loader = build_eval_loader(model, dataset, saved["context"], cfg, batch_size=batch_size)
    queries, gallery, ids = encode_split(model, loader, dev)
    S = similarity_matrix(model, queries, gallery, device=dev)
    if data is None:
        from var_bench.data.prepare import ids as canonical_ids

        canonical = canonical_ids(spec.name, split, home=home, download=False)
        if len(ids) != len(canonical):
            warnings.warn(f"{spec.name} {split}: {len(canonical) - len(ids)} videos have no features; "
                          f"they score below every real video (chance for their own queries)",
                          VarBenchWarning, stacklevel=2)
        S = expand_to_canonical(S, ids, canonical)
    write_submission(Path(out), spec, S, ids if data is not None else canonical)
    record = score(Path(out), spec, split=split, home=home)
    record.disclosure[REFERENCE_MODEL_KEY] = saved["model"]
    record.disclosure[FEATURES_KEY] = features or _features_disclosure(spec, home)
    record.disclosure["checkpoint_selection"] = state.get("selection")
    record.disclosure["test_time_normalisation"] = getattr(model, "test_time_normalisation", None)
    record.disclosure["extraction"] = _extraction_disclosure(spec, home)
    seconds = time.perf_counter() - t0
    log.info("evaluated %s on %s %s (%d queries) in %.2f s end to end", saved["model"], spec.name,
             split, S.shape[0], seconds)
    if json_path is not None:
        record.save(json_path)
    return record


def _check_dims(dataset, context: dict, folder) -> None:
    """Refuse features whose sizes differ from the ones the checkpoint was trained on."""
    if len(dataset) == 0:
        raise InputError("expected videos to evaluate, got an empty split")
    item = dataset[0]
    for stream, dim in context["dims"].items():
        if stream in item and int(np.shape(item[stream])[-1]) != int(dim):
            raise InputError(f"{folder}: expected {stream} features of size {dim} (as trained), "
                             f"got {int(np.shape(item[stream])[-1])}")


def record_summary(record: ResultRecord) -> str:
    """One JSON line with the headline numbers (for logs)."""
    return json.dumps({"SumR": record.SumR, **record.metrics})
