"""Training configs: YAML files ``{model, model_args, train, data, text_model}``.

Named configs sit beside each model's module: for a model M and a name N (the benchmark by
default), ``<folder of M's module>/configs/M-N.yaml`` (e.g. ``models/alan/configs/alan-tiny.yaml``,
``models/baselines/configs/ce-ucfcrime-ar.yaml``); one rule for every model, plug-ins included.
``--config FILE`` takes a file instead; ``--set a.b=c`` overrides any key (values parsed as YAML).
Unknown keys are refused with the allowed ones named.
"""

from __future__ import annotations

import copy
import dataclasses
import inspect
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from var_bench.errors import InputError
from var_bench.loaders.sampling import CROPS
from var_bench.registry import registry_key

#: Top-level keys of a config file.
TOP_KEYS: tuple[str, ...] = ("model", "model_args", "train", "data", "text_model")
AMP_MODES: tuple[str, ...] = ("auto", "bf16", "fp16", "off")
OPTIMIZERS: tuple[str, ...] = ("adam", "adamw")
#: ``train.checkpoint``: which epoch's weights a run hands to ``evaluate``.
CHECKPOINTS: tuple[str, ...] = ("best-val", "last")


@dataclass
class TrainConfig:
    """Optimisation settings. ``lr_decay``: multiplicative per epoch (lr_e = lr * lr_decay^e);
    ``warmup_steps``: linear ramp of the lr over the first optimiser steps; ``grad_clip``: max
    global L2 norm (None: off); ``amp``: ``auto`` = bf16 (fp16 + GradScaler where bf16 is
    unsupported) on CUDA, off on CPU; ``eval_every``: epochs between validations (the last
    epoch is always validated); ``patience``: stop after this many validations without a new
    best val main score (the task's: SumR for retrieval; None: never).

    ``samples_per_epoch``: an epoch is this many training samples, drawn from replacement-free
    reshuffles of the train split (MMT: 32000; null: one pass over the split);
    ``checkpoint``: ``best-val`` (the epoch with the best val main score) or ``last`` (the last
    epoch, as MMT keeps); ``refit_on_train_val``: train on train + val with no validation and keep
    the last epoch (a final run once the settings are chosen); ``checkpoint_every``: optimiser
    steps between mid-epoch saves of ``<out>/last/`` (besides the one after every epoch), so an
    interrupted run loses at most that many steps when rerun."""

    epochs: int = 30
    batch_size: int = 64
    lr: float = 5e-5
    lr_decay: float = 0.95
    warmup_steps: int = 0
    optimizer: str = "adam"
    weight_decay: float = 0.0
    grad_clip: float | None = 2.0
    amp: str = "auto"
    seed: int = 0
    num_workers: int = 0
    eval_every: int = 1
    eval_batch_size: int = 128
    log_every: int = 50
    max_steps_per_epoch: int | None = None
    checkpoint_every: int = 20
    patience: int | None = None
    find_unused_parameters: bool = True
    samples_per_epoch: int | None = None
    checkpoint: str = "best-val"
    refit_on_train_val: bool = False

    def check(self) -> None:
        # Types first (YAML gives bools, strings, .nan): every value is checked here, at load
        # time, so a bad one never reaches the optimiser as an internal error (issue 11).
        for key in (
            "epochs",
            "batch_size",
            "warmup_steps",
            "seed",
            "num_workers",
            "eval_every",
            "eval_batch_size",
            "log_every",
            "max_steps_per_epoch",
            "checkpoint_every",
            "patience",
        ):
            v = getattr(self, key)
            if isinstance(v, bool) or (v is not None and not isinstance(v, int)):
                raise InputError(f"train.{key}: expected an integer, got {v!r}")
        for key in ("lr", "lr_decay", "weight_decay", "grad_clip"):
            v = getattr(self, key)
            if isinstance(v, bool) or (
                v is not None and not (isinstance(v, (int, float)) and math.isfinite(v))
            ):
                raise InputError(f"train.{key}: expected a finite number, got {v!r}")
        if not 0 <= self.seed < 2**63:
            raise InputError(f"train.seed: expected an integer in [0, 2**63), got {self.seed!r}")
        if self.weight_decay < 0:
            raise InputError(
                f"train.weight_decay: expected a number >= 0, got {self.weight_decay!r}"
            )
        if not isinstance(self.find_unused_parameters, bool):
            raise InputError(
                f"train.find_unused_parameters: expected true or false, got "
                f"{self.find_unused_parameters!r}"
            )
        positive = (
            "epochs",
            "batch_size",
            "eval_every",
            "eval_batch_size",
            "log_every",
            "checkpoint_every",
        )
        for key in positive:
            if not _is_int(getattr(self, key)) or getattr(self, key) < 1:
                raise InputError(
                    f"train.{key}: expected a positive integer, got {getattr(self, key)!r}"
                )
        for key in ("max_steps_per_epoch", "patience", "samples_per_epoch"):
            v = getattr(self, key)
            if v is not None and (not _is_int(v) or v < 1):
                raise InputError(f"train.{key}: expected a positive integer or null, got {v!r}")
        if not isinstance(self.lr, (int, float)) or self.lr <= 0:
            raise InputError(f"train.lr: expected a positive number, got {self.lr!r}")
        if not isinstance(self.lr_decay, (int, float)) or not 0 < self.lr_decay <= 1:
            raise InputError(f"train.lr_decay: expected a number in (0, 1], got {self.lr_decay!r}")
        if self.amp not in AMP_MODES:
            raise InputError(f"train.amp: expected one of {', '.join(AMP_MODES)}, got {self.amp!r}")
        if self.optimizer not in OPTIMIZERS:
            raise InputError(
                f"train.optimizer: expected one of {', '.join(OPTIMIZERS)}, got {self.optimizer!r}"
            )
        if self.grad_clip is not None and (
            not isinstance(self.grad_clip, (int, float)) or self.grad_clip <= 0
        ):
            raise InputError(
                f"train.grad_clip: expected a positive number or null, got {self.grad_clip!r}"
            )
        if not isinstance(self.num_workers, int) or self.num_workers < 0:
            raise InputError(
                f"train.num_workers: expected an integer >= 0, got {self.num_workers!r}"
            )
        if not isinstance(self.warmup_steps, int) or self.warmup_steps < 0:
            raise InputError(
                f"train.warmup_steps: expected an integer >= 0, got {self.warmup_steps!r}"
            )
        if self.checkpoint not in CHECKPOINTS:
            raise InputError(
                f"train.checkpoint: expected one of {', '.join(CHECKPOINTS)}, "
                f"got {self.checkpoint!r}"
            )
        for key in ("refit_on_train_val", "find_unused_parameters"):
            if not isinstance(getattr(self, key), bool):
                raise InputError(f"train.{key}: expected true or false, got {getattr(self, key)!r}")
        if self.refit_on_train_val and self.patience is not None:
            raise InputError(
                f"train.patience: expected null with train.refit_on_train_val "
                f"(no validation to stop on), got {self.patience!r}"
            )

    @property
    def selects_last(self) -> bool:
        """True when the run hands on its last epoch (``checkpoint: last`` or a refit)."""
        return self.checkpoint == "last" or self.refit_on_train_val


