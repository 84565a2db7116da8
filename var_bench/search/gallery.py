"""The galleries an index is built from: a split of the feature store, or a raw feature folder.

A gallery is ``items`` (feature dicts ``{stream: [T, D], video_id, index, ...}``, as the feature
store gives them) plus the feature set's ``identity``, which an index records so that videos of
another feature set (real vs synthetic, other streams or dims) are never mixed into it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

import numpy as np
import torch

from var_bench.benchmarks import BenchmarkSpec, get_benchmark
from var_bench.errors import InputError


@dataclass
class Gallery:
    """Videos to index: ``items`` (a dataset of feature dicts, as the feature store gives them)
    and the feature set's ``identity`` (source, synthetic, streams, dims, digest, snippet_frames)."""

    items: Any
    identity: dict[str, Any]

    def __len__(self) -> int:
        return len(self.items)

    def subset(self, positions: Iterable[int]) -> "Gallery":
        return Gallery([self.items[i] for i in positions], self.identity)


def store_gallery(benchmark: str | BenchmarkSpec, split: str = "test", *, home=None,
                  crop: str = "mean") -> Gallery:
    """A split of the benchmark's feature store, with the store's identity."""
    from var_bench.training.loaders import open_split

    spec = get_benchmark(benchmark)
    dataset = open_split(spec, split, home, crop)
    from var_bench.data.paths import features_dir
    from var_bench.features.manifest import FeatureManifest

    m = FeatureManifest.read(features_dir(spec, home))
    identity = {"source": f"{spec.name} feature store ({split})",
                "synthetic": bool(getattr(m, "synthetic", None)),
                "streams": list(getattr(m, "streams", [])), "dims": dict(getattr(m, "dims", {})),
                "digest": getattr(m, "features_digest", None) or _manifest_digest(m),
                "snippet_frames": int(getattr(m, "snippet_frames", None) or spec.snippet_frames)}
    return Gallery(dataset, identity)


def _manifest_digest(m) -> str | None:
    if m is None:
        return None
    key = [m.benchmark, m.version, m.layout, m.streams, m.dims, m.shards, m.ids_sha256, m.built_at]
    return hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()


class FolderGallery(torch.utils.data.Dataset):
    """Items of a raw feature folder (any layout ``var-bench build`` reads, or the output of
    ``var-bench extract``), one per video stem, crops averaged: ``{stream: [T, D], video_id,
    index}``. The streams are trimmed to a common T (as the feature build does)."""

    def __init__(self, spec: BenchmarkSpec, folder: Path, flow: Path | None = None) -> None:
        from var_bench.features.layouts import index_streams

        self.streams = index_streams(spec, Path(folder), flow)
        stems = None
        for s, idx in self.streams.items():
            have = set(idx.files)
            stems = have if stems is None else stems & have
        self.stems = sorted(stems or ())
        if not self.stems:
            raise InputError(f"--features: expected feature files of at least one video under "
                             f"{folder}, found none usable")
        marker = Path(folder) / ".var_bench_synth.json"
        extraction = Path(folder) / "extraction.json"
        frames = spec.snippet_frames
        if extraction.is_file():  # the output of `var-bench extract` names its snippet length
            try:
                ident = json.loads(extraction.read_text(encoding="utf-8")).get("identity", {})
                frames = int(ident.get("snippet_frames") or ident.get("snippet_length") or frames)
            except (OSError, ValueError, AttributeError):
                raise InputError(f"{extraction}: expected the JSON written by var-bench extract, "
                                 f"got something else") from None
        self.identity = {"source": f"feature folder {Path(folder).resolve()}",
                         "synthetic": marker.exists(),
                         "streams": list(self.streams),
                         "dims": {}, "digest": hashlib.sha256("\n".join(
                             f"{s}:{i.fingerprint}" for s, i in self.streams.items()).encode()).hexdigest(),
                         "snippet_frames": frames}

    def __len__(self) -> int:
        return len(self.stems)

    def __getitem__(self, i: int) -> dict[str, Any]:
        stem = self.stems[i]
        item: dict[str, Any] = {"video_id": stem, "index": i}
        for s, idx in self.streams.items():
            arrays = [np.load(p, mmap_mode="r", allow_pickle=False) for p in
                      (idx.root / f for f in idx.files[stem])]
            x = np.stack([np.asarray(a, np.float32) for a in arrays], 0).mean(0) \
                if arrays[0].ndim == 2 else np.asarray(arrays[0], np.float32).mean(1)
            item[s] = x
            self.identity["dims"][s] = int(x.shape[-1])
        T = min(item[s].shape[0] for s in self.streams)
        for s in self.streams:
            item[s] = item[s][:T]
        return item
