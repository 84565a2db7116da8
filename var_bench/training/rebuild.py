"""Building a registered model from a run config, and rebuilding a trained one from its
checkpoint folder (registry + ``config.json`` + ``model.safetensors``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, NamedTuple

import torch

from var_bench.benchmarks import BenchmarkSpec, get_benchmark
from var_bench.errors import InputError
from var_bench.models.base import ModelContext, RetrievalModel
from var_bench.models.registry import get_model
from var_bench.training import checkpoint as ckpt
from var_bench.training.config import RunConfig, from_dict
from var_bench.training.runtime import resolve_device


def build_model(cfg: RunConfig, ctx: ModelContext) -> RetrievalModel:
    """Instantiate the registered model from ``cfg.model_args``."""
    cls = get_model(cfg.model)
    try:
        model = cls.from_config(dict(cfg.model_args), ctx)
    except TypeError as exc:
        if "argument" in str(exc):
            raise InputError(f"model_args for {cfg.model}: {exc}") from None
        raise
    if not isinstance(model, RetrievalModel):
        raise TypeError(f"{cls.__name__}.from_config must return a RetrievalModel")
    return model


class TrainedModel(NamedTuple):
    """A model rebuilt from a checkpoint. Unpacks as ``(model, saved, state, device)``:
    ``saved`` is ``config.json``, ``state`` is ``state.json``; :attr:`config` and
    :attr:`context` are their typed forms."""

    model: RetrievalModel
    saved: dict[str, Any]
    state: dict[str, Any]
    device: torch.device

    @property
    def config(self) -> RunConfig:
        return from_dict(self.saved["config"])

    @property
    def context(self) -> ModelContext:
        return context_from_json(self.saved["context"], self.device)


def context_from_json(ctx_json: dict[str, Any], device: torch.device) -> ModelContext:
    """Inverse of :meth:`ModelContext.to_json` (the benchmark is resolved by name)."""
    return ModelContext(
        benchmark=get_benchmark(ctx_json["benchmark"]),
        query_modality=ctx_json["query_modality"],
        streams=tuple(ctx_json["streams"]),
        dims=dict(ctx_json["dims"]),
        text_model=ctx_json["text_model"],
        device=device,
    )


def load_trained_model(
    checkpoint_dir: str | Path, spec: BenchmarkSpec | None = None, *, device=None
) -> TrainedModel:
    """Rebuild a model from a checkpoint folder and load its weights (model in eval mode)."""
    folder = Path(checkpoint_dir)
    if not ckpt.is_checkpoint(folder):
        raise InputError(
            f"{folder}: expected a checkpoint folder ({ckpt.MODEL_FILE}, "
            f"{ckpt.CONFIG_FILE}, {ckpt.STATE_FILE}), got "
            f"{'an incomplete one' if folder.is_dir() else 'no such folder'}"
        )
    saved = ckpt.read_json(folder / ckpt.CONFIG_FILE)
    state = ckpt.read_json(folder / ckpt.STATE_FILE)
    ckpt.check_saved(saved, state, folder)  # types and sizes, before the model is built
    trained_on = get_benchmark(saved["context"]["benchmark"])
    if spec is not None and spec.name != trained_on.name:
        raise InputError(
            f"{folder}: expected a checkpoint trained on {spec.name}, got one trained "
            f"on {trained_on.name}"
        )
    dev = resolve_device(device)
    model = build_model(from_dict(saved["config"]), context_from_json(saved["context"], dev))
    ckpt.load_model_weights(model, folder)
    return TrainedModel(model.to(dev).eval(), saved, state, dev)
