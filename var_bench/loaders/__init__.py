"""Torch data over the feature store: a ``Dataset`` of rows, padding/sampling ``collate``.

The numpy/Arrow helpers (``sampling``, ``arrowview``) work without torch; the torch parts are
imported when torch is installed (it is the ``models`` extra).
"""

from var_bench.loaders.sampling import pool_to, random_indices, uniform_indices  # noqa: F401

try:
    import torch  # noqa: F401
except ImportError:  # pragma: no cover - torch is optional for the numpy helpers
    pass
else:
    # Bound after the submodules are imported, so the package attribute ``collate`` is the
    # function, not the module of the same name.
    from var_bench.loaders.batching import Collate, collate, make_collate  # noqa: F401
    from var_bench.loaders.dataset import FeatureDataset  # noqa: F401

__all__ = [
    "Collate",
    "FeatureDataset",
    "collate",
    "make_collate",
    "pool_to",
    "random_indices",
    "uniform_indices",
]
