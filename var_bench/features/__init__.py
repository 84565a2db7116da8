"""Raw I3D / VGGish feature trees -> the feature store (``var-bench build``), and reading it.

``build_features(benchmark, features=DIR, ...)`` converts a raw tree (layouts in
docs/features.md); ``read_split(folder, split)`` reads one split of a store;
``FeatureManifest.read(folder)`` says what a store holds. Names are imported on first use, so
``import var_bench.features.streams`` (what models import) stays light.
"""

from __future__ import annotations

import importlib

_EXPORTS = {
    "build_features": "build",
    "read_split": "store",
    "ShardWriter": "store",
    "FeatureManifest": "manifest",
    "snippet_labels": "labels",
}
__all__ = list(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
