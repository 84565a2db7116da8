"""The model interface every retrieval model implements, and the context it is built in.

A model turns batches (see ``var_bench.loaders.batching``) into a training loss
(:meth:`RetrievalModel.forward`) and, at evaluation, into query and gallery embeddings whose
:meth:`RetrievalModel.similarity` is the submission matrix: rows = queries (text or audio),
columns = videos, higher = more similar.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

import torch
from torch import Tensor, nn

from var_bench.benchmarks import BenchmarkSpec


@dataclass(frozen=True)
class ModelContext:
    """What a model needs to know about the data it is built for.

    ``streams``: video streams available in the feature store (e.g. ``("rgb",)`` with no Flow);
    ``dims``: feature size per stream, including the audio query on XDViolence-AR
    (e.g. ``{"rgb": 1024, "flow": 1024, "audio": 128}``); ``text_model``: transformers name or path
    (see :func:`var_bench.models.text.load_text_encoder`).
    """

    benchmark: BenchmarkSpec
    query_modality: str
    streams: tuple[str, ...]
    dims: dict[str, int] = field(default_factory=dict)
    text_model: str = "bert-base-cased"
    device: torch.device = field(default_factory=lambda: torch.device("cpu"))

    def to_json(self) -> dict[str, Any]:
        """JSON-safe form (stored in a checkpoint's ``config.json``)."""
        return {
            "benchmark": self.benchmark.name,
            "query_modality": self.query_modality,
            "streams": list(self.streams),
            "dims": dict(self.dims),
            "text_model": self.text_model,
        }


class RetrievalModel(nn.Module):
    """Base class of every registered model (see :mod:`var_bench.models.registry`).

    Subclasses set ``streams`` (the video streams they use) and implement the methods below.
    ``forward`` returns a dict with a scalar ``"loss"`` plus any named loss parts (logged).
    ``encode_query`` / ``encode_gallery`` return dicts of tensors whose first dimension is the
    batch; the evaluator concatenates them over batches along dim 0 and calls ``similarity`` on
    blocks of queries against the whole gallery.
    """

    name: ClassVar[str] = ""
    streams: tuple[str, ...] = ("rgb",)

    @classmethod
    def from_config(cls, args: dict, ctx: ModelContext) -> "RetrievalModel":
        """Build the model from its ``model_args`` (a dict from the YAML config) and the context."""
        return cls(**args, ctx=ctx)  # type: ignore[call-arg]

    def loader_options(self) -> dict:
        """Collate keyword arguments this model wants (``sample``, ``n``, ``max_snippets``)."""
        return {}

    def eval_loader_options(self) -> dict:
        """Collate keyword arguments at evaluation; by default :meth:`loader_options` with random
        sampling turned into uniform sampling (evaluation must be deterministic)."""
        opts = dict(self.loader_options())
        if opts.get("sample") == "random":
            opts["sample"] = "uniform"
        return opts

    def optimizer_groups(self) -> list[dict]:
        """Parameter groups for the optimiser: dicts with ``params`` and optionally ``lr_scale``
        (multiplies the configured lr, e.g. 0.1 for a pretrained text encoder) and
        ``weight_decay``. Default: one group of every parameter that requires a gradient."""
        return [{"params": [p for p in self.parameters() if p.requires_grad]}]

    def forward(self, batch: dict) -> dict[str, Tensor]:  # pragma: no cover - abstract
        raise NotImplementedError

    def encode_gallery(self, batch: dict) -> dict[str, Tensor]:  # pragma: no cover - abstract
        raise NotImplementedError

    def encode_query(self, batch: dict) -> dict[str, Tensor]:  # pragma: no cover - abstract
        raise NotImplementedError

    def similarity(self, query: dict, gallery: dict) -> Tensor:  # pragma: no cover - abstract
        raise NotImplementedError

    def search_vectors(self, outputs: dict, side: str) -> Tensor | None:
        """Optional: fixed vectors ``[B, D]`` of encoder outputs (``side`` = ``"query"`` or
        ``"gallery"``) whose inner products equal :meth:`similarity` (``q_i . v_j = s_ij``), which
        lets an approximate nearest-neighbour index search them (``var_bench.search``). None: the
        similarity is not an inner product of fixed vectors (only exact search applies)."""
        return None
