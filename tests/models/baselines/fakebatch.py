"""Fake contexts and batches for the baseline model tests (the collate format of
``var_bench.loaders.batching``), small enough for CPU."""

from __future__ import annotations

import os

import torch

from var_bench.benchmarks import get_benchmark
from var_bench.models.base import ModelContext
from var_bench.models.text import OFFLINE_TEXT_MODEL

os.environ.setdefault("HF_HUB_OFFLINE", "1")

UCF = "ucfcrime-ar"
XD = "xdviolence-ar"
#: Small feature sizes: the models read sizes from the context, never assume 1024 / 128.
DIMS = {"rgb": 24, "flow": 20, "clip": 16, "audio": 12}
#: Offline text encoder options for tiny models (frozen, cached, short).
TEXT = {"freeze": True, "cache": True, "max_length": 16}

CAPTIONS = [
    "A man in a black shirt breaks the shop window at night.",
    "Two cars collide at a crossing and one of them overturns.",
    "A woman walks her dog along the quiet street.",
    "Several people fight in front of a bar.",
    "A masked man points a gun at the cashier.",
    "Smoke rises after an explosion in a warehouse.",
]


def make_ctx(benchmark: str, streams: tuple[str, ...] = ("rgb", "flow")) -> ModelContext:
    """A context for ``benchmark`` with :data:`DIMS` sizes and the offline text model."""
    spec = get_benchmark(benchmark)
    store = streams + (("audio",) if spec.query_modality == "audio" else ())
    return ModelContext(
        benchmark=spec,
        query_modality=spec.query_modality,
        streams=store,
        dims={s: DIMS[s] for s in store},
        text_model=OFFLINE_TEXT_MODEL,
    )


def make_batch(
    ctx: ModelContext,
    batch_size: int = 4,
    length: int = 8,
    lengths: list[int] | None = None,
    seed: int = 0,
) -> dict:
    """A padded batch: every stream of ``ctx`` ``[B, L, D]`` with masks True on the first
    ``lengths[b]`` snippets (default: all ``length``), zeros on padding."""
    g = torch.Generator().manual_seed(seed)
    lengths = lengths or [length] * batch_size
    L = max(lengths)
    mask = torch.zeros(batch_size, L, dtype=torch.bool)
    for b, n in enumerate(lengths):
        mask[b, :n] = True
    batch: dict = {
        "index": torch.arange(batch_size),
        "video_id": [f"v{i}" for i in range(batch_size)],
    }
    for s in ctx.streams:
        x = torch.randn(batch_size, L, ctx.dims[s], generator=g) * mask[..., None]
        batch[s], batch[f"{s}_mask"] = x, mask.clone()
    batch["length"] = torch.tensor(lengths)
    batch["video_label"] = (torch.arange(batch_size) % 2).float()
    batch["snippet_labels"] = torch.full((batch_size, L), -1, dtype=torch.long)
    if ctx.query_modality == "text":
        batch["text"] = [CAPTIONS[i % len(CAPTIONS)] + f" ({i})" for i in range(batch_size)]
    return batch


def pad_batch(batch: dict, extra: int, fill: float = 7.0) -> dict:
    """``batch`` with ``extra`` more padding positions (mask False) on every stream, filled with
    ``fill`` so a model that reads padding changes its output."""
    out = dict(batch)
    for key, x in batch.items():
        if key.endswith("_mask"):
            s = key[: -len("_mask")]
            v = batch[s]
            out[s] = torch.cat([v, torch.full((v.shape[0], extra, v.shape[2]), fill)], dim=1)
            out[key] = torch.cat([x, torch.zeros(x.shape[0], extra, dtype=torch.bool)], dim=1)
    out["snippet_labels"] = torch.cat(
        [batch["snippet_labels"], torch.full((batch["snippet_labels"].shape[0], extra), -1)], dim=1
    )
    return out


def build(name: str, benchmark: str, streams: tuple[str, ...] = ("rgb", "flow"), **args):
    """Model ``name`` from the registry for a :func:`make_ctx` context; ``args`` are its
    ``model_args`` (models with a text encoder get the frozen offline :data:`TEXT` options on
    text benchmarks unless given)."""
    import dataclasses
    import inspect

    from var_bench.models.registry import get_model

    ctx = make_ctx(benchmark, streams)
    cls = get_model(name)
    keys = (
        {f.name for f in dataclasses.fields(cls.config_class)}
        if cls.config_class is not None
        else set(inspect.signature(cls).parameters)
    )
    if ctx.query_modality == "text" and "text" in keys:
        args.setdefault("text", TEXT)
    torch.manual_seed(0)
    return cls.from_config(args, ctx), ctx


def parameters_without_gradient(model: torch.nn.Module) -> list[str]:
    """Trainable parameters whose gradient is missing or all zero after a backward pass."""
    return [
        n
        for n, p in model.named_parameters()
        if p.requires_grad and (p.grad is None or not bool(p.grad.abs().sum() > 0))
    ]


def evaluate_pair(model: torch.nn.Module, query_batch: dict, gallery_batch: dict) -> torch.Tensor:
    """``model.similarity`` of the queries of one batch against the videos of another (eval
    mode)."""
    model.eval()
    with torch.no_grad():
        return model.similarity(
            model.encode_query(query_batch), model.encode_gallery(gallery_batch)
        )