def _is_int(v: Any) -> bool:
    """An int that is not a bool (YAML ``true`` must not pass as 1)."""
    return isinstance(v, int) and not isinstance(v, bool)


@dataclass
class DataConfig:
    """Data settings. ``crop``: which crop training items use when the store kept all crops
    (``random``, ``center``, ``mean``); ``eval_crop``: the same at evaluation;
    ``max_snippets``: longer videos are average-pooled to this many snippets (None: never)."""

    crop: str = "random"
    eval_crop: str = "center"
    max_snippets: int | None = None

    def check(self) -> None:
        for key in ("crop", "eval_crop"):
            if getattr(self, key) not in CROPS:
                raise InputError(
                    f"data.{key}: expected one of {', '.join(CROPS)}, got {getattr(self, key)!r}"
                )
        v = self.max_snippets
        if v is not None and (not _is_int(v) or v < 1):
            raise InputError(f"data.max_snippets: expected a positive integer or null, got {v!r}")


@dataclass
class RunConfig:
    """A resolved config: which model, its arguments, and the train / data settings."""

    model: str
    model_args: dict[str, Any] = field(default_factory=dict)
    train: TrainConfig = field(default_factory=TrainConfig)
    data: DataConfig = field(default_factory=DataConfig)
    text_model: str = "bert-base-cased"
    source: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain dict in the file layout (``source`` excluded)."""
        return {
            "model": self.model,
            "model_args": copy.deepcopy(self.model_args),
            "train": dataclasses.asdict(self.train),
            "data": dataclasses.asdict(self.data),
            "text_model": self.text_model,
        }

    def to_yaml(self) -> str:
        return yaml.safe_dump(self.to_dict(), sort_keys=False)


def config_dir(model: str) -> Path:
    """The folder of ``model``'s named configs: ``configs/`` beside the module that defines it."""
    from var_bench.models.registry import get_model

    return Path(inspect.getfile(get_model(model))).parent / "configs"


