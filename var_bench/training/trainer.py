"""The shared trainer: ``train(model_name, benchmark, ...)`` -> :class:`TrainResult`.

One epoch = one pass over the train split (batches from ``var_bench.loaders``, collated with
the model's ``loader_options()``), Adam/AdamW with lr_e = lr * lr_decay^e (and an optional linear
warm-up over the first steps), gradient clipping, mixed precision on CUDA, DDP under torchrun.
After each epoch (``eval_every``) the val split is encoded and scored with the project's metrics;
the best val SumR is kept in ``<out>/best/`` (test is never looked at) and ``<out>/last/`` is
written every epoch for resuming. Every epoch reseeds from (seed, epoch), so a resumed run ends
with the same weights as an uninterrupted one (on CPU; CUDA kernels may be nondeterministic).

Output folder: ``config.yaml`` (resolved config), ``log.jsonl`` (one JSON object per
``log_every`` steps and per epoch), ``tensorboard/`` (when TensorBoard is installed),
``best/`` and ``last/`` checkpoints (see :mod:`.checkpoint`).
"""

from __future__ import annotations

import json
import logging
import math
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

from var_bench.benchmarks import BenchmarkSpec, get_benchmark
from var_bench.errors import DataError, InputError
from var_bench.features.layouts import video_streams
from var_bench.fsutil import atomic_write_text
from var_bench.scoring.metrics import SUMR
from var_bench.training import checkpoint as ckpt
from var_bench.models.base import ModelContext, RetrievalModel
from var_bench.training.config import RunConfig, TrainConfig, from_dict, load_config
from var_bench.training.evaluate import encode_split, score_matrix, similarity_matrix
from var_bench.models.registry import get_model
from var_bench.training.runtime import (
    Dist, amp_dtype, autocast, epoch_seed, init_distributed, move_batch, resolve_device,
    seed_everything,
)

log = logging.getLogger(__name__)

#: Config sections that must match to resume from ``<out>/last`` (train settings may change).
RESUME_KEYS: tuple[str, ...] = ("model", "model_args", "data", "text_model")


@dataclass
class TrainResult:
    """What a training run produced. ``best_val_sumr``: SumR (both directions) on val of the
    best checkpoint; ``history``: the per-epoch log entries."""

    out: Path
    best_checkpoint: Path | None
    best_val_sumr: float | None
    best_epoch: int | None
    epochs_run: int
    history: list[dict[str, Any]] = field(default_factory=list)


# ---------------------------------------------------------------- data


def open_split(spec: BenchmarkSpec, split: str, home, crop: str) -> Dataset:
    """The feature-store dataset of one split (raises NotBuiltError with the build hint)."""
    from var_bench.loaders import FeatureDataset

    return FeatureDataset.from_benchmark(spec.name, split, home=home, crop=crop)


def infer_context(spec: BenchmarkSpec, dataset: Dataset, text_model: str,
                  device: torch.device) -> ModelContext:
    """Streams and feature sizes from the first item of ``dataset``."""
    if len(dataset) == 0:
        raise InputError(f"{spec.name}: expected a non-empty train split, got 0 videos")
    item = dataset[0]
    # The stream vocabulary is open (rgb, flow, clip, text_emb, ...): the dataset says which it has.
    present = tuple(getattr(dataset, "streams", None) or
                    (s for s in item if isinstance(item[s], np.ndarray) and np.ndim(item[s]) == 2
                     and s != "snippet_labels"))
    streams = video_streams(present)
    dims = {s: int(np.shape(item[s])[-1]) for s in present if s in item}
    if not streams:
        raise InputError(f"{spec.name}: expected video features (rgb, flow) in the dataset, got "
                         f"keys {', '.join(sorted(item))}")
    if spec.query_modality == "audio" and "audio" not in item:
        raise InputError(f"{spec.name}: expected audio features for the audio queries, got none "
                         f"(build the feature store with --audio DIR)")
    return ModelContext(benchmark=spec, query_modality=spec.query_modality, streams=streams,
                        dims=dims, text_model=text_model, device=device)


