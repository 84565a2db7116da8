"""The shared trainer: ``train(model_name, benchmark, ...)`` -> :class:`TrainResult`.

One epoch = one pass over the train split, or ``train.samples_per_epoch`` samples (batches from
:mod:`.loaders`, collated with the model's ``loader_options()``), Adam/AdamW with
lr_e = lr * lr_decay^e (and an optional linear warm-up over the first steps, :mod:`.optim`),
gradient clipping, mixed precision on CUDA, DDP under torchrun (:mod:`.loop`). After each epoch
(``eval_every``) the val split is encoded and scored with the project's metrics (:mod:`.encode`);
the best val main score (the task's; SumR for retrieval) is kept in ``<out>/best/`` (test is never
looked at) and ``<out>/last/`` is written after every epoch and every ``train.checkpoint_every``
steps within one, for resuming (an interrupted run says so: rerun the same command to resume).
``train.checkpoint: last`` hands on the last epoch instead; ``train.refit_on_train_val`` trains on
train + val with no validation and hands on the last. Every epoch reseeds from (seed, epoch), so a
run resumed at an epoch's end ends with the same weights as an uninterrupted one (on CPU; CUDA
kernels may be nondeterministic); one resumed mid-epoch skips the batches already stepped on (same
batches, but dropout and other random draws of the rest of that epoch differ).

Output folder: ``config.yaml`` (resolved config), ``log.jsonl`` (:mod:`.runlog`),
``tensorboard/`` (when TensorBoard is installed), ``best/`` and ``last/`` checkpoints (see
:mod:`.checkpoint`).
"""

from __future__ import annotations

import itertools
import logging
import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch.utils.data import ConcatDataset, DataLoader, Dataset

from var_bench.benchmarks import BenchmarkSpec, get_benchmark
from var_bench.errors import InputError, Interrupted
from var_bench.fsutil import atomic_write_text
from var_bench.models.base import ModelContext, RetrievalModel
from var_bench.models.registry import get_model
from var_bench.scoring.score import score_matrix
from var_bench.tasks import Task
from var_bench.training import checkpoint as ckpt
from var_bench.training import loaders
from var_bench.training.config import RunConfig, load_config
from var_bench.training.encode import encode_split, pair_rows, select_rows, similarity_matrix
from var_bench.training.loaders import (
    build_eval_loader,
    build_train_loader,
    collate_streams,
    infer_context,
)
from var_bench.training.loop import RunState, make_scaler, run_epoch
from var_bench.training.optim import lr_at, make_optimizer
from var_bench.training.rebuild import build_model
from var_bench.training.runlog import RunLog
from var_bench.training.runtime import (
    Dist,
    amp_dtype,
    epoch_seed,
    init_distributed,
    resolve_device,
    seed_everything,
)

log = logging.getLogger(__name__)

#: Config sections that must match to resume from ``<out>/last`` (train settings may change).
RESUME_KEYS: tuple[str, ...] = ("model", "model_args", "data", "text_model")


@dataclass
class TrainResult:
    """What a training run produced. ``best_val_score``: the task's main score (``main_score``,
    SumR for retrieval) on val of the best checkpoint; ``history``: the per-epoch log entries;
    ``checkpoint``: the folder the run hands on (``best/`` for ``train.checkpoint: best-val``,
    ``last/`` otherwise)."""

    out: Path
    best_checkpoint: Path | None
    best_val_score: float | None
    best_epoch: int | None
    epochs_run: int
    history: list[dict[str, Any]] = field(default_factory=list)
    checkpoint: Path | None = None
    main_score: str = "SumR"


@dataclass
class _Run:
    """Everything one training run holds besides its :class:`RunState`."""

    spec: BenchmarkSpec
    cfg: RunConfig
    ctx: ModelContext
    model: RetrievalModel
    wrapped: torch.nn.Module
    optimizer: torch.optim.Optimizer
    scaler: torch.amp.GradScaler | None
    train_data: Dataset
    val_loader: DataLoader | None
    streams: tuple[str, ...]
    out: Path
    device: torch.device
    dist: Dist
    amp: torch.dtype | None
    runlog: RunLog
    progress: bool | None

    @property
    def config_json(self) -> dict[str, Any]:
        return self.cfg.to_dict()

    @property
    def task(self) -> Task:
        """The benchmark task checkpoints are selected on (its main score on val)."""
        return self.spec.task()


