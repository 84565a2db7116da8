"""Random: the chance row of the paper's tables, as a seeded random score matrix.

Each (query i, video j) pair scores ``u(seed, i, j)``, a uniform number in [0, 1) from a
counter-based hash (SplitMix64 of the seed and the two canonical row indices), so the matrix is
the same however the evaluator blocks or batches it, and the same on every machine. Under the
expected tie rule every R@K then has expectation K/N (percent: 100 K / N) and MdR (N + 1) / 2.

The model has no parameters and needs no training (``needs_training = False``): it is built from
its config alone (``seed``), and reads one pooled snippet per video only to learn the batch's
canonical indices. See docs/baselines.md (random) for how ``var-bench`` runs it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import torch
from torch import Tensor

from var_bench.errors import InputError
from var_bench.models.base import ModelConfig, ModelContext, RetrievalModel
from var_bench.models.registry import register_model

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
#: 2^-53: the top 53 bits of a 64-bit hash as a float in [0, 1).
_UNIT = float(2.0**-53)


def splitmix64(x: np.ndarray) -> np.ndarray:
    """SplitMix64 finaliser (Steele et al., 2014) on a uint64 array (arithmetic mod 2^64)."""
    z = np.asarray(x, dtype=np.uint64) + _GOLDEN
    z = (z ^ (z >> np.uint64(30))) * _MIX1
    z = (z ^ (z >> np.uint64(27))) * _MIX2
    return z ^ (z >> np.uint64(31))


def random_scores(seed: int, queries: np.ndarray, videos: np.ndarray) -> np.ndarray:
    """``[len(queries), len(videos)]`` float64 matrix of ``u(seed, i, j)`` in [0, 1).

    ``u = floor(h / 2^11) * 2^-53`` with ``h = splitmix64(splitmix64(splitmix64(seed) ^ i) ^ j)``:
    independent and uniform across pairs for practical purposes, a pure function of its inputs.
    """
    with np.errstate(over="ignore"):
        base = splitmix64(np.array([seed], dtype=np.uint64))
        rows = splitmix64(base ^ np.asarray(queries, dtype=np.uint64))
        h = splitmix64(rows[:, None] ^ np.asarray(videos, dtype=np.uint64)[None, :])
    return (h >> np.uint64(11)).astype(np.float64) * _UNIT


@dataclass(frozen=True)
class RandomConfig(ModelConfig):
    """The random baseline's ``model_args``."""

    seed: int = 0  # the hash seed of every score
    streams: tuple[str, ...] | None = None

    def validate(self, label: str) -> None:
        if self.seed < 0:
            raise InputError(f"{label}.seed: expected an integer >= 0, got {self.seed!r}")


@register_model("random")
class RandomScores(RetrievalModel):
    """Seeded random scores; arguments: :class:`RandomConfig`."""

    config_class = RandomConfig
    #: No parameters: ``var-bench train`` has nothing to fit and ``evaluate`` needs no weights.
    needs_training: ClassVar[bool] = False

    def __init__(self, cfg: RandomConfig, ctx: ModelContext) -> None:
        super().__init__()
        self.init_inputs(ctx, cfg.streams)
        self.seed = int(cfg.seed)
        # Only the batch indices are used; one stream keeps the loader's work minimal.
        self.streams = self.streams[:1]

    def loader_options(self) -> dict:
        """One pooled snippet per video: the scores never look at the features."""
        return {"max_snippets": 1}

    def encode_query(self, batch: dict) -> dict[str, Tensor]:
        return {"index": batch["index"].long()}

    def encode_gallery(self, batch: dict) -> dict[str, Tensor]:
        return {"index": batch["index"].long()}

    def similarity(self, query: dict, gallery: dict) -> Tensor:
        """``[Nq, Nv]`` of ``u(seed, query index, video index)`` (see :func:`random_scores`)."""
        q = query["index"].detach().cpu().numpy()
        v = gallery["index"].detach().cpu().numpy()
        return torch.from_numpy(random_scores(self.seed, q, v)).to(query["index"].device)

    def forward(self, batch: dict) -> dict[str, Tensor]:
        """Nothing to learn: a zero loss with no graph (a trainer should skip this model)."""
        return {"loss": torch.zeros((), device=batch["index"].device)}
