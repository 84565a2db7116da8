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
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file
from torch import nn

from var_bench._version import __version__
from var_bench.errors import DataError, InputError
from var_bench.fsutil import atomic_write_text

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


def read_json(path: Path) -> dict[str, Any]:
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"{path}: expected a checkpoint file, got no such file") from None
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as exc:
        raise InputError(f"{path}: expected JSON, got a parse error: {exc}") from None


def check_saved(saved: Any, state: Any, folder: Path) -> None:
    """``config.json`` and ``state.json`` of a checkpoint from elsewhere, checked by type and
    range before any model is built from them (sizes are bounded: a config asking for 10^12-wide
    layers is refused here, not by the allocator)."""
    from var_bench.training.config import MAX_MODEL_DIM

    where = f"{Path(folder) / CONFIG_FILE}"
    if not isinstance(saved, dict):
        raise InputError(f"{where}: expected a JSON object, got {type(saved).__name__}")
    if not isinstance(state, dict):
        raise InputError(
            f"{Path(folder) / STATE_FILE}: expected a JSON object, got {type(state).__name__}"
        )
    fmt = saved.get("format")
    if isinstance(fmt, bool) or fmt != CHECKPOINT_FORMAT:
        raise InputError(f"{where}: expected checkpoint format {CHECKPOINT_FORMAT}, got {fmt!r}")
    if not isinstance(saved.get("config"), dict):
        raise InputError(f"{where}: expected a 'config' object, got {saved.get('config')!r}"[:300])
    ctx = saved.get("context")
    if not isinstance(ctx, dict):
        raise InputError(f"{where}: expected a 'context' object, got {ctx!r}"[:300])
    for key in ("benchmark", "query_modality", "text_model"):
        if not isinstance(ctx.get(key), str):
            raise InputError(
                f"{where}: context.{key}: expected a string, got {ctx.get(key)!r}"[:300]
            )
    streams = ctx.get("streams")
    if not isinstance(streams, list) or not streams or not all(isinstance(s, str) for s in streams):
        raise InputError(
            f"{where}: context.streams: expected a list of stream names, got {streams!r}"[:300]
        )
    dims = ctx.get("dims")
    if not isinstance(dims, dict):
        raise InputError(f"{where}: context.dims: expected an object, got {dims!r}"[:300])
    for k, v in dims.items():
        if isinstance(v, bool) or not isinstance(v, int) or not 1 <= v <= MAX_MODEL_DIM:
            raise InputError(
                f"{where}: context.dims.{k}: expected an integer in [1, {MAX_MODEL_DIM}], "
                f"got {v!r}"[:300]
            )
    missing = [s for s in streams if s not in dims]
    if missing:
        raise InputError(
            f"{where}: context.dims: expected a size for stream {missing[0]!r}, got none"
        )


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