def train(
    model_name: str,
    benchmark: str | BenchmarkSpec,
    *,
    config: str | Path | None = None,
    out: str | Path | None = None,
    home=None,
    resume: bool = True,
    device=None,
    overrides: Sequence[str] = (),
    data: Mapping[str, Dataset] | None = None,
    progress: bool | None = None,
) -> TrainResult:
    """Train a registered model on a benchmark's train split, choosing the checkpoint on val by
    the task's main score (see the module docstring).

    Args:
        model_name: a registered model (``var-bench models``).
        benchmark: the benchmark (its default task selects checkpoints).
        config: a YAML file or config name (``tiny``, a benchmark name; default: the benchmark's
            named config).
        out: the run folder (default ``runs/<model>-<benchmark>``).
        home, device: where the feature store is; the torch device (default: CUDA if present).
        resume: continue from ``<out>/last`` when present (same model settings required).
        overrides: ``a.b=c`` strings applied to the config last.
        data: ``{"train": ds, "val": ds}`` datasets instead of the feature store (tests, custom
            data; pair rows with ``query_id`` for a table gold).
        progress: a bar (None: only on a terminal).

    Returns:
        The :class:`TrainResult`: the best checkpoint, its val main score and epoch, the history.

    Raises:
        InputError: an unknown model or config, bad overrides. NotBuiltError: no feature store.

    Example:
        >>> res = train("alan", "ucfcrime-ar", config="tiny")  # doctest: +SKIP
        >>> res.main_score, res.best_checkpoint  # doctest: +SKIP
        ('SumR', PosixPath('runs/alan-ucfcrime-ar/best'))
    """
    spec = get_benchmark(benchmark)
    cfg = load_config(config, model=model_name, benchmark=spec.name, overrides=overrides)
    get_model(cfg.model)  # unknown names fail before any data is opened
    out = Path(out) if out is not None else Path("runs") / f"{cfg.model}-{spec.name}"
    dev = resolve_device(device, int(os.environ.get("LOCAL_RANK", "0")))
    dist = init_distributed(dev)
    train_data, val_data = _open_data(spec, cfg, home, data)
    ctx = infer_context(spec, train_data, cfg.text_model, dev)
    seed_everything(cfg.train.seed)
    model = build_model(cfg, ctx).to(dev)
    if not model.needs_training:
        return _untrained(model, cfg, ctx, out, dist, spec.task().main_score)
    optimizer = make_optimizer(model, cfg.train)
    amp = amp_dtype(cfg.train.amp, dev)
    scaler = make_scaler(amp)
    state = _resume(out / "last", cfg, model, optimizer, scaler, dev) if resume else None
    _write_run_config(out, cfg, dist)
    run = _Run(
        spec=spec,
        cfg=cfg,
        ctx=ctx,
        model=model,
        wrapped=_wrap(model, cfg, dev, dist),
        optimizer=optimizer,
        scaler=scaler,
        train_data=train_data,
        val_loader=None if val_data is None else build_eval_loader(model, val_data, ctx, cfg),
        streams=collate_streams(model, ctx.streams, ctx.query_modality),
        out=out,
        device=dev,
        dist=dist,
        amp=amp,
        runlog=RunLog(out, dist.is_main, cfg.train.epochs),
        progress=progress,
    )
    state = state or RunState(seed=cfg.train.seed)
    tc = cfg.train
    log.info(
        "training %s on %s: %d epochs (%d train videos, batches of %d), a line per epoch; "
        "checkpoints in %s (last/ every %d steps and after each epoch: rerun to resume)",
        cfg.model,
        spec.name,
        tc.epochs,
        len(train_data),
        tc.batch_size,
        out,
        tc.checkpoint_every,
    )
    state = _fit(run, state)
    return _result(out, cfg, state, spec.task().main_score)


# ---------------------------------------------------------------- the steps of train()


