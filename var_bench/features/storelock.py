"""The feature store's writer lock: ``var-bench build`` and ``import-h5`` of one store in one data
home run one at a time (:func:`var_bench.locking.exclusive` on ``features/<collection>``, so two
benchmarks over the same videos wait for each other), and whoever holds it first deletes what
killed runs left beside the store (``.<collection>.import-*`` folders, ``.<collection>.*.old``
folders).
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import logging
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

from var_bench.benchmarks import BenchmarkSpec, get_benchmark
from var_bench.data.paths import features_dir
from var_bench.fsutil import remove_debris
from var_bench.locking import exclusive

log = logging.getLogger(__name__)
F = TypeVar("F", bound=Callable)


@contextlib.contextmanager
def store_lock(benchmark: str | BenchmarkSpec, home: str | os.PathLike | None) -> Iterator[Path]:
    """Hold the writer lock of the feature store ``benchmark`` reads (its video collection's) in
    ``home``; yields the store path."""
    spec = get_benchmark(benchmark)
    dest = features_dir(spec, home)
    with exclusive(dest, f"feature store of {spec.name} in {dest.parent}"):
        for p in remove_debris(dest.parent, f".{dest.name}."):
            log.info("removed %s, left by an interrupted run", p)
        yield dest


def holds_store_lock(fn: F) -> F:
    """Run ``fn(benchmark, ..., home=...)`` under :func:`store_lock` of its benchmark and home."""
    sig = inspect.signature(fn)

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        bound = sig.bind(*args, **kwargs)
        with store_lock(bound.arguments["benchmark"], bound.arguments.get("home")):
            return fn(*args, **kwargs)

    return wrapper  # type: ignore[return-value]
