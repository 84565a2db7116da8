"""var_bench: the Video Anomaly Retrieval benchmarks UCFCrime-AR and XDViolence-AR.

Public API (imported lazily so ``import var_bench`` stays fast)::

    var_bench.benchmarks()                              # ['ucfcrime-ar', 'xdviolence-ar']
    var_bench.load_dataset("ucfcrime-ar", split="test")  # a datasets.Dataset
    var_bench.score(matrix, benchmark="ucfcrime-ar")     # a ResultRecord
    var_bench.compare(record_a, record_b)               # a paired comparison
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

from ._version import __version__
from .benchmarks import benchmarks, get_benchmark

_LAZY = {
    "load_dataset": "var_bench.data",
    "download": "var_bench.data",
    "ids": "var_bench.data",
    "score": "var_bench.scoring",
    "compare": "var_bench.scoring",
    "ResultRecord": "var_bench.records",
}

__all__ = ["__version__", "benchmarks", "get_benchmark", *_LAZY]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'var_bench' has no attribute {name!r}")
