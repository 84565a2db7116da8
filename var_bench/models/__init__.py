"""The models: the interface and registry, shared building blocks, ALAN and the baselines.

Importing this package registers every built-in model; third-party packages add models through
the entry-point group ``var_bench.models`` (see :mod:`var_bench.models.registry`). Each model's
named configs sit beside its module as ``configs/<model>-<name>.yaml``.
"""

from var_bench.models import alan, baselines  # noqa: F401,E402  (registers the built-in models)
from var_bench.models.base import ModelContext, RetrievalModel  # noqa: F401
from var_bench.models.registry import get_model, model_names, register_model  # noqa: F401

__all__ = ["ModelContext", "RetrievalModel", "get_model", "model_names", "register_model"]
