"""``var-bench extract``: make I3D RGB / Flow, VGGish and CLIP features from the benchmark videos.

The stage sits above ``data`` and ``benchmarks`` (ids and facts) and below ``cli``; the feature
store never imports it (they share only :mod:`var_bench.features.extraction`).

Python::

    from var_bench.extract import (
        extract, download_weights, I3D, VGGish, TVL1Flow, RAFTFlow, RECIPES
    )
    extract("ucfcrime-ar", videos="UCF_Crimes/Videos", out="feats/ucf", model="i3d-rgb")
    download_weights("i3d-rgb", mirror=None)   # -> <data home>/weights/rgb_imagenet.pt, verified

Names are imported lazily, so ``import var_bench.extract`` needs neither torch nor PyAV.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_LAZY = {
    "extract": "var_bench.extract.pipeline",
    "ExtractResult": "var_bench.extract.pipeline",
    "parse_shard": "var_bench.extract.shards",
    "shard_of": "var_bench.extract.shards",
    "Recipe": "var_bench.extract.recipes",
    "RECIPES": "var_bench.extract.recipes",
    "get_recipe": "var_bench.extract.recipes",
    "I3D": "var_bench.extract.i3d",
    "VGGish": "var_bench.extract.vggish",
    "TVL1Flow": "var_bench.extract.flow",
    "RAFTFlow": "var_bench.extract.flow",
    "FlowCarry": "var_bench.extract.flow",
    "make_flow": "var_bench.extract.flow",
    "load_encoder": "var_bench.extract.models",
    "MODELS": "var_bench.extract.models",
    "PINS": "var_bench.extract.weights",
    "WeightsPin": "var_bench.extract.weights",
    "download_weights": "var_bench.extract.weights",
    "weights_status": "var_bench.extract.weights",
    "decode_frames": "var_bench.extract.video",
    "decode_audio": "var_bench.extract.video",
}

__all__ = list(_LAZY)


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'var_bench.extract' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
