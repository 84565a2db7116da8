"""Evaluation: encode a split with a model, build the similarity matrix, score it.

The matrix S has one row per query (text on UCFCrime-AR, audio on XDViolence-AR) and one column
per video, both in the split's order; query i's positive is video i. Validation during training
scores S directly with the project's counting kernel
(:func:`~var_bench.training.encode.score_matrix`); :func:`evaluate`
writes a submission file in the official format and scores it with :func:`var_bench.score`, so
``var-bench score`` on that file gives the same numbers.
"""

from __future__ import annotations

import json
import logging
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from var_bench._version import __version__
from var_bench.benchmarks import BenchmarkSpec, get_benchmark
from var_bench.errors import InputError, VarBenchWarning
from var_bench.fsutil import atomic_writer
from var_bench.models.base import ModelContext
from var_bench.models.deviations import DEVIATIONS_KEY, collect, disclosure_text
from var_bench.scoring.record import (
    EXTRACTION_KEY,
    FEATURES_KEY,
    REAL_FEATURES,
    REFERENCE_MODEL_KEY,
    ResultRecord,
)
from var_bench.tasks.retrieval.submission.provenance import PROVENANCE_KEY, provenance_array
from var_bench.training import loaders
from var_bench.training.encode import encode_split, pair_rows, select_rows, similarity_matrix
from var_bench.training.loaders import build_eval_loader
from var_bench.training.rebuild import load_trained_model

log = logging.getLogger(__name__)


def expand_to_canonical(
    S: np.ndarray,
    ids: list[str],
    canonical: list[str],
    gallery_ids: list[str] | None = None,
    gallery: list[str] | None = None,
) -> np.ndarray:
    """S over ``ids`` (rows) and ``gallery_ids`` (columns; default: ``ids``) placed into the
    canonical layout (``canonical`` rows x ``gallery`` columns; default: N x N). Rows or videos
    absent from the feature store (``--allow-missing``) get a score below every real one: their
    columns never outrank a real video, and their own rows are constant (the tie rule then gives
    them exactly chance)."""
    gallery_ids = ids if gallery_ids is None else gallery_ids
    gallery = canonical if gallery is None else gallery

    def positions(got: list[str], want: list[str]) -> np.ndarray:
        index = {v: i for i, v in enumerate(want)}
        unknown = [v for v in got if v not in index]
        if unknown:
            raise InputError(
                f"expected ids of the split, got {len(unknown)} unknown ids (first "
                f"{unknown[0]!r}): the feature store does not match the metadata"
            )
        return np.array([index[v] for v in got], dtype=np.int64)

    rows, cols = positions(ids, canonical), positions(gallery_ids, gallery)
    fill = np.float32(S.min() - 1.0) if S.size else np.float32(0.0)
    full = np.full((len(canonical), len(gallery)), fill, dtype=np.float32)
    full[np.ix_(rows, cols)] = S
    return full


def write_submission(
    path: Path,
    spec: BenchmarkSpec,
    S: np.ndarray,
    ids: list[str],
    provenance: dict[str, Any] | None = None,
    gallery_ids: list[str] | None = None,
) -> Path:
    """Write the official ``.npz`` in the per-direction layout: S under the first direction's name
    (``t2v`` / ``a2v``: rows = queries, columns = videos), S^T under the second (``v2t`` /
    ``v2a``: rows = videos), plus ``<query>_ids`` and ``<gallery>_ids`` (the query of row i is the
    caption / audio of video i, so both id arrays are the video ids), plus ``provenance``
    (:mod:`var_bench.tasks.retrieval.submission.provenance`) when given, so ``var-bench score`` on
    the file keeps the disclosure and the feature identity."""
    path = Path(path)
    if path.suffix != ".npz":
        raise InputError(f"--out: expected a path ending in .npz, got {str(path)!r}")
    S = S.astype(np.float32, copy=False)
    task = spec.task()
    arrays = {d.name: (S if d.over_rows else np.ascontiguousarray(S.T)) for d in task.directions}
    arrays.update(
        {
            f"{task.query_modality}_ids": np.array(ids, dtype=str),
            f"{task.gallery_modality}_ids": np.array(
                ids if gallery_ids is None else gallery_ids, dtype=str
            ),
        }
    )
    if provenance is not None:
        arrays[PROVENANCE_KEY] = provenance_array(provenance)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_writer(path, "wb") as f:
        np.savez(f, **arrays)
    return path


