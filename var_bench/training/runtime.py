"""Where and how training runs: device choice, torchrun / DistributedDataParallel setup, mixed
precision and seeding."""

from __future__ import annotations

import contextlib
import logging
import os
import random
from dataclasses import dataclass

import numpy as np
import torch

from var_bench.errors import InputError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Dist:
    """This process's place in a (possibly single-process) run."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def enabled(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def resolve_device(device: str | torch.device | None, local_rank: int = 0) -> torch.device:
    """``device`` as given, else ``cuda:<local_rank>`` when CUDA is available, else CPU."""
    if device is None or str(device) == "auto":
        return (
            torch.device(f"cuda:{local_rank}") if torch.cuda.is_available() else torch.device("cpu")
        )
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError):
        raise InputError(f"device: expected cpu, cuda, cuda:N or auto, got {device!r}") from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise InputError(f"device: expected an available device, got {device!r} (no CUDA here)")
    if dev.type == "cuda" and dev.index is None:
        dev = torch.device(f"cuda:{local_rank}")
    return dev


def init_distributed(device: torch.device) -> Dist:
    """Join the process group when launched by torchrun (``WORLD_SIZE`` > 1): NCCL on CUDA, gloo
    on CPU. A single process returns ``Dist()`` and initialises nothing."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return Dist()
    import torch.distributed as dist

    rank = int(os.environ.get("RANK", "0"))
    local = int(os.environ.get("LOCAL_RANK", "0"))
    if not dist.is_initialized():
        backend = "nccl" if device.type == "cuda" else "gloo"
        if device.type == "cuda":
            torch.cuda.set_device(device)
        dist.init_process_group(backend=backend)
    return Dist(rank=rank, world_size=world, local_rank=local)


def amp_dtype(mode: str, device: torch.device) -> torch.dtype | None:
    """Autocast dtype for ``train.amp``: None (full precision) on CPU or with ``off``;
    ``auto``: bfloat16 where the GPU supports it, else float16."""
    if mode == "off" or device.type != "cuda":
        return None
    if mode == "fp16":
        return torch.float16
    if mode == "bf16" or torch.cuda.is_bf16_supported():
        return torch.bfloat16
    return torch.float16


def autocast(dtype: torch.dtype | None, device: torch.device):
    """``torch.autocast`` for ``dtype``, or a no-op context when it is None."""
    if dtype is None:
        return contextlib.nullcontext()
    return torch.autocast(device_type=device.type, dtype=dtype)


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and torch (all devices)."""
    random.seed(seed)
    np.random.seed(seed % (2**32))
    torch.manual_seed(seed)


def epoch_seed(seed: int, epoch: int) -> int:
    """The seed of one epoch: every epoch reseeds from (seed, epoch), so a resumed run draws the
    same batches, snippets and dropout masks as an uninterrupted one."""
    return int(np.random.SeedSequence([int(seed), int(epoch)]).generate_state(1)[0])


def move_batch(batch: dict, device: torch.device) -> dict:
    """Tensors of ``batch`` moved to ``device`` (non-blocking); other values unchanged."""
    if device.type == "cpu":
        return batch
    return {
        k: v.to(device, non_blocking=True) if isinstance(v, torch.Tensor) else v
        for k, v in batch.items()
    }
