"""Checkpoints as safetensors + JSON (never pickle, never ``torch.load``).

A checkpoint folder holds:

* ``model.safetensors``: the model's state dict, minus the weights of submodules marked
  ``persist_weights = False`` (a frozen pretrained text encoder, reloaded from its name);
* ``config.json``: ``{"format", "var_bench", "model", "config" (the resolved run config),
  "context" (ModelContext.to_json())}`` — enough to rebuild the model through the registry;
* ``state.json``: training progress (epoch, step, best val main score, history, optimizer scalars,
  GradScaler state); ``optimizer.safetensors``: the optimizer's tensors (resuming only).

Files are written under temporary names and renamed (a crash never leaves a half checkpoint that
looks whole); ``state.json`` is written last and marks the folder complete.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

import torch
from pydantic import Field
from safetensors.torch import load_file, save_file
from torch import nn

from var_bench import readback
from var_bench._version import __version__
from var_bench.errors import DataError, InputError
from var_bench.fsutil import atomic_write_text
from var_bench.training.config import MAX_MODEL_DIM

CHECKPOINT_FORMAT = 1
MODEL_FILE = "model.safetensors"
CONFIG_FILE = "config.json"
STATE_FILE = "state.json"
OPTIMIZER_FILE = "optimizer.safetensors"


def skipped_prefixes(model: nn.Module) -> list[str]:
    """State-dict prefixes of submodules that opted out of checkpoints (``persist_weights``)."""
    return [
        f"{name}."
        for name, mod in model.named_modules()
        if name and getattr(mod, "persist_weights", True) is False
    ]


def model_tensors(model: nn.Module) -> dict[str, torch.Tensor]:
    """The state dict to save: contiguous CPU copies (tied weights become separate copies, which
    safetensors requires), without the skipped submodules."""
    skip = tuple(skipped_prefixes(model))
    return {
        k: v.detach().to("cpu").contiguous().clone()
        for k, v in model.state_dict().items()
        if not (skip and k.startswith(skip))
    }


def _save_tensors(
    tensors: dict[str, torch.Tensor], path: Path, metadata: dict[str, str] | None = None
) -> None:
    tmp = path.with_name(path.name + ".part")
    save_file(tensors, str(tmp), metadata=metadata)
    os.replace(tmp, path)


def _write_json(path: Path, obj: Any) -> None:
    atomic_write_text(path, json.dumps(obj, indent=1, sort_keys=False) + "\n")


def read_json(path: Path) -> Any:
    """A checkpoint's JSON file, read through :func:`var_bench.readback.read_json` (bounded,
    regular files only, UTF-8); its schema is checked by :func:`check_saved`."""
    return readback.read_json(path, "checkpoint file")


@dataclass(frozen=True)
class SavedContext:
    """The schema of ``config.json``'s ``context`` (``ModelContext.to_json()``): every stream
    has a size in ``dims``, each in ``[1, MAX_MODEL_DIM]`` (a 10^12-wide layer is refused here,
    not by the allocator)."""

    benchmark: str
    query_modality: str
    streams: Annotated[list[str], Field(min_length=1)]
    dims: dict[str, Annotated[int, Field(ge=1, le=MAX_MODEL_DIM)]]
    text_model: str

    def __post_init__(self) -> None:
        missing = [s for s in self.streams if s not in self.dims]
        if missing:
            raise InputError(
                f"field context.dims: expected a size for stream {missing[0]!r}, got none"
            )


@dataclass(frozen=True)
class SavedConfig:
    """The schema of a checkpoint's ``config.json`` (what :func:`save_checkpoint` writes);
    ``config`` is the run config, checked field by field by ``training.config.from_dict``."""

    format: Literal[1]
    var_bench: str
    model: str
    config: dict[str, Any]
    context: SavedContext


def check_saved(saved: Any, state: Any, folder: Path) -> tuple[SavedConfig, Any]:
    """``config.json`` and ``state.json`` of a checkpoint from elsewhere, validated against
    their schemas (:class:`SavedConfig`; ``state.json``'s :class:`~var_bench.training.loop.
    RunState` fields, its optimiser / scaler parts checked where they are loaded) before any
    model is built from them. Returns ``(SavedConfig, RunState)``; InputError, one line naming
    the file and the field, otherwise."""
    from var_bench.training.loop import RunState

    config = readback.validate(SavedConfig, saved, Path(folder) / CONFIG_FILE)
    where = Path(folder) / STATE_FILE
    if not isinstance(state, dict):
        raise InputError(f"{where}: expected a JSON object, got {type(state).__name__}")
    return config, readback.validate(RunState, RunState.fields_of(state), where)


def optimizer_to_files(state: dict[str, Any]) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """Split ``optimizer.state_dict()`` into tensors (``state/<param>/<key>``) and a JSON part."""
    tensors: dict[str, torch.Tensor] = {}
    scalars: dict[str, dict[str, Any]] = {}
    for idx, per_param in state["state"].items():
        for key, value in per_param.items():
            if isinstance(value, torch.Tensor):
                tensors[f"state/{idx}/{key}"] = value.detach().to("cpu").contiguous().clone()
            else:
                scalars.setdefault(str(idx), {})[key] = value
    return tensors, {"param_groups": state["param_groups"], "scalars": scalars}


def optimizer_from_files(tensors: dict[str, torch.Tensor], meta: dict[str, Any]) -> dict[str, Any]:
    """Inverse of :func:`optimizer_to_files`."""
    state: dict[int, dict[str, Any]] = {}
    for name, value in tensors.items():
        _, idx, key = name.split("/", 2)
        state.setdefault(int(idx), {})[key] = value
    for idx, values in meta.get("scalars", {}).items():
        state.setdefault(int(idx), {}).update(values)
    return {"state": state, "param_groups": meta["param_groups"]}


def save_checkpoint(
    folder: Path,
    model: nn.Module,
    *,
    config: dict[str, Any],
    context: dict[str, Any],
    state: dict[str, Any] | None = None,
    optimizer: torch.optim.Optimizer | None = None,
) -> Path:
    """Write a checkpoint folder (see the module docstring); ``state.json`` last. Returns it."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    # Invalidate first: a folder whose state.json is missing is incomplete until the end.
    (folder / STATE_FILE).unlink(missing_ok=True)
    _save_tensors(model_tensors(model), folder / MODEL_FILE, {"format": str(CHECKPOINT_FORMAT)})
    _write_json(
        folder / CONFIG_FILE,
        {
            "format": CHECKPOINT_FORMAT,
            "var_bench": __version__,
            "model": config["model"],
            "config": config,
            "context": context,
        },
    )
    full_state = dict(state or {})
    if optimizer is not None:
        tensors, meta = optimizer_to_files(optimizer.state_dict())
        _save_tensors(tensors, folder / OPTIMIZER_FILE)
        full_state["optimizer"] = meta
    else:
        (folder / OPTIMIZER_FILE).unlink(missing_ok=True)
    _write_json(folder / STATE_FILE, full_state)
    return folder


def is_checkpoint(folder: Path) -> bool:
    """True when ``folder`` holds a complete checkpoint."""
    folder = Path(folder)
    return all((folder / f).is_file() for f in (MODEL_FILE, CONFIG_FILE, STATE_FILE))


def load_model_weights(model: nn.Module, folder: Path, device: torch.device | str = "cpu") -> None:
    """Load ``model.safetensors`` into ``model``: every saved key must match, and only the
    skipped (non-persistent) submodules may be absent from the file."""
    path = Path(folder) / MODEL_FILE
    if not path.is_file():
        raise InputError(f"{folder}: expected a checkpoint folder with {MODEL_FILE}, got none")
    try:
        tensors = load_file(str(path), device=str(device))
    except Exception as exc:  # SafetensorError and friends: a bad header, offsets, truncation
        raise InputError(
            f"{path}: expected a safetensors file, got one that does not load "
            f"({' '.join(str(exc).split())[:160]})"
        ) from None
    try:
        result = model.load_state_dict(tensors, strict=False)
    except RuntimeError as exc:  # shapes that do not match the model of config.json
        raise InputError(
            f"{path}: expected weights matching the model in {CONFIG_FILE}, got "
            f"{' '.join(str(exc).split())[:200]}"
        ) from None
    skip = tuple(skipped_prefixes(model))
    missing = [k for k in result.missing_keys if not (skip and k.startswith(skip))]
    if missing or result.unexpected_keys:
        what = f"missing {missing[0]}" if missing else f"unexpected {result.unexpected_keys[0]}"
        raise DataError(
            f"{path}: expected weights matching the model in {CONFIG_FILE}, got "
            f"{len(missing)} missing and {len(result.unexpected_keys)} unexpected keys ({what})"
        )


def load_optimizer(optimizer: torch.optim.Optimizer, folder: Path, state: dict[str, Any]) -> None:
    """Restore an optimizer saved by :func:`save_checkpoint` (tensors + ``state["optimizer"]``)."""
    meta = state.get("optimizer")
    if meta is None:
        return
    path = Path(folder) / OPTIMIZER_FILE
    tensors = load_file(str(path)) if path.is_file() else {}
    optimizer.load_state_dict(optimizer_from_files(tensors, meta))


def copy_checkpoint(src: Path, dst: Path, *, with_optimizer: bool = False) -> Path:
    """Copy a checkpoint folder (model, config, state; the optimizer when asked) atomically enough:
    files go to ``dst`` with ``state.json`` last."""
    src, dst = Path(src), Path(dst)
    dst.mkdir(parents=True, exist_ok=True)
    (dst / STATE_FILE).unlink(missing_ok=True)
    for name in (MODEL_FILE, CONFIG_FILE) + ((OPTIMIZER_FILE,) if with_optimizer else ()):
        if (src / name).is_file():
            tmp = dst / (name + ".part")
            shutil.copyfile(src / name, tmp)
            os.replace(tmp, dst / name)
    if not with_optimizer:
        (dst / OPTIMIZER_FILE).unlink(missing_ok=True)
    state = read_json(src / STATE_FILE)
    if not with_optimizer:
        state.pop("optimizer", None)
    _write_json(dst / STATE_FILE, state)
    return dst
