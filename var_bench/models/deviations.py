"""Named deviations from the paper that a built model carries (never silent).

A module that had to depart from what a reproduction needs (ALAN without a Flow stream, a text
model that fell back to the offline MiniLM) appends a :class:`Deviation` to its
``deviations_`` list when it is built. :func:`collect` gathers them over a model's submodules;
``var-bench evaluate`` writes them into every record's disclosure and ``var-bench reproduce``
lists them in its report (and, with ``--strict``, refuses to start).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

#: Disclosure key of a result record that holds the deviations ("; "-joined, or "none").
from var_bench.scoring.record import DEVIATIONS_KEY  # noqa: E402,F401  (one name, in the record)


@dataclass(frozen=True)
class Deviation:
    """One departure from the paper's protocol: ``key`` (stable id, e.g. ``alan.no_flow``),
    ``message`` (one line: what happened and what the paper does instead)."""

    key: str
    message: str

    def __str__(self) -> str:
        return f"{self.key}: {self.message}"

    def to_json(self) -> dict[str, str]:
        return {"key": self.key, "message": self.message}


def note(module, deviation: Deviation) -> Deviation:
    """Attach ``deviation`` to ``module`` (its ``deviations_`` list) and return it."""
    found = list(getattr(module, "deviations_", ()))
    if deviation not in found:
        found.append(deviation)
    object.__setattr__(module, "deviations_", found)
    return deviation


def collect(model) -> list[Deviation]:
    """Every deviation noted on ``model`` or its submodules, first seen first, no repeats."""
    modules: Iterable = model.modules() if hasattr(model, "modules") else [model]
    out: list[Deviation] = []
    for m in modules:
        for d in getattr(m, "deviations_", ()):
            if d not in out:
                out.append(d)
    return out


def disclosure_text(deviations: Iterable[Deviation | str]) -> str:
    """The record disclosure value: the deviations "; "-joined, or ``"none"``."""
    items = [str(d) for d in deviations]
    return "; ".join(items) if items else "none"
