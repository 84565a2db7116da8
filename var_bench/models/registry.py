"""Model registry: ``@register_model("name")`` on a :class:`RetrievalModel` subclass makes it
available to ``var-bench train --model name``.

Built-in models register when :mod:`var_bench.models` is imported (importing this module imports
that package first). Third-party models are found through the entry-point group
:data:`ENTRY_POINT_GROUP`: a package declares, in its ``pyproject.toml``,

    [project.entry-points."var_bench.models"]
    mymodel = "my_package.my_model"

and the first lookup imports ``my_package.my_model``, whose ``@register_model`` runs. An entry point
that is missing or fails to import is logged and skipped, so one broken plug-in never hides the
others.
"""

from __future__ import annotations

import logging
from importlib.metadata import entry_points
from typing import Callable, TypeVar

from var_bench.errors import InputError

log = logging.getLogger(__name__)

#: Entry-point group through which other packages add models.
ENTRY_POINT_GROUP = "var_bench.models"

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
    """Load the plug-in models of :data:`ENTRY_POINT_GROUP` once (idempotent); a plug-in that
    fails to load is logged, not raised."""
    global _discovered
    if _discovered:
        return
    _discovered = True
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        try:
            ep.load()
        except Exception as exc:  # a half-written plug-in must not break the others
            log.warning("could not load model plug-in %s (%s): %s", ep.name, ep.value, exc)


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
