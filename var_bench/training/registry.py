"""Model registry: ``@register_model("name")`` on a :class:`RetrievalModel` subclass makes it
available to ``var-bench train --model name``.

Discovery is lazy: the first lookup imports ``var_bench.alan_ref`` and ``var_bench.baselines``,
whose ``__init__`` modules import their model modules (which register themselves). A package that
is missing or fails to import is logged and skipped, so one broken model never hides the others.
"""

from __future__ import annotations

import importlib
import logging
from typing import Callable, TypeVar

from ..errors import InputError

log = logging.getLogger(__name__)

#: Packages imported on first lookup; their ``__init__`` registers their models.
MODEL_PACKAGES: tuple[str, ...] = ("var_bench.alan_ref", "var_bench.baselines")

_REGISTRY: dict[str, type] = {}
_discovered = False

T = TypeVar("T", bound=type)


def _normalise(name: str) -> str:
    return str(name).strip().lower().replace("_", "-")


def register_model(name: str) -> Callable[[T], T]:
    """Class decorator registering a model class under ``name`` (case-insensitive).

    Sets ``cls.name`` to the registered name. Registering a second, different class under the
    same name is an error (two modules claiming one name is always a mistake).
    """
    key = _normalise(name)

    def decorate(cls: T) -> T:
        existing = _REGISTRY.get(key)
        if existing is not None and existing is not cls and (
            existing.__module__, existing.__qualname__) != (cls.__module__, cls.__qualname__):
            raise ValueError(f"model name {key!r} already registered by {existing.__module__}")
        cls.name = key
        _REGISTRY[key] = cls
        return cls

    return decorate


def discover() -> None:
    """Import the model packages once (idempotent); import failures are logged, not raised."""
    global _discovered
    if _discovered:
        return
    _discovered = True
    for package in MODEL_PACKAGES:
        try:
            importlib.import_module(package)
        except Exception as exc:  # a half-written model package must not break the others
            log.warning("could not import model package %s: %s", package, exc)


def model_names() -> list[str]:
    """Registered model names, sorted."""
    discover()
    return sorted(_REGISTRY)


def get_model(name: str) -> type:
    """The model class registered under ``name``; InputError listing the known names otherwise."""
    discover()
    key = _normalise(name)
    try:
        return _REGISTRY[key]
    except KeyError:
        known = ", ".join(sorted(_REGISTRY)) or "(none registered)"
        raise InputError(f"unknown model: expected one of {known}, got {name!r}") from None
