"""The galleries an index is built from: a split of the feature store, or a raw feature folder.

A gallery is ``items`` (feature dicts ``{stream: [T, D], video_id, index, ...}``, as the feature
store gives them) plus the feature set's ``identity``, which an index records so that videos of
another feature set (real vs synthetic, other streams or dims) are never mixed into it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from var_bench.benchmarks import BenchmarkSpec, get_benchmark
from var_bench.errors import InputError


@dataclass
class Gallery:
    """Videos to index: ``items`` (a dataset of feature dicts, as the feature store gives them)
    and the feature set's ``identity`` (source, synthetic, streams, dims, digest,
    snippet_frames)."""

    items: Any
    identity: dict[str, Any]

    def __len__(self) -> int:
        return len(self.items)

    def subset(self, positions: Iterable[int]) -> Gallery:
        return Gallery([self.items[i] for i in positions], self.identity)


def store_gallery(
    benchmark: str | BenchmarkSpec, split: str = "test", *, home=None, crop: str = "mean"
) -> Gallery:
    """A split of the benchmark's feature store, with the store's identity.

    For a benchmark whose queries are sentences over its videos (UCA: a ``query_id`` per row,
    several rows per video) the gallery is the split's videos, once each in the order of its
    video table, without a caption (a video has many sentences)."""
    from var_bench.training.loaders import open_split

    spec = get_benchmark(benchmark)
    if any(c.name == "query_id" for c in spec.columns):
        dataset = _one_row_per_video(spec, split, home, crop)
    else:
        dataset = open_split(spec, split, home, crop)
    from var_bench.data.paths import features_dir
    from var_bench.features.manifest import FeatureManifest

    m = FeatureManifest.read(features_dir(spec, home))
    identity = {
        "source": f"{spec.name} feature store ({split})",
        "synthetic": bool(getattr(m, "synthetic", None)),
        "streams": list(getattr(m, "streams", [])),
        "dims": dict(getattr(m, "dims", {})),
        "digest": getattr(m, "features_digest", None) or _manifest_digest(m),
        "snippet_frames": int(getattr(m, "snippet_frames", None) or spec.snippet_frames),
    }
    return Gallery(dataset, identity)


def _one_row_per_video(spec: BenchmarkSpec, split: str, home, crop: str):
    from var_bench.loaders.dataset import FeatureDataset
    from var_bench.loaders.hf import load_dataset

    rows = load_dataset(spec.name, split, features=True, videos=True, home=home, download=False)
    return FeatureDataset(rows, crop=crop, text_column=None)


def _manifest_digest(m) -> str | None:
    if m is None:
        return None
    key = [m.benchmark, m.version, m.layout, m.streams, m.dims, m.shards, m.ids_sha256, m.built_at]
    return hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()


class FolderGallery:
    """Items of a raw feature folder (any layout ``var-bench build`` reads, or the output of
    ``var-bench extract``), one per video stem found in every stream: ``{stream: [T, D],
    video_id, index}``.

    The files are read as the feature build reads them (:mod:`var_bench.features.readers`:
    headers checked, crops averaged) and the streams trimmed to their common T
    (:func:`~var_bench.features.align.aligned_length`). The identity is the build's too: the
    folder is synthetic when a root carries ``var-bench synth``'s marker
    (:data:`~var_bench.features.layouts.SYNTH_MARKER`) or its features were extracted with random
    weights; ``snippet_frames`` comes from the folder's ``extraction.json``, else the benchmark.
    """

    def __init__(self, spec: BenchmarkSpec, folder: Path, flow: Path | None = None) -> None:
        from var_bench.features.extraction import random_marker, tree_identities
        from var_bench.features.layouts import SYNTH_MARKER, index_streams
        from var_bench.features.readers import video_headers

        folder = Path(folder)
        roots = [folder] + ([Path(flow)] if flow is not None else [])
        self.streams = index_streams(spec, folder, flow)
        stems = None
        for idx in self.streams.values():
            stems = set(idx.files) if stems is None else stems & set(idx.files)
        self.stems = sorted(stems or ())
        if not self.stems:
            raise InputError(
                f"--features: expected feature files of at least one video under "
                f"{folder}, found none usable"
            )
        identities = tree_identities(roots)
        frames = next(
            (int(i["snippet_frames"]) for i in identities.values() if i.get("snippet_frames")),
            spec.snippet_frames,
        )
        first = self.stems[0]
        self.identity = {
            "source": f"feature folder {folder.resolve()}",
            "synthetic": (
                any((root / SYNTH_MARKER).is_file() for root in roots)
                or random_marker(identities) is not None
            ),
            "streams": list(self.streams),
            "dims": {
                s: int(video_headers(ix, first)[0].shape[-1]) for s, ix in self.streams.items()
            },
            "digest": hashlib.sha256(
                "\n".join(f"{s}:{ix.inputs_sha256}" for s, ix in self.streams.items()).encode()
            ).hexdigest(),
            "snippet_frames": frames,
        }

    def __len__(self) -> int:
        return len(self.stems)

    def __getitem__(self, i: int) -> dict[str, Any]:
        from var_bench.features.align import aligned_length
        from var_bench.features.readers import read_stream, video_headers

        stem = self.stems[i]
        heads = {s: video_headers(ix, stem) for s, ix in self.streams.items()}
        T = aligned_length({s: h[0].shape[0] for s, h in heads.items()}, stem)
        item: dict[str, Any] = {"video_id": stem, "index": i}
        for s, ix in self.streams.items():
            item[s] = read_stream(ix, stem, heads[s], T, "mean")
        return item
