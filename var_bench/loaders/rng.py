"""Per-process random generators for data loading that differ across DataLoader workers.

A numpy Generator pickled into DataLoader workers is copied, so every worker would draw the same
"random" snippets. :class:`LazyRng` instead creates its generator on first use in the process that
uses it: in a worker from torch's per-worker seed (base seed + worker id, itself drawn from the
DataLoader's torch generator, so ``torch.manual_seed`` makes runs reproducible) mixed with
``seed``; in the main process from ``seed`` (fresh OS entropy when None).
"""

from __future__ import annotations

import numpy as np


def worker_seed() -> int | None:
    """torch's seed for the current DataLoader worker, or None in the main process / without
    torch."""
    try:
        from torch.utils.data import get_worker_info
    except ImportError:  # torch is optional for the numpy-only helpers
        return None
    info = get_worker_info()
    return None if info is None else int(info.seed)


class LazyRng:
    """Picklable holder of a numpy Generator, created lazily in the process that draws from it.

    A generator passed as ``rng`` is used as is (and copied into each worker: same draws there).
    """

    def __init__(self, seed: int | None = None, rng: np.random.Generator | None = None) -> None:
        self.seed = seed
        self._given = rng is not None
        self._rng = rng

    def __getstate__(self) -> dict:
        # A lazily created generator is not shipped: each process makes its own.
        return {
            "seed": self.seed,
            "_given": self._given,
            "_rng": self._rng if self._given else None,
        }

    def get(self) -> np.random.Generator:
        """The generator (created on first call from ``seed`` and the worker's torch seed)."""
        if self._rng is None:
            parts = [p for p in (self.seed, worker_seed()) if p is not None]
            self._rng = np.random.default_rng(parts or None)
        return self._rng