def _features_disclosure(spec: BenchmarkSpec, home) -> tuple[str | None, dict[str, Any] | None]:
    """(``real ...`` / ``synthetic ...``, the store's identity) from the feature store manifest:
    kind, layout, streams, dims, crops, dtype, build time, the manifest's sha256 and the set
    digest (``features_digest``, docs/features.md "Fingerprint"). (None, None) when there is no
    store."""
    from var_bench.data.paths import features_dir
    from var_bench.features.manifest import MANIFEST, FeatureManifest
    from var_bench.fsutil import sha256_file

    folder = features_dir(spec, home)
    manifest = FeatureManifest.read(folder)
    if manifest is None:
        return None, None
    synthetic = manifest.synthetic
    identity = {
        "kind": "synthetic" if synthetic else REAL_FEATURES,
        "layout": manifest.layout,
        "streams": list(manifest.streams),
        "dims": manifest.dims,
        "crops_mode": manifest.crops_mode,
        "dtype": manifest.dtype,
        "built_at": manifest.built_at,
        "manifest_sha256": sha256_file(folder / MANIFEST),
        "features_digest": manifest.features_digest,
    }
    if synthetic:
        seed = synthetic.get("seed") if isinstance(synthetic, dict) else None
        return f"synthetic features (var_bench.synth, seed {seed})", identity
    return f"{REAL_FEATURES} features ({', '.join(manifest.streams)})", identity


def _extraction_disclosure(spec: BenchmarkSpec, home) -> str | None:
    """The store's ``var-bench extract`` identities (stream -> identity) as JSON, else None."""
    from var_bench.data.paths import features_dir
    from var_bench.features.extraction import read_store_identities

    found = read_store_identities(features_dir(spec, home))
    return None if found is None else json.dumps(found, sort_keys=True)


