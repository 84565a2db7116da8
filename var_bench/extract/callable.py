"""The ``var_bench.extract`` package is callable: ``var_bench.extract(...)`` is the function."""

from __future__ import annotations

import types
from importlib import import_module
from typing import Any


class CallableModule(types.ModuleType):
    """``var_bench.extract(...)`` calls :func:`~var_bench.extract.pipeline.extract`: the package
    shares its name with the top-level function, and importing it replaces that attribute."""

    def __call__(self, *args: Any, **kwargs: Any):
        return getattr(import_module("var_bench.extract.pipeline"), "extract")(*args, **kwargs)