def named_config_candidates(model: str, name: str) -> list[Path]:
    """Files a named config ``name`` could come from for ``model``, in lookup order."""
    return [config_dir(model) / f"{model}-{name}.yaml"]


def available_config_names(model: str) -> list[str]:
    """Named configs present for ``model`` (file stems without the ``<model>-`` prefix)."""
    folder = config_dir(model)
    prefix = f"{model}-"
    return sorted(f.stem[len(prefix) :] for f in folder.glob(f"{prefix}*.yaml"))


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise InputError(f"{path}: expected a YAML config, got a parse error: {exc}") from None
    except UnicodeDecodeError as exc:
        raise InputError(
            f"{path}: expected a UTF-8 YAML config, got undecodable bytes (byte {exc.start})"
        ) from None
    except OSError as exc:
        raise InputError(f"{path}: expected a readable config file, got {exc.strerror}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise InputError(
            f"{path}: expected a YAML mapping of {', '.join(TOP_KEYS)}, got {type(data).__name__}"
        )
    return data


def parse_override(text: str) -> tuple[list[str], Any]:
    """``"train.epochs=3"`` -> (``["train", "epochs"]``, 3); the value is parsed as YAML."""
    key, sep, value = str(text).partition("=")
    if not sep or not key.strip():
        raise InputError(f"--set: expected KEY=VALUE (e.g. train.epochs=3), got {text!r}")
    try:
        parsed = yaml.safe_load(value) if value.strip() else None
    except yaml.YAMLError:
        parsed = value
    return [p for p in key.strip().split(".")], parsed


def apply_overrides(raw: dict[str, Any], overrides: Iterable[str]) -> dict[str, Any]:
    """A copy of ``raw`` with each ``a.b=c`` override set (nested dicts created as needed)."""
    out = copy.deepcopy(raw)
    for text in overrides:
        path, value = parse_override(text)
        node = out
        for part in path[:-1]:
            child = node.get(part)
            if child is None:
                child = node[part] = {}
            if not isinstance(child, dict):
                raise InputError(f"--set {text}: expected {part!r} to be a mapping, got {child!r}")
            node = child
        node[path[-1]] = value
    return out


def coerce_float(value: Any) -> Any:
    """YAML 1.1 reads ``5e-5`` (no dot) as a string: accept it, and ints, for float keys."""
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return value
    if isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    return value


def _fill(cls: type, section: str, values: Any) -> Any:
    if values is None:
        values = {}
    if not isinstance(values, Mapping):
        raise InputError(f"{section}: expected a mapping, got {values!r}")
    allowed = [f.name for f in dataclasses.fields(cls)]
    unknown = [k for k in values if k not in allowed]
    if unknown:
        raise InputError(
            f"unknown config key {section}.{unknown[0]}: expected one of {', '.join(allowed)}"
        )
    types = {f.name: str(f.type) for f in dataclasses.fields(cls)}
    obj = cls(**{k: coerce_float(v) if "float" in types[k] else v for k, v in values.items()})
    obj.check()
    return obj


