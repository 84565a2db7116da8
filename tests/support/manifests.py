"""A valid :class:`FeatureManifest` to vary one field at a time (feature-store tests)."""

from __future__ import annotations

from var_bench.features.manifest import BUILD_FORMAT, FeatureManifest


def feature_manifest(**kw) -> FeatureManifest:
    """A one-split UCFCrime-AR store manifest; keyword arguments replace its fields."""
    base = dict(
        benchmark="ucfcrime-ar",
        version="1.0.0",
        build_format=BUILD_FORMAT,
        var_bench="0",
        built_at="t",
        layout={"rgb": "ucf-crops"},
        streams=["rgb"],
        crops_mode="mean",
        num_crops=10,
        dtype="float32",
        dims={"rgb": 1024},
        snippet_frames=16,
        synthetic=None,
        counts={"test": 1},
        missing={"test": []},
        trimmed={"test": 0},
        shards={"test": ["data/test/part-00000.arrow"]},
        ids_sha256={"test": "x"},
    )
    return FeatureManifest(**{**base, **kw})
