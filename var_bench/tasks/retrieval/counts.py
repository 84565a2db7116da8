"""Per-query counts (b, e): the sufficient statistic of one retrieval direction."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from var_bench.errors import InputError


@dataclass
class RankCounts:
    """Counts for one direction, in canonical query order.

    ``higher[i]`` = b_i, gallery items scoring strictly higher than query i's true item;
    ``tied[i]`` = e_i, other gallery items scoring exactly equal to it. Every metric under every
    tie rule is a function of (b, e).
    """

    higher: np.ndarray
    tied: np.ndarray

    def __post_init__(self) -> None:
        self.higher = np.asarray(self.higher, dtype=np.int64)
        self.tied = np.asarray(self.tied, dtype=np.int64)
        if self.higher.shape != self.tied.shape or self.higher.ndim != 1:
            raise InputError(
                f"per-query ranks: expected two 1-D arrays of equal length, "
                f"got shapes {self.higher.shape} and {self.tied.shape}"
            )

    def __len__(self) -> int:
        return int(self.higher.shape[0])

    # Read like the task layer's per-query mapping ({"higher": b, "tied": e}).
    def __getitem__(self, key: str) -> np.ndarray:
        if key not in ("higher", "tied"):
            raise KeyError(key)
        return getattr(self, key)

    def __contains__(self, key: object) -> bool:
        return key in ("higher", "tied")

    def keys(self) -> tuple[str, str]:
        return ("higher", "tied")

    def subset(self, index: Any) -> RankCounts:
        """The counts of the queries selected by ``index`` (a mask or integer array)."""
        return RankCounts(self.higher[index], self.tied[index])

    def to_dict(self) -> dict[str, list[int]]:
        return {"higher": self.higher.tolist(), "tied": self.tied.tolist()}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> RankCounts:
        return cls(np.asarray(d["higher"]), np.asarray(d["tied"]))
