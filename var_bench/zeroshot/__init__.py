"""Zero-shot models on raw video (``var-bench zeroshot``): encoders, their sampling manifests, the
frame-layout self-check, the embedding cache and the run. See ``docs/zeroshot.md``.

The stage sits above ``extract`` (decoding, weights), ``features`` / ``loaders`` (CLIP stores),
``scoring`` and ``training`` (the submission writer), and below ``search`` and ``cli``. Names are
imported lazily: ``import var_bench.zeroshot`` needs neither torch nor PyAV; it registers the
built-in encoders (their modules import torch only when a model is loaded).
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

from var_bench.zeroshot.encoders.base import (
    ENCODERS,
    Sampling,
    ZeroShotEncoder,
    get_encoder,
    register_encoder,
)

_LAZY = {
    "zeroshot": "var_bench.zeroshot.run",
    "zeroshot_features": "var_bench.zeroshot.run",
    "encode_video": "var_bench.zeroshot.run",
    "ZeroShotResult": "var_bench.zeroshot.run",
    "RAW_VIDEO_TRACK": "var_bench.zeroshot.run",
    "decode_video": "var_bench.zeroshot.sampling",
    "frame_indices": "var_bench.zeroshot.sampling",
    "self_check": "var_bench.zeroshot.selfcheck",
    "EmbeddingCache": "var_bench.zeroshot.cache",
    "pool": "var_bench.zeroshot.pooling",
}

__all__ = [
    "ENCODERS",
    "Sampling",
    "ZeroShotEncoder",
    "get_encoder",
    "register_encoder",
    *_LAZY,
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'var_bench.zeroshot' has no attribute {name!r}")