def collate_streams(model: RetrievalModel, ctx_streams: Sequence[str], query_modality: str) -> tuple[str, ...]:
    """Streams to batch: the model's video streams plus the audio query on XDViolence-AR."""
    wanted = tuple(model.streams)
    if query_modality == "audio" and "audio" not in wanted:
        wanted += ("audio",)
    available = tuple(ctx_streams) + (("audio",) if query_modality == "audio" else ())
    missing = [s for s in wanted if s not in available]
    if missing:
        raise InputError(f"{model.name}: expected streams {', '.join(wanted)} in the feature store, "
                         f"got {', '.join(available)} (missing {', '.join(missing)})")
    return wanted


def _make_collate(**kw):
    from var_bench.loaders import make_collate

    return make_collate(**kw)


def _worker_init(worker_id: int) -> None:
    # DataLoader seeds torch per worker; derive Python's and NumPy's from it.
    seed_everything(torch.initial_seed() % (2**32))


def build_train_loader(model: RetrievalModel, dataset: Dataset, streams: Sequence[str],
                       tc: TrainConfig, seed: int, dist: Dist, epoch: int) -> DataLoader:
    """Shuffled batches of ``tc.batch_size`` per process; the last incomplete batch is dropped
    when there is more than one batch (a batch of one has no negatives)."""
    opts = {k: v for k, v in model.loader_options().items() if k != "streams"}
    collate = _make_collate(streams=tuple(streams), seed=seed, **opts)
    generator = torch.Generator().manual_seed(seed)
    per_process = math.ceil(len(dataset) / dist.world_size)
    drop_last = per_process > tc.batch_size
    sampler = None
    if dist.enabled:
        from torch.utils.data.distributed import DistributedSampler

        sampler = DistributedSampler(dataset, num_replicas=dist.world_size, rank=dist.rank,
                                     shuffle=True, seed=tc.seed, drop_last=True)
        sampler.set_epoch(epoch)
    return DataLoader(dataset, batch_size=tc.batch_size, shuffle=sampler is None, sampler=sampler,
                      collate_fn=collate, num_workers=tc.num_workers, generator=generator,
                      drop_last=drop_last, worker_init_fn=_worker_init if tc.num_workers else None,
                      persistent_workers=False, pin_memory=False)


def build_eval_loader(model: RetrievalModel, dataset: Dataset, context: Mapping[str, Any],
                      config: Mapping[str, Any], batch_size: int | None = None) -> DataLoader:
    """Batches in split order with the model's deterministic ``eval_loader_options()``."""
    streams = collate_streams(model, context["streams"], context["query_modality"])
    opts = {k: v for k, v in model.eval_loader_options().items() if k != "streams"}
    collate = _make_collate(streams=streams, seed=0, **opts)
    train = config["train"]
    return DataLoader(dataset, batch_size=batch_size or train["eval_batch_size"], shuffle=False,
                      collate_fn=collate, num_workers=train["num_workers"])


# ---------------------------------------------------------------- model / optimiser


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


def lr_at(base_lr: float, epoch: int, step: int, lr_decay: float, warmup_steps: int = 0) -> float:
    """Learning rate of optimiser step ``step`` (0-based, counted over the whole run) in
    ``epoch``: ``base_lr * lr_decay^epoch * min(1, (step + 1) / warmup_steps)``."""
    warm = min(1.0, (step + 1) / warmup_steps) if warmup_steps else 1.0
    return base_lr * (lr_decay ** epoch) * warm


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
    lr = lr_at(tc.lr, epoch, step, tc.lr_decay, tc.warmup_steps)
    for group in optimizer.param_groups:
        group["lr"] = lr * group.get("lr_scale", 1.0)
    return lr


# ---------------------------------------------------------------- logging


class RunLog:
    """``log.jsonl`` (appended, one object per line) plus TensorBoard scalars when installed."""

    def __init__(self, out: Path, enabled: bool) -> None:
        self.enabled = enabled
        self.path = out / "log.jsonl"
        self.tb = None
        if enabled:
            try:
                from torch.utils.tensorboard import SummaryWriter
            except ImportError:  # TensorBoard is optional
                SummaryWriter = None
            if SummaryWriter is not None:
                self.tb = SummaryWriter(str(out / "tensorboard"))

    def write(self, entry: dict[str, Any], step: int) -> None:
        if not self.enabled:
            return
        with open(self.path, "a", encoding="utf-8") as f:
            f.write(json.dumps(entry) + "\n")
        if self.tb is not None:
            for key, value in _flatten(entry).items():
                if isinstance(value, (int, float)) and key not in ("epoch", "step"):
                    self.tb.add_scalar(f"{entry['kind']}/{key}", value, step)

    def close(self) -> None:
        if self.tb is not None:
            self.tb.close()