def _open_data(
    spec: BenchmarkSpec, cfg: RunConfig, home, data: Mapping[str, Dataset] | None
) -> tuple[Dataset, Dataset | None]:
    """(train data, val data or None): the feature store's splits or the given datasets; with
    ``refit_on_train_val`` train + val is the train data and there is no val."""
    if data is None:
        data = {
            "train": loaders.open_split(spec, "train", home, cfg.data.crop),
            "val": loaders.open_split(
                spec,
                "val",
                home,
                cfg.data.crop if cfg.train.refit_on_train_val else cfg.data.eval_crop,
            ),
        }
    missing = [s for s in ("train", "val") if s not in data]
    if missing:
        raise InputError(f"data: expected train and val datasets, got no {missing[0]}")
    if cfg.train.refit_on_train_val:
        return ConcatDataset([data["train"], data["val"]]), None
    return data["train"], data["val"]


def _resume(
    last: Path,
    cfg: RunConfig,
    model: RetrievalModel,
    optimizer: torch.optim.Optimizer,
    scaler: torch.amp.GradScaler | None,
    dev: torch.device,
) -> RunState | None:
    """The run state of ``last`` with model, optimiser and scaler restored; None if no run."""
    if not ckpt.is_checkpoint(last):
        return None
    saved = ckpt.read_json(last / ckpt.STATE_FILE)
    config, _ = ckpt.check_saved(ckpt.read_json(last / ckpt.CONFIG_FILE), saved, last)
    check_resumable(config.config, cfg, last)
    ckpt.load_model_weights(model, last, device=dev)
    ckpt.load_optimizer(optimizer, last, saved)
    if scaler is not None and saved.get("scaler"):
        scaler.load_state_dict(saved["scaler"])
    state = RunState.from_json(saved)
    if state.epoch_step:
        log.info(
            "resuming %s from %s at epoch %d, step %d",
            cfg.model,
            last,
            state.epoch + 1,
            state.epoch_step,
        )
    else:
        log.info("resuming %s from %s after epoch %d", cfg.model, last, state.epoch)
    return state


def config_differences(
    saved: Mapping[str, Any], current: Mapping[str, Any], keys: Sequence[str] = RESUME_KEYS
) -> list[tuple[str, Any, Any]]:
    """``(dotted key, saved value, current value)`` for every leaf under ``keys`` that differs."""
    diffs: list[tuple[str, Any, Any]] = []

    def walk(prefix: str, a: Any, b: Any) -> None:
        if isinstance(a, Mapping) and isinstance(b, Mapping):
            for k in list(a) + [k for k in b if k not in a]:
                walk(f"{prefix}.{k}", a.get(k, UNSET), b.get(k, UNSET))
        elif a != b:
            diffs.append((prefix, a, b))

    for key in keys:
        walk(key, saved.get(key), current.get(key))
    return diffs


class _Unset:
    def __repr__(self) -> str:
        return "unset"


#: A key present on one side of a comparison only.
UNSET: Any = _Unset()


def _shown(value: Any) -> str:
    """A config value as YAML-ish text: strings quoted, numbers as Python prints them."""
    return repr(value) if isinstance(value, str) else str(value)


def check_resumable(saved_config: Mapping[str, Any], cfg: RunConfig, folder: Path) -> None:
    """Refuse to resume ``folder`` when a model-defining key (:data:`RESUME_KEYS`) changed,
    naming each changed key with both values."""
    diffs = config_differences(saved_config, cfg.to_dict())
    if diffs:
        what = "; ".join(
            f"{k} differs: checkpoint {_shown(a)}, config {_shown(b)}" for k, a, b in diffs
        )
        raise InputError(
            f"resume: {what} ({folder} holds another run; use another --out or --no-resume)"
        )


def _write_run_config(out: Path, cfg: RunConfig, dist: Dist) -> None:
    if dist.is_main:
        out.mkdir(parents=True, exist_ok=True)
        atomic_write_text(out / "config.yaml", cfg.to_yaml())


def _wrap(model: RetrievalModel, cfg: RunConfig, dev: torch.device, dist: Dist) -> torch.nn.Module:
    """The model as the loop calls it: DDP-wrapped under torchrun, itself otherwise."""
    if not dist.enabled:
        return model
    from torch.nn.parallel import DistributedDataParallel as DDP

    return DDP(
        model,
        device_ids=[dev.index] if dev.type == "cuda" else None,
        find_unused_parameters=cfg.train.find_unused_parameters,
    )


