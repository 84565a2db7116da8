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

from collections.abc import Callable
from typing import TypeVar

from var_bench.errors import InputError
from var_bench.registry import Registry, registry_key

#: Entry-point group through which other packages add models.
ENTRY_POINT_GROUP = "var_bench.models"
#: The registered model classes.
MODELS: Registry[type] = Registry("model", ENTRY_POINT_GROUP)

T = TypeVar("T", bound=type)


def _same_class(old: type, new: type) -> bool:
    # A module imported twice (reloaded, or under two names) re-registers the same class.
    return (old.__module__, old.__qualname__) == (new.__module__, new.__qualname__)


def register_model(name: str) -> Callable[[T], T]:
    """Class decorator registering a model class under ``name`` (case-insensitive).

    Sets ``cls.name`` to the registered name. Registering a second, different class under the
    same name is an error (two modules claiming one name is always a mistake).
    """
    key = registry_key(name)

    def decorate(cls: T) -> T:
        try:
            MODELS.register(key, cls, same=_same_class)
        except InputError:
            raise ValueError(
                f"model name {key!r} already registered by {MODELS.get(key).__module__}"
            ) from None
        cls.name = key
        return cls

    return decorate


def discover() -> None:
    """Load the plug-in models of :data:`ENTRY_POINT_GROUP` once (idempotent); a plug-in that
    fails to load is logged, not raised."""
    MODELS.discover()


def model_names() -> list[str]:
    """Registered model names, sorted."""
    return sorted(MODELS.names())


def get_model(name: str) -> type:
    """The model class registered under ``name``; InputError listing the known names otherwise."""
    return MODELS.lookup(name)
