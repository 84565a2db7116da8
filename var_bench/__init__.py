"""var_bench: the Video Anomaly Retrieval benchmarks UCFCrime-AR and XDViolence-AR.

Public API (imported lazily so ``import var_bench`` stays fast)::

    var_bench.list_benchmarks()                          # ['ucfcrime-ar', 'xdviolence-ar']
    var_bench.download("ucfcrime-ar")                     # fetch + assemble; the manifests
    var_bench.ids("ucfcrime-ar", "test")                  # canonical test ids
    var_bench.load_dataset("ucfcrime-ar", split="test")   # a datasets.Dataset
    var_bench.score(matrix, benchmark="ucfcrime-ar")      # a ResultRecord
    var_bench.compare(record_a, record_b)                # a paired comparison
    var_bench.read_submission("sub.npz", "ucfcrime-ar")  # checked, not scored (a context manager)
    var_bench.list_task_types()                          # ['retrieval']: task types as units
    var_bench.extract_features("ucfcrime-ar", videos, out, model="i3d-rgb")  # from the videos

No public name here is also a submodule's name, so importing a submodule never replaces one
(``extract_features`` is :func:`var_bench.extract.extract`: the package ``var_bench.extract``
keeps its own name).
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

from var_bench._version import __version__

_LAZY = {
    "list_benchmarks": "var_bench.benchmarks.registry",
    "get_benchmark": "var_bench.benchmarks.registry",
    "load_dataset": "var_bench.loaders.hf",
    "download": "var_bench.data.prepare",
    "ids": "var_bench.data.prepare",
    "load_table": "var_bench.data.prepare",
    "score": "var_bench.scoring.score",
    "compare": "var_bench.scoring.score",
    "read_submission": "var_bench.scoring.score",
    "get_task_type": "var_bench.tasks.registry",
    "list_task_types": "var_bench.tasks.registry",
    "ResultRecord": "var_bench.scoring.record",
    "extract_features": "var_bench.extract.pipeline:extract",
}

__all__ = ["__version__", *_LAZY]


def __getattr__(name: str) -> Any:
    if name in _LAZY:  # "module" or "module:attribute" (a name the module spells otherwise)
        module, _, attribute = _LAZY[name].partition(":")
        return getattr(import_module(module), attribute or name)
    raise AttributeError(f"module 'var_bench' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
