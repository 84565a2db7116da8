"""The epoch loop: optimiser steps with the lr schedule, mixed precision (autocast, plus a
GradScaler for float16), gradient clipping, loss windows for the step log; and the run state it
advances, saved in every checkpoint's ``state.json`` and resumed from it as a whole."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import torch

from var_bench.errors import DataError, InputError
from var_bench.training.config import TrainConfig
from var_bench.training.optim import set_lr
from var_bench.training.runlog import RunLog
from var_bench.training.runtime import autocast, move_batch

#: ``state.json`` keys that are not part of :class:`RunState` (written beside it).
EXTRA_STATE_KEYS: tuple[str, ...] = ("optimizer", "scaler", "selection", "val")


@dataclass
class RunState:
    """Where a run stands: epochs done, optimiser steps done (over the whole run), the seed, the
    best val main score (the task's: SumR for retrieval) so far and its epoch, validations since
    that best (for ``patience``), the per-epoch log entries, and ``epoch_step``: the steps of
    epoch ``epoch + 1`` already done (a mid-epoch checkpoint; 0 at an epoch's end)."""

    epoch: int = 0
    step: int = 0
    epoch_step: int = 0
    seed: int = 0
    best_score: float | None = None
    best_epoch: int | None = None
    evals_since_best: int = 0
    history: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def fields_of(cls, saved: Mapping[str, Any]) -> dict[str, Any]:
        """The RunState fields of a ``state.json`` object (its optimiser, scaler and selection
        keys left out; ``best_sumr`` of checkpoints written before task types is
        ``best_score``)."""
        names = {f.name for f in dataclasses.fields(cls)}
        saved = dict(saved)
        if "best_sumr" in saved:
            saved.setdefault("best_score", saved.pop("best_sumr"))
        return {k: v for k, v in saved.items() if k in names}

    @classmethod
    def from_json(cls, saved: Mapping[str, Any]) -> RunState:
        """The state of a ``state.json`` (see :meth:`fields_of`)."""
        return cls(**cls.fields_of(saved))

    def record_validation(self, score: float, epoch: int, higher_is_better: bool = True) -> bool:
        """Count one validation with main score ``score`` after ``epoch``; True when it is a new
        best."""
        improved = self.best_score is None or (
            score > self.best_score if higher_is_better else score < self.best_score
        )
        if improved:
            self.best_score, self.best_epoch, self.evals_since_best = score, epoch, 0
        else:
            self.evals_since_best += 1
        return improved


def make_scaler(amp: torch.dtype | None) -> torch.amp.GradScaler | None:
    """A GradScaler for float16 autocast (bfloat16 and full precision need none)."""
    return torch.amp.GradScaler("cuda") if amp == torch.float16 else None


def _loss_parts(outputs: Mapping[str, Any]) -> dict[str, torch.Tensor]:
    return {
        k: v.detach().float()
        for k, v in outputs.items()
        if isinstance(v, torch.Tensor) and v.dim() == 0
    }


def _finite(loss: float, where: str) -> None:
    if not math.isfinite(loss):
        raise DataError(f"training diverged: expected a finite loss, got {loss} {where}")


def run_epoch(
    model: torch.nn.Module,
    batches: Iterable[dict],
    optimizer: torch.optim.Optimizer,
    scaler: torch.amp.GradScaler | None,
    tc: TrainConfig,
    state: RunState,
    epoch: int,
    *,
    device: torch.device,
    amp: torch.dtype | None,
    runlog: RunLog,
    bar: Any = None,
    n_items: int | None = None,
    on_checkpoint: Callable[[], None] | None = None,
) -> dict[str, float]:
    """One epoch of optimiser steps over ``batches`` (at most ``tc.max_steps_per_epoch`` in the
    epoch, ``state.epoch_step`` of them done before: ``batches`` holds the rest); advances
    ``state.step`` and ``state.epoch_step``, writes a step entry every ``tc.log_every`` steps,
    calls ``on_checkpoint`` every ``tc.checkpoint_every`` steps of the epoch, and returns the mean
    loss parts of the steps run here. ``model`` may be the DDP wrapper; ``bar``: a tqdm bar for the
    loss; ``n_items``: the train split's size, for the error when no batch came."""
    params = [p for g in optimizer.param_groups for p in g["params"]]
    sums: dict[str, torch.Tensor] = {}
    window: dict[str, torch.Tensor] = {}
    n_steps = n_window = 0
    done = state.epoch_step
    for batch in batches:
        if tc.max_steps_per_epoch is not None and done + n_steps >= tc.max_steps_per_epoch:
            break
        lr = set_lr(optimizer, tc, epoch, state.step)
        batch = move_batch(batch, device)
        with autocast(amp, device):
            outputs = model(batch)
        loss = outputs["loss"]
        optimizer.zero_grad(set_to_none=True)
        if scaler is not None:
            scaler.scale(loss).backward()
            scaler.unscale_(optimizer)
        else:
            loss.backward()
        if tc.grad_clip is not None:
            torch.nn.utils.clip_grad_norm_(params, tc.grad_clip)
        if scaler is not None:
            scaler.step(optimizer)
            scaler.update()
        else:
            optimizer.step()
        state.step += 1
        state.epoch_step += 1
        n_steps += 1
        n_window += 1
        for k, v in _loss_parts(outputs).items():
            sums[k] = sums.get(k, 0.0) + v
            window[k] = window.get(k, 0.0) + v
        if state.step % tc.log_every == 0:
            parts = {k: float(v) / n_window for k, v in window.items()}
            _finite(parts["loss"], f"at epoch {epoch + 1}, step {state.step}")
            runlog.write(
                {"kind": "step", "epoch": epoch + 1, "step": state.step, **parts, "lr": lr},
                state.step,
            )
            if bar is not None:
                bar.set_postfix(loss=f"{parts['loss']:.4f}")
            window, n_window = {}, 0
        if on_checkpoint is not None and state.epoch_step % tc.checkpoint_every == 0:
            on_checkpoint()
    if n_steps == 0 and done == 0:
        raise InputError(
            f"train: expected at least one batch per epoch, got none "
            f"({n_items if n_items is not None else '?'} videos, "
            f"batch_size {tc.batch_size})"
        )
    means = {k: float(v) / max(n_steps, 1) for k, v in sums.items()}
    if n_steps == 0:  # resumed at the epoch's last step: nothing left to run
        return means
    _finite(means["loss"], f"in epoch {epoch + 1}")
    return means
