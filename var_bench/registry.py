"""One generic registry (lm-eval's ``Registry``): benchmarks, task types and models are each a
:class:`Registry` of name -> object, with one name rule, one refusal style and one plug-in hook.

Names are case-insensitive and ``_`` equals ``-`` (:func:`registry_key`). Built-ins register when
their package is imported; other packages add entries through an entry-point group, e.g. in their
``pyproject.toml``::

    [project.entry-points."var_bench.tasks"]
    mytask = "my_package.my_task"

The first lookup imports every entry point of the group once; one that is missing or fails to
import is logged and skipped, so a broken plug-in never hides the others.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping
from importlib.metadata import entry_points
from typing import Generic, TypeVar

from var_bench.errors import InputError

log = logging.getLogger(__name__)

T = TypeVar("T")


def registry_key(name: str) -> str:
    """The one name rule: stripped, lower-case, ``_`` as ``-``.

    >>> registry_key(" UCFCrime_AR ")
    'ucfcrime-ar'
    """
    return str(name).strip().lower().replace("_", "-")


class Registry(Mapping[str, T], Generic[T]):
    """Name -> object (a read-only :class:`Mapping` view that follows registrations).

    Args:
        kind: what the entries are, for messages (``benchmark``, ``task type``, ``model``).
        group: the entry-point group that plug-ins register through (None: none).
    """

    def __init__(self, kind: str, group: str | None = None) -> None:
        self.kind, self.group = kind, group
        self._items: dict[str, T] = {}
        self._builtin: set[str] = set()
        self._discovered = group is None

    def register(
        self,
        name: str,
        obj: T,
        *,
        replace: bool = False,
        builtin: bool = False,
        same: Callable[[T, T], bool] | None = None,
    ) -> T:
        """Make ``obj`` known as ``name`` and return it.

        Raises:
            InputError: ``name`` is not in the registry's spelling (lower case, ``-``), or another
                object holds it (unless ``replace``, or ``same(old, obj)`` says they are one).
        """
        key = registry_key(name)
        if key != name:
            raise InputError(
                f"{self.kind} name: expected lowercase with '-' (e.g. {key!r}), got {name!r}"
            )
        old = self._items.get(key)
        if old is not None and old is not obj and not replace and not (same and same(old, obj)):
            raise InputError(f"{self.kind} {key!r} is already registered")
        self._items[key] = obj
        if builtin:
            self._builtin.add(key)
        return obj

    def unregister(self, name: str) -> None:
        """Forget ``name`` (tests, plug-ins); a built-in cannot be removed."""
        key = registry_key(name)
        if key in self._builtin:
            raise InputError(f"{self.kind} {key!r} is built in and cannot be unregistered")
        self._items.pop(key, None)

    def discover(self) -> None:
        """Import the plug-ins of the entry-point group once (idempotent)."""
        if self._discovered:
            return
        self._discovered = True
        for ep in entry_points(group=self.group):
            try:
                ep.load()
            except Exception as exc:  # a half-written plug-in must not break the others
                log.warning(
                    "could not load %s plug-in %s (%s): %s", self.kind, ep.name, ep.value, exc
                )

    def get(self, name: str, default=None):  # type: ignore[override]
        self.discover()
        return self._items.get(registry_key(name), default)

    def lookup(self, name: str) -> T:
        """The object registered as ``name``.

        Raises:
            InputError: nothing is registered under that name (the message lists what is).
        """
        self.discover()
        try:
            return self._items[registry_key(name)]
        except KeyError:
            known = ", ".join(self._items) or "(none registered)"
            raise InputError(
                f"unknown {self.kind}: expected one of {known}, got {name!r}"
            ) from None

    def names(self) -> list[str]:
        """Registered names, in registration order."""
        self.discover()
        return list(self._items)

    def __getitem__(self, name: str) -> T:
        self.discover()
        return self._items[registry_key(name)]

    def __iter__(self) -> Iterator[str]:
        self.discover()
        return iter(list(self._items))

    def __len__(self) -> int:
        self.discover()
        return len(self._items)

    def __repr__(self) -> str:
        return f"Registry({self.kind}: {list(self._items)})"