def evaluate(
    checkpoint_dir: str | Path,
    benchmark: str | BenchmarkSpec,
    *,
    split: str = "test",
    out: str | Path = "submission.npz",
    home=None,
    device=None,
    json_path=None,
    data=None,
    features: str | None = None,
    batch_size: int | None = None,
    name: str | None = None,
) -> ResultRecord:
    """Encode a split with a trained checkpoint, write the submission and score it.

    The disclosure (reference model, features real or synthetic, how the checkpoint was chosen,
    test-time normalisation), the name and the feature store's identity are written into the
    submission file (``provenance``), so the record and a later ``var-bench score`` of the file
    carry them alike. The end-to-end time (model load, encode, similarity, write, score) is
    logged.

    Args:
        checkpoint_dir: a checkpoint folder (``<run>/best`` or ``<run>/last``).
        benchmark: the benchmark (its default task is scored).
        split: the split to encode (``test``; ``val`` to check a run).
        out: the submission ``.npz`` to write (the per-direction layout with id arrays).
        home, device, batch_size: where the features are, the torch device, the batch size.
        json_path: also save the record here.
        data: a dataset instead of the feature store (tests, custom data); ``features``: the
            ``features`` disclosure for such data. name: the entry name.

    Returns:
        The :class:`~var_bench.scoring.record.ResultRecord` of the written submission.

    Raises:
        InputError: features of other sizes than trained on, an empty split, an ``out`` not
            ending in ``.npz``. NotBuiltError: no feature store.

    Example:
        >>> rec = evaluate("runs/alan-ucfcrime-ar/best", "ucfcrime-ar")  # doctest: +SKIP
        >>> rec.main_score, round(rec.main_value, 1)  # doctest: +SKIP
        ('SumR', 160.7)
    """
    from var_bench.scoring.score import score

    t0 = time.perf_counter()
    spec = get_benchmark(benchmark)
    trained = load_trained_model(checkpoint_dir, spec, device=device)
    model, saved, state, dev = trained
    cfg, ctx = trained.config, trained.context
    dataset = (
        data if data is not None else loaders.open_split(spec, split, home, cfg.data.eval_crop)
    )
    _check_dims(dataset, ctx, checkpoint_dir)
    loader = build_eval_loader(model, dataset, ctx, cfg, batch_size=batch_size)
    queries, gallery, ids, query_ids = encode_split(model, loader, dev, progress=None)
    rows, cols = ids, ids
    if query_ids is not None:  # pair rows of a table gold: one row per query, one column per video
        rows_q, rows_v, _ = pair_rows(query_ids, ids)
        queries, gallery = select_rows(queries, rows_q), select_rows(gallery, rows_v)
        rows, cols = [query_ids[i] for i in rows_q], [ids[i] for i in rows_v]
    S = similarity_matrix(model, queries, gallery, device=dev)
    if data is None:
        from var_bench.data.prepare import ids as canonical_ids

        canonical = canonical_ids(spec.name, split, home=home, download=False)
        videos = (
            canonical_ids(spec.name, split, home=home, download=False, gallery=True)
            if query_ids is not None
            else canonical
        )
        if len(cols) != len(videos):
            warnings.warn(
                f"{spec.name} {split}: {len(videos) - len(cols)} videos have no features; "
                f"they score below every real video (chance for their own queries)",
                VarBenchWarning,
                stacklevel=2,
            )
        S = expand_to_canonical(S, rows, canonical, cols, videos)
        rows, cols = canonical, videos
    store_kind, identity = (None, None) if data is not None else _features_disclosure(spec, home)
    provenance = {
        "name": name,
        "disclosure": {
            REFERENCE_MODEL_KEY: saved["model"],
            FEATURES_KEY: features or store_kind,
            "checkpoint_selection": state.get("selection"),
            "test_time_normalisation": getattr(model, "test_time_normalisation", None),
            # the benchmark the checkpoint was trained on: score() checks it against the test
            # videos (a model trained on another benchmark over the same videos is flagged)
            "training_data": saved["context"]["benchmark"],
            # Deviations the built model carries (no Flow, text fallback): never silent.
            DEVIATIONS_KEY: disclosure_text(collect(model)),
            EXTRACTION_KEY: _extraction_disclosure(spec, home),
        },
        "features": identity,
        "var_bench": __version__,
        "checkpoint": {"folder": Path(checkpoint_dir).name, "epoch": state.get("epoch")},
    }
    write_submission(Path(out), spec, S, rows, provenance, gallery_ids=cols)
    # the store's digest travels in the file's provenance: score() puts it in the record
    record = score(Path(out), spec, split=split, home=home)
    seconds = time.perf_counter() - t0
    log.info(
        "evaluated %s on %s %s (%d queries) in %.2f s end to end",
        saved["model"],
        spec.name,
        split,
        S.shape[0],
        seconds,
    )
    if json_path is not None:
        record.save(json_path)
    return record


def _check_dims(dataset, ctx: ModelContext, folder) -> None:
    """Refuse features whose sizes differ from the ones the checkpoint was trained on."""
    if len(dataset) == 0:
        raise InputError("expected videos to evaluate, got an empty split")
    item = dataset[0]
    for stream, dim in ctx.dims.items():
        if stream in item and int(np.shape(item[stream])[-1]) != int(dim):
            raise InputError(
                f"{folder}: expected {stream} features of size {dim} (as trained), "
                f"got {int(np.shape(item[stream])[-1])}"
            )


def record_summary(record: ResultRecord) -> str:
    """One JSON line with the headline numbers (for logs)."""
    return json.dumps({record.main_score: record.main_value, **record.metrics})