def _flatten(d: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in d.items():
        if isinstance(v, Mapping):
            out.update(_flatten(v, f"{prefix}{k}/"))
        else:
            out[f"{prefix}{k}"] = v
    return out


# ---------------------------------------------------------------- checkpoints


def _fresh_state(seed: int) -> dict[str, Any]:
    return {"epoch": 0, "step": 0, "seed": seed, "best_sumr": None, "best_epoch": None,
            "evals_since_best": 0, "history": []}


def _check_resumable(saved: Mapping[str, Any], cfg: RunConfig, folder: Path) -> None:
    current = cfg.to_dict()
    for key in RESUME_KEYS:
        if saved["config"].get(key) != current.get(key):
            raise InputError(f"resume: expected {folder} to hold a run with the same {key}, got "
                             f"{saved['config'].get(key)!r} there and {current.get(key)!r} now; "
                             f"use another --out or --no-resume")


def load_trained_model(checkpoint_dir: str | Path, spec: BenchmarkSpec | None = None, *,
                       device=None) -> tuple[RetrievalModel, dict, dict, torch.device]:
    """Rebuild a model from a checkpoint folder (registry + ``config.json``) and load its
    weights. Returns (model in eval mode, config.json, state.json, device)."""
    folder = Path(checkpoint_dir)
    if not ckpt.is_checkpoint(folder):
        raise InputError(f"{folder}: expected a checkpoint folder ({ckpt.MODEL_FILE}, "
                         f"{ckpt.CONFIG_FILE}, {ckpt.STATE_FILE}), got "
                         f"{'an incomplete one' if folder.is_dir() else 'no such folder'}")
    saved = ckpt.read_json(folder / ckpt.CONFIG_FILE)
    state = ckpt.read_json(folder / ckpt.STATE_FILE)
    ctx_json = saved["context"]
    trained_on = get_benchmark(ctx_json["benchmark"])
    if spec is not None and spec.name != trained_on.name:
        raise InputError(f"{folder}: expected a checkpoint trained on {spec.name}, got one trained "
                         f"on {trained_on.name}")
    dev = resolve_device(device)
    cfg = from_dict(saved["config"])
    ctx = ModelContext(benchmark=trained_on, query_modality=ctx_json["query_modality"],
                       streams=tuple(ctx_json["streams"]), dims=dict(ctx_json["dims"]),
                       text_model=ctx_json["text_model"], device=dev)
    model = build_model(cfg, ctx)
    ckpt.load_model_weights(model, folder)
    return model.to(dev).eval(), saved, state, dev


# ---------------------------------------------------------------- the loop


def _loss_parts(outputs: Mapping[str, Any]) -> dict[str, torch.Tensor]:
    return {k: v.detach().float() for k, v in outputs.items()
            if isinstance(v, torch.Tensor) and v.dim() == 0}


def _validate(model: RetrievalModel, loader: DataLoader, spec: BenchmarkSpec, dev: torch.device,
              amp: torch.dtype | None) -> tuple[dict, float, float]:
    t0 = time.perf_counter()
    queries, gallery, _ = encode_split(model, loader, dev, amp)
    S = similarity_matrix(model, queries, gallery, amp=amp, device=dev)
    metrics, sumr = score_matrix(spec, S)
    return metrics, sumr, time.perf_counter() - t0


def _broadcast(value: Any, dist: Dist) -> Any:
    if not dist.enabled:
        return value
    import torch.distributed as tdist

    box = [value]
    tdist.broadcast_object_list(box, src=0)
    return box[0]


def train(model_name: str, benchmark: str | BenchmarkSpec, *, config: str | Path | None = None,
          out: str | Path | None = None, home=None, resume: bool = True, device=None,
          overrides: Sequence[str] = (), data: Mapping[str, Dataset] | None = None,
          progress: bool | None = None) -> TrainResult:
    """Train ``model_name`` on ``benchmark``'s train split, selecting on val (see module doc).

    ``config``: a YAML file or config name (default: the benchmark's named config);
    ``overrides``: ``a.b=c`` strings; ``out``: run folder (default ``runs/<model>-<benchmark>``);
    ``resume``: continue from ``<out>/last`` when present (same model settings required);
    ``data``: ``{"train": ds, "val": ds}`` datasets instead of the feature store (tests, custom
    data); ``progress``: tqdm bar (None: only on a terminal).
    """
    from tqdm.auto import tqdm

    spec = get_benchmark(benchmark)
    cfg = load_config(config, model=model_name, benchmark=spec.name, overrides=overrides)
    get_model(cfg.model)  # unknown names fail before any data is opened
    tc = cfg.train
    out = Path(out) if out is not None else Path("runs") / f"{cfg.model}-{spec.name}"
    dev = resolve_device(device, int(os.environ.get("LOCAL_RANK", "0")))
    dist = init_distributed(dev)
    if data is None:
        data = {"train": open_split(spec, "train", home, cfg.data.crop),
                "val": open_split(spec, "val", home, cfg.data.eval_crop)}
    missing = [s for s in ("train", "val") if s not in data]
    if missing:
        raise InputError(f"data: expected train and val datasets, got no {missing[0]}")
    ctx = infer_context(spec, data["train"], cfg.text_model, dev)
    amp = amp_dtype(tc.amp, dev)

    seed_everything(tc.seed)
    model = build_model(cfg, ctx).to(dev)
    if not getattr(model, "needs_training", True):
        return _untrained(model, cfg, ctx, out, dist)
    streams = collate_streams(model, ctx.streams, ctx.query_modality)
    optimizer = make_optimizer(model, tc)
    scaler = torch.amp.GradScaler("cuda") if amp == torch.float16 else None
    config_dict, context_dict = cfg.to_dict(), ctx.to_json()

    state = _fresh_state(tc.seed)
    last = out / "last"
    if resume and ckpt.is_checkpoint(last):
        saved = ckpt.read_json(last / ckpt.CONFIG_FILE)
        _check_resumable(saved, cfg, last)
        ckpt.load_model_weights(model, last, device=dev)
        state = ckpt.read_json(last / ckpt.STATE_FILE)
        ckpt.load_optimizer(optimizer, last, state)
        if scaler is not None and state.get("scaler"):
            scaler.load_state_dict(state["scaler"])
        state.pop("optimizer", None)
        log.info("resuming %s from %s after epoch %d", cfg.model, last, state["epoch"])

    runlog = RunLog(out, dist.is_main)
    if dist.is_main:
        out.mkdir(parents=True, exist_ok=True)
        atomic_write_text(out / "config.yaml", cfg.to_yaml())
    val_loader = build_eval_loader(model, data["val"], context_dict, config_dict)
    wrapped: torch.nn.Module = model
    if dist.enabled:
        from torch.nn.parallel import DistributedDataParallel as DDP

        wrapped = DDP(model, device_ids=[dev.index] if dev.type == "cuda" else None,
                      find_unused_parameters=tc.find_unused_parameters)

    params = [p for g in optimizer.param_groups for p in g["params"]]
    stop = False
    try:
        for epoch in range(state["epoch"], tc.epochs):
            t_epoch = time.perf_counter()
            seed = epoch_seed(tc.seed, epoch)
            seed_everything(seed)
            loader = build_train_loader(model, data["train"], streams, tc, seed, dist, epoch)
            model.train()
            sums: dict[str, torch.Tensor] = {}
            window: dict[str, torch.Tensor] = {}
            n_steps = n_window = 0
            total = len(loader) if tc.max_steps_per_epoch is None else min(len(loader), tc.max_steps_per_epoch)
            bar = tqdm(loader, total=total, desc=f"epoch {epoch + 1}/{tc.epochs}", leave=False,
                       disable=_bar_disabled(progress, dist))
            for batch in bar:
                if tc.max_steps_per_epoch is not None and n_steps >= tc.max_steps_per_epoch:
                    break
                lr = set_lr(optimizer, tc, epoch, state["step"])
                batch = move_batch(batch, dev)
                with autocast(amp, dev):
                    outputs = wrapped(batch)
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
                state["step"] += 1
                n_steps += 1
                n_window += 1
                for k, v in _loss_parts(outputs).items():
                    sums[k] = sums.get(k, 0.0) + v
                    window[k] = window.get(k, 0.0) + v
                if state["step"] % tc.log_every == 0:
                    parts = {k: float(v) / n_window for k, v in window.items()}
                    if not math.isfinite(parts["loss"]):
                        raise DataError(f"training diverged: expected a finite loss, got "
                                        f"{parts['loss']} at epoch {epoch + 1}, step {state['step']}")
                    runlog.write({"kind": "step", "epoch": epoch + 1, "step": state["step"],
                                  **parts, "lr": lr}, state["step"])
                    bar.set_postfix(loss=f"{parts['loss']:.4f}")
                    window, n_window = {}, 0
            bar.close()
            if n_steps == 0:
                raise InputError(f"train: expected at least one batch per epoch, got none "
                                 f"({len(data['train'])} videos, batch_size {tc.batch_size})")
            train_parts = {k: float(v) / n_steps for k, v in sums.items()}
            if not math.isfinite(train_parts["loss"]):
                raise DataError(f"training diverged: expected a finite loss, got "
                                f"{train_parts['loss']} in epoch {epoch + 1}")
            done = epoch + 1
            entry: dict[str, Any] = {"kind": "epoch", "epoch": done, "step": state["step"],
                                     "train": train_parts, "lr": lr_at(tc.lr, epoch, state["step"] - 1,
                                                                       tc.lr_decay, tc.warmup_steps)}
            if dist.is_main and (done % tc.eval_every == 0 or done == tc.epochs):
                metrics, sumr, secs = _validate(model, val_loader, spec, dev, amp)
                improved = state["best_sumr"] is None or sumr > state["best_sumr"]
                entry.update({"val": metrics, f"val_{SUMR}": sumr, "val_seconds": secs,
                              "best": improved})
                if improved:
                    state["best_sumr"], state["best_epoch"] = sumr, done
                    state["evals_since_best"] = 0
                else:
                    state["evals_since_best"] += 1
                if improved:
                    ckpt.save_checkpoint(out / "best", model, config=config_dict, context=context_dict,
                                         state={**_public(state), "epoch": done,
                                                "selection": f"val split (best val SumR, epoch {done})",
                                                "val": metrics})
                stop = tc.patience is not None and state["evals_since_best"] >= tc.patience
            stop = bool(_broadcast(stop, dist))
            entry["seconds"] = time.perf_counter() - t_epoch
            state["epoch"] = done
            state["history"].append(entry)
            if dist.is_main:
                last_state = {**state, "selection": f"last epoch ({done})"}
                if scaler is not None:
                    last_state["scaler"] = scaler.state_dict()
                ckpt.save_checkpoint(last, model, config=config_dict, context=context_dict,
                                     state=last_state, optimizer=optimizer)
                runlog.write(entry, state["step"])
                log.info("epoch %d: %s", done, json.dumps({k: v for k, v in entry.items() if k != "val"}))
            if dist.enabled:
                import torch.distributed as tdist

                tdist.barrier()
            if stop:
                log.info("early stop: no better val SumR in %d validations", tc.patience)
                break
    finally:
        runlog.close()
    best = out / "best"
    return TrainResult(out=out, best_checkpoint=best if ckpt.is_checkpoint(best) else None,
                       best_val_sumr=state["best_sumr"], best_epoch=state["best_epoch"],
                       epochs_run=state["epoch"], history=list(state["history"]))


def _untrained(model: RetrievalModel, cfg, ctx, out: Path, dist) -> TrainResult:
    """A model with nothing to learn (``needs_training = False``, e.g. ``random``): write its
    checkpoint as ``best`` and ``last`` at once, so ``evaluate`` treats it like any other."""
    state = {**_fresh_state(cfg.train.seed), "selection": "no training (nothing to learn)"}
    if dist.is_main:
        out.mkdir(parents=True, exist_ok=True)
        atomic_write_text(out / "config.yaml", cfg.to_yaml())
        for name in ("best", "last"):
            ckpt.save_checkpoint(out / name, model, config=cfg.to_dict(), context=ctx.to_json(),
                                 state=state)
    return TrainResult(out=out, best_checkpoint=out / "best", best_val_sumr=None, best_epoch=None,
                       epochs_run=0, history=[])


def _bar_disabled(progress: bool | None, dist: Dist) -> bool | None:
    """tqdm's ``disable``: off on other ranks or when asked; None = only on a terminal."""
    if not dist.is_main or progress is False:
        return True
    return None if progress is None else False


def _public(state: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in state.items() if k not in ("optimizer", "scaler")}
