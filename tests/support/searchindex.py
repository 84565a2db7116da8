"""A valid ``index.json`` of a two-video search index (what ``var_bench.search.storage`` reads),
for the tests that change or mutate one field at a time."""

from __future__ import annotations

INDEX_INFO = {
    "format": 1,
    "benchmark": "ucfcrime-ar",
    "model": "tiny",
    "checkpoint": "/runs/ce1/best",
    "weights_sha256": "ab" * 32,
    "query_modality": "text",
    "streams": ["rgb"],
    "dims": {"rgb": 1024},
    "features": {"source": "x", "synthetic": True},
    "scores": {"split": "test", "main_score": "SumR", "score": 12.5, "metrics": {}},
    "snippet_frames": 16,
    "fps": 30.0,
    "videos": ["a", "b"],
    "lengths": [3, 2],
    "captions": ["a man", None],
    "windows": [[0, 0, 3], [0, 1, 3], [1, 0, 2]],
    "chunks": ["chunk-00000.safetensors"],
}