def _fit(run: _Run, state: RunState) -> RunState:
    """Epochs ``state.epoch .. epochs - 1``: train, validate, checkpoint, maybe stop early."""
    tc = run.cfg.train
    try:
        for epoch in range(state.epoch, tc.epochs):
            t_epoch = time.perf_counter()
            entry = _train_epoch(run, state, epoch)
            stop = _validate_epoch(run, state, entry)
            entry["seconds"] = time.perf_counter() - t_epoch
            state.epoch, state.epoch_step = epoch + 1, 0
            state.history.append(entry)
            _save_last(run, state, entry)
            if stop:
                log.info(
                    "early stop: no better val %s in %d validations",
                    run.task.main_score,
                    tc.patience,
                )
                break
    except KeyboardInterrupt:
        raise _interrupted(run, state) from None
    finally:
        run.runlog.close()
    return state


def _interrupted(run: _Run, state: RunState) -> Interrupted:
    """What an interrupted run can do next: resume from ``last/`` (where it stands), or start
    over (no checkpoint written yet)."""
    last = run.out / "last"
    if ckpt.is_checkpoint(last):
        saved = RunState.from_json(ckpt.read_json(last / ckpt.STATE_FILE))
        where = (
            f"epoch {saved.epoch + 1}, step {saved.epoch_step}"
            if saved.epoch_step
            else f"after epoch {saved.epoch}"
        )
        return Interrupted(
            f"interrupted; {last} holds the run at {where}: rerun the same command to resume"
        )
    return Interrupted(
        f"interrupted before the first checkpoint (every {run.cfg.train.checkpoint_every} steps); "
        "rerunning the same command starts over"
    )


def _train_epoch(run: _Run, state: RunState, epoch: int) -> dict[str, Any]:
    """One epoch of steps, reseeded from (seed, epoch); returns the epoch's log entry."""
    from tqdm.auto import tqdm

    tc = run.cfg.train
    seed = epoch_seed(tc.seed, epoch)
    seed_everything(seed)
    loader = build_train_loader(
        run.model, run.train_data, run.streams, run.cfg, seed, run.dist, epoch
    )
    run.model.train()
    total = (
        len(loader) if tc.max_steps_per_epoch is None else min(len(loader), tc.max_steps_per_epoch)
    )
    done = state.epoch_step  # steps of this epoch a mid-epoch checkpoint already holds
    log.info(
        "epoch %d/%d: %d steps%s",
        epoch + 1,
        tc.epochs,
        total,
        f", from step {done}" if done else "",
    )
    bar = tqdm(
        # a fresh epoch iterates the loader itself (its iterator made where it always was)
        itertools.islice(loader, done, None) if done else loader,
        total=total,
        initial=done,
        desc=f"epoch {epoch + 1}/{tc.epochs}",
        leave=False,
        disable=_bar_disabled(run.progress, run.dist),
    )
    try:
        parts = run_epoch(
            run.wrapped,
            bar,
            run.optimizer,
            run.scaler,
            tc,
            state,
            epoch,
            device=run.device,
            amp=run.amp,
            runlog=run.runlog,
            bar=bar,
            n_items=len(run.train_data),
            on_checkpoint=lambda: _save_last(run, state, None),
        )
    finally:
        bar.close()
    return {
        "kind": "epoch",
        "epoch": epoch + 1,
        "step": state.step,
        "train": parts,
        "lr": lr_at(tc.lr, epoch, state.step - 1, tc.lr_decay, tc.warmup_steps),
    }


def _validate_epoch(run: _Run, state: RunState, entry: dict[str, Any]) -> bool:
    """Validate when due (every ``eval_every`` epochs and the last), keep a new best in
    ``best/``; True when patience says stop (agreed by every rank)."""
    tc, done = run.cfg.train, entry["epoch"]
    stop = False
    due = done % tc.eval_every == 0 or done == tc.epochs
    if run.dist.is_main and run.val_loader is not None and due:
        metrics, score, secs = _validate(run)
        main = run.task.main_score
        improved = state.record_validation(score, done, run.task.higher_is_better(main))
        entry.update(
            {
                "val": metrics,
                f"val_{main}": score,
                "main_score": main,
                "val_seconds": secs,
                "best": improved,
            }
        )
        if improved:
            ckpt.save_checkpoint(
                run.out / "best",
                run.model,
                config=run.config_json,
                context=run.ctx.to_json(),
                state={
                    **state.to_json(),
                    "epoch": done,
                    "selection": f"val split (best val {main}, epoch {done})",
                    "val": metrics,
                },
            )
        stop = tc.patience is not None and state.evals_since_best >= tc.patience
    return bool(_broadcast(stop, run.dist))


