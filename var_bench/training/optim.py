"""The optimiser and its learning-rate schedule.

``lr(epoch, step) = lr * lr_decay^epoch * min(1, (step + 1) / warmup_steps)`` (no warm-up factor
when ``warmup_steps`` is 0), times each parameter group's ``lr_scale``.
"""

from __future__ import annotations

import torch

from var_bench.errors import InputError
from var_bench.models.base import RetrievalModel
from var_bench.training.config import TrainConfig


def lr_at(base_lr: float, epoch: int, step: int, lr_decay: float, warmup_steps: int = 0) -> float:
    """Learning rate of optimiser step ``step`` (0-based, counted over the whole run) in
    ``epoch``: ``base_lr * lr_decay^epoch * min(1, (step + 1) / warmup_steps)``."""
    warm = min(1.0, (step + 1) / warmup_steps) if warmup_steps else 1.0
    return base_lr * (lr_decay**epoch) * warm


def make_optimizer(model: RetrievalModel, tc: TrainConfig) -> torch.optim.Optimizer:
    """Adam or AdamW over the model's ``optimizer_groups()``; each group's ``lr_scale`` is kept
    and applied by :func:`set_lr`."""
    groups = []
    for g in model.optimizer_groups():
        group = dict(g)
        group["params"] = [p for p in group["params"] if p.requires_grad]
        if not group["params"]:
            continue
        group.setdefault("lr_scale", 1.0)
        group.setdefault("weight_decay", tc.weight_decay)
        group["lr"] = tc.lr * group["lr_scale"]
        groups.append(group)
    if not groups:
        raise InputError(f"{model.name}: expected trainable parameters, got none")
    cls = torch.optim.AdamW if tc.optimizer == "adamw" else torch.optim.Adam
    return cls(groups, lr=tc.lr)


def set_lr(optimizer: torch.optim.Optimizer, tc: TrainConfig, epoch: int, step: int) -> float:
    """Set every group's lr for step ``step`` of ``epoch``; returns the unscaled lr."""
    lr = lr_at(tc.lr, epoch, step, tc.lr_decay, tc.warmup_steps)
    for group in optimizer.param_groups:
        group["lr"] = lr * group.get("lr_scale", 1.0)
    return lr