def from_dict(
    raw: Mapping[str, Any], *, model: str | None = None, source: str | None = None
) -> RunConfig:
    """Validate a config mapping into a :class:`RunConfig` (``model`` fills a missing ``model``)."""
    unknown = [k for k in raw if k not in TOP_KEYS]
    if unknown:
        raise InputError(f"unknown config key {unknown[0]}: expected one of {', '.join(TOP_KEYS)}")
    name = raw.get("model") or model
    if not name:
        raise InputError("config: expected a model name (model: NAME or --model), got none")
    if model and raw.get("model") and registry_key(raw["model"]) != registry_key(model):
        raise InputError(f"config {source or ''}: expected model {model!r}, got {raw['model']!r}")
    args = raw.get("model_args") or {}
    if not isinstance(args, Mapping):
        raise InputError(f"model_args: expected a mapping, got {args!r}")
    check_model_args(args)
    text_model = raw.get("text_model") or "bert-base-cased"
    if not isinstance(text_model, str):
        raise InputError(f"text_model: expected a model name or folder, got {text_model!r}")
    return RunConfig(
        model=registry_key(name),
        model_args=dict(args),
        train=_fill(TrainConfig, "train", raw.get("train")),
        data=_fill(DataConfig, "data", raw.get("data")),
        text_model=str(text_model),
        source=source,
    )


#: Bounds on model sizes in a config (checked before any model is built, so a config asking for
#: 10^7-wide layers is refused instead of allocated): a width at most MAX_MODEL_DIM, any other
#: integer argument at most MAX_MODEL_INT.
MAX_MODEL_DIM = 16_384
MAX_MODEL_INT = 1_000_000


def check_model_args(args: Mapping[str, Any], section: str = "model_args") -> None:
    """Numbers in ``args`` are finite; integers are in [0, MAX_MODEL_INT] (widths, keys with
    ``dim`` in their name, in [0, MAX_MODEL_DIM]); nested mappings and lists are checked too."""
    for key, v in args.items():
        where = f"{section}.{key}"
        if isinstance(v, Mapping):
            check_model_args(v, where)
        elif isinstance(v, (list, tuple)):
            check_model_args({str(i): x for i, x in enumerate(v)}, where)
        elif isinstance(v, bool) or v is None or isinstance(v, str):
            continue
        elif isinstance(v, int):
            high = (
                MAX_MODEL_DIM if "dim" in str(section + "." + str(key)).lower() else MAX_MODEL_INT
            )
            if not 0 <= v <= high:
                raise InputError(f"{where}: expected an integer in [0, {high}], got {v}")
        elif isinstance(v, float):
            if not math.isfinite(v):
                raise InputError(f"{where}: expected a finite number, got {v!r}")
        else:
            raise InputError(
                f"{where}: expected a number, string, list or mapping, got {type(v).__name__}"
            )


def load_config(
    path_or_name: str | Path | None = None,
    *,
    model: str,
    benchmark: str | None = None,
    overrides: Iterable[str] = (),
) -> RunConfig:
    """Resolve a config for ``model``.

    ``path_or_name``: an existing YAML file, or a config name (``tiny``, a benchmark name); None:
    the benchmark's named config when one exists, else the defaults (empty ``model_args``).
    ``overrides``: ``a.b=c`` strings applied last.
    """
    model = registry_key(model)
    raw: dict[str, Any] = {}
    source = None
    if path_or_name is not None and Path(path_or_name).is_file():
        source = str(path_or_name)
        raw = _read_yaml(Path(path_or_name))
    else:
        name = path_or_name if path_or_name is not None else benchmark
        if name is not None:
            found = [p for p in named_config_candidates(model, str(name)) if p.is_file()]
            if found:
                source = str(found[0])
                raw = _read_yaml(found[0])
            elif path_or_name is not None:
                names = ", ".join(available_config_names(model)) or "none"
                raise InputError(
                    f"config {path_or_name!r}: expected a YAML file or a config name "
                    f"for {model} ({names}), got neither"
                )
    raw = apply_overrides(raw, overrides)
    return from_dict(raw, model=model, source=source)