def _validate(run: _Run) -> tuple[dict, float, float]:
    t0 = time.perf_counter()
    queries, gallery, ids, query_ids = encode_split(run.model, run.val_loader, run.device, run.amp)
    gold = None
    if query_ids is not None:  # pair rows of a table gold: one row per query, one column per video
        rows_q, rows_v, gold = pair_rows(query_ids, ids)
        queries, gallery = select_rows(queries, rows_q), select_rows(gallery, rows_v)
    S = similarity_matrix(run.model, queries, gallery, amp=run.amp, device=run.device)
    metrics, score = score_matrix(run.spec, S, gold=gold, task=run.task)
    return metrics, score, time.perf_counter() - t0


def _selection_of_last(cfg: RunConfig, done: int) -> str:
    if cfg.train.refit_on_train_val:
        return f"last epoch ({done}), trained on train + val (no validation)"
    return f"last epoch ({done})"


def _save_last(run: _Run, state: RunState, entry: dict[str, Any] | None) -> None:
    """``last/`` with the optimiser and scaler (for resuming), the epoch's log entry (None:
    a mid-epoch checkpoint), barrier."""
    if run.dist.is_main:
        selection = (
            f"epoch {state.epoch + 1}, step {state.epoch_step} (a mid-epoch checkpoint)"
            if state.epoch_step
            else _selection_of_last(run.cfg, state.epoch)
        )
        last_state = {**state.to_json(), "selection": selection}
        if run.scaler is not None:
            last_state["scaler"] = run.scaler.state_dict()
        ckpt.save_checkpoint(
            run.out / "last",
            run.model,
            config=run.config_json,
            context=run.ctx.to_json(),
            state=last_state,
            optimizer=run.optimizer,
        )
        if entry is not None:
            run.runlog.write(entry, state.step)
    if run.dist.enabled:
        import torch.distributed as tdist

        tdist.barrier()


def _result(out: Path, cfg: RunConfig, state: RunState, main_score: str) -> TrainResult:
    best = out / "best" if ckpt.is_checkpoint(out / "best") else None
    chosen = out / "last" if cfg.train.selects_last else best
    return TrainResult(
        out=out,
        best_checkpoint=best,
        best_val_score=state.best_score,
        best_epoch=state.best_epoch,
        epochs_run=state.epoch,
        history=list(state.history),
        checkpoint=chosen,
        main_score=main_score,
    )


def _untrained(
    model: RetrievalModel, cfg: RunConfig, ctx: ModelContext, out: Path, dist: Dist, main_score: str
) -> TrainResult:
    """A model with nothing to learn (``needs_training = False``, e.g. ``random``): write its
    checkpoint as ``best`` and ``last`` at once, so ``evaluate`` treats it like any other."""
    state = {
        **RunState(seed=cfg.train.seed).to_json(),
        "selection": "no training (nothing to learn)",
    }
    _write_run_config(out, cfg, dist)
    if dist.is_main:
        for name in ("best", "last"):
            ckpt.save_checkpoint(
                out / name, model, config=cfg.to_dict(), context=ctx.to_json(), state=state
            )
    return TrainResult(
        out=out,
        best_checkpoint=out / "best",
        best_val_score=None,
        best_epoch=None,
        epochs_run=0,
        history=[],
        checkpoint=out / "best",
        main_score=main_score,
    )


def _broadcast(value: Any, dist: Dist) -> Any:
    if not dist.enabled:
        return value
    import torch.distributed as tdist

    box = [value]
    tdist.broadcast_object_list(box, src=0)
    return box[0]


def _bar_disabled(progress: bool | None, dist: Dist) -> bool | None:
    """tqdm's ``disable``: off on other ranks or when asked; None = only on a terminal."""
    if not dist.is_main or progress is False:
        return True
    from var_bench.progress import show_bar  # the one progress policy (var_bench.progress)

    return not show_bar(progress)
