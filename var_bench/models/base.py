"""The model interface every retrieval model implements, and the context it is built in.

A model turns batches (see ``var_bench.loaders.batching``) into a training loss
(:meth:`RetrievalModel.forward`) and, at evaluation, into query and gallery embeddings whose
:meth:`RetrievalModel.similarity` is the submission matrix: rows = queries (text or audio),
columns = videos, higher = more similar.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, TypeVar

import torch
from torch import Tensor, nn

from var_bench.benchmarks import BenchmarkSpec
from var_bench.errors import InputError
from var_bench.features.streams import (
    VIDEO_STREAMS,
    video_streams,
)  # gallery streams, in model order
from var_bench.models.text import TextEncoder

#: ``ModelContext.query_modality`` of text benchmarks (the batch key ``text`` holds the captions).
TEXT = "text"
#: The query stream of audio benchmarks (the batch key of the VGGish features).
AUDIO = "audio"
#: Query modalities a model can be built for.
QUERY_MODALITIES: tuple[str, ...] = (TEXT, AUDIO)
#: Keys of the ``text`` model argument (text-encoder options).
TEXT_OPTIONS: tuple[str, ...] = ("freeze", "cache", "max_length", "dropout")


@dataclass(frozen=True)
class ModelContext:
    """What a model needs to know about the data it is built for.

    ``streams``: video streams available in the feature store (e.g. ``("rgb",)`` with no Flow);
    ``dims``: feature size per stream, including the audio query on XDViolence-AR
    (e.g. ``{"rgb": 1024, "flow": 1024, "audio": 128}``); ``text_model``: transformers name or path
    (see :func:`var_bench.models.text.load_text_encoder`).
    """

    benchmark: BenchmarkSpec
    query_modality: str
    streams: tuple[str, ...]
    dims: dict[str, int] = field(default_factory=dict)
    text_model: str = "bert-base-cased"
    device: torch.device = field(default_factory=lambda: torch.device("cpu"))

    def to_json(self) -> dict[str, Any]:
        """JSON-safe form (stored in a checkpoint's ``config.json``)."""
        return {
            "benchmark": self.benchmark.name,
            "query_modality": self.query_modality,
            "streams": list(self.streams),
            "dims": dict(self.dims),
            "text_model": self.text_model,
        }


def select_streams(
    ctx: ModelContext, requested: Sequence[str] | None = None, *, missing_ok: bool = False
) -> tuple[str, ...]:
    """Video streams the model uses: ``requested`` (a subset of the store's video streams, any
    names: rgb, flow, clip, ...) or, by default, the I3D streams the store has (rgb, plus flow
    when present; every video stream when it has neither), in the store's order. ``missing_ok``:
    requested streams the store lacks are dropped (an error only when none is left)."""
    available = list(video_streams(ctx.streams))
    if requested is None:
        chosen = [s for s in available if s in VIDEO_STREAMS] or available
    else:
        wanted = [str(s) for s in requested]
        unknown = [s for s in wanted if s not in available]
        if (unknown and not missing_ok) or not wanted:
            raise InputError(
                f"model streams: expected a non-empty subset of "
                f"{', '.join(available) or '(none)'}, got {', '.join(wanted) or '(none)'}"
            )
        chosen = [s for s in available if s in wanted]
    if not chosen:
        raise InputError(
            f"model streams: expected a video stream "
            f"({', '.join(requested or VIDEO_STREAMS)}) in the feature store, got "
            f"{', '.join(ctx.streams) or '(none)'}"
        )
    return tuple(chosen)


def query_dim(ctx: ModelContext) -> int:
    """Feature size of one audio query snippet (``ctx.dims['audio']``, VGGish: 128)."""
    if AUDIO not in ctx.dims:
        raise InputError(
            f"audio query: expected ctx.dims to give the {AUDIO!r} feature size, "
            f"got {sorted(ctx.dims)}"
        )
    return int(ctx.dims[AUDIO])


def make_text_encoder(ctx: ModelContext, options: Mapping[str, Any] | None = None) -> TextEncoder:
    """The text encoder of ``ctx.text_model`` with ``options`` (the model arg ``text``: keys
    ``freeze``, ``cache``, ``max_length``, ``dropout``; see
    :class:`~var_bench.models.text.TextEncoder`)."""
    opts = dict(options or {})
    extra = sorted(set(opts) - set(TEXT_OPTIONS))
    if extra:
        raise InputError(
            f"text options: expected keys among {', '.join(sorted(TEXT_OPTIONS))}, "
            f"got {', '.join(extra)}"
        )
    return TextEncoder(ctx.text_model, **opts)


C = TypeVar("C", bound="ModelConfig")


@dataclass(frozen=True)
class ModelConfig:
    """Base of every model's typed, frozen ``model_args`` (one subclass per model).

    :meth:`from_args` refuses unknown keys, checks each value against its field's annotation
    (int, float, bool, str, tuples, mappings, ``X | None``; lists become tuples), then runs
    :meth:`validate` for ranges and choices; every failure is one InputError line naming
    ``<model> model_args.<key>``."""

    @classmethod
    def from_args(cls: type[C], args: Mapping[str, Any] | None, model: str = "") -> C:
        args = dict(args or {})
        label = f"{model or cls.__name__} model_args"
        hints = typing.get_type_hints(cls)
        known = [f.name for f in dataclasses.fields(cls)]
        unknown = sorted(set(args) - set(known))
        if unknown:
            raise InputError(
                f"{label}: expected keys among {', '.join(known)}, got unknown {', '.join(unknown)}"
            )
        values = {k: _typed(f"{label}.{k}", hints[k], v) for k, v in args.items()}
        cfg = cls(**values)
        cfg.validate(label)
        return cfg

    def validate(self, label: str) -> None:
        """Ranges and choices; subclasses raise ``InputError(f"{label}.<key>: expected ...")``."""


def _typed(where: str, hint: Any, value: Any) -> Any:
    """``value`` checked against the annotation ``hint`` (converted where lossless: int -> float,
    list -> tuple, a lone string -> a 1-tuple of strings)."""
    origin, params = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in params:
            return None
        inner = [p for p in params if p is not type(None)]
        errors = []
        for p in inner:
            try:
                return _typed(where, p, value)
            except InputError as exc:
                errors.append(exc)
        raise (
            errors[0]
            if len(inner) == 1
            else InputError(
                f"{where}: expected {' or '.join(_name(p) for p in params)}, got {value!r}"
            )
        )
    if hint is Any:
        return value
    if origin is tuple or hint is tuple:
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, (list, tuple)):
            raise InputError(f"{where}: expected a list, got {value!r}")
        item = params[0] if params else Any
        return tuple(_typed(f"{where}[{i}]", item, v) for i, v in enumerate(value))
    if origin in (Mapping, dict, typing.Mapping) or hint in (dict, Mapping):
        if not isinstance(value, Mapping):
            raise InputError(f"{where}: expected a mapping, got {value!r}")
        return dict(value)
    if origin in (Sequence, list) or hint is list:
        if isinstance(value, str) or not isinstance(value, (list, tuple)):
            raise InputError(f"{where}: expected a list, got {value!r}")
        item = params[0] if params else Any
        return tuple(_typed(f"{where}[{i}]", item, v) for i, v in enumerate(value))
    if hint is bool:
        if not isinstance(value, bool):
            raise InputError(f"{where}: expected true or false, got {value!r}")
        return value
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise InputError(f"{where}: expected an integer, got {value!r}")
        return value
    if hint is float:
        if isinstance(value, str):  # YAML 1.1 reads 5e-5 (no dot) as a string
            try:
                value = float(value)
            except ValueError:
                pass
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise InputError(f"{where}: expected a number, got {value!r}")
        return float(value)
    if hint is str:
        if not isinstance(value, str):
            raise InputError(f"{where}: expected a string, got {value!r}")
        return value
    return value


def _name(hint: Any) -> str:
    return {
        int: "an integer",
        float: "a number",
        bool: "true or false",
        str: "a string",
        type(None): "null",
    }.get(
        hint,
        "a list"
        if typing.get_origin(hint) in (tuple, list, Sequence)
        else "a mapping"
        if typing.get_origin(hint) in (dict, Mapping)
        else str(hint),
    )


class RetrievalModel(nn.Module):
    """Base class of every registered model (see :mod:`var_bench.models.registry`).

    Subclasses implement the methods below. A built-in model names its typed arguments in
    :attr:`config_class` (a :class:`ModelConfig`) and takes ``(cfg, ctx)``; its constructor opens
    with :meth:`init_inputs` (the video streams and the query side) and builds its query encoder
    with :meth:`init_query` (a text encoder on text benchmarks, else the audio feature size).
    A plug-in without a ``config_class`` gets its ``model_args`` as keywords plus ``ctx``.
    ``forward`` returns a dict with a scalar ``"loss"`` plus any named loss parts (logged).
    ``encode_query`` / ``encode_gallery`` return dicts of tensors whose first dimension is the
    batch; the evaluator concatenates them over batches along dim 0 and calls ``similarity`` on
    blocks of queries against the whole gallery.
    """

    #: The registered name (set by ``@register_model``).
    name: ClassVar[str] = ""
    #: False for a model with nothing to learn (``random``): the trainer writes its checkpoint
    #: at once and runs no epoch.
    needs_training: ClassVar[bool] = True
    #: How the model normalises scores at test time using the whole test gallery (e.g. a dual
    #: softmax), or None; recorded in the result's disclosure (the leaderboard flags it).
    test_time_normalisation: ClassVar[str | None] = None
    #: The video streams the model reads (a subset of ``ModelContext.streams``).
    streams: tuple[str, ...] = ("rgb",)
    #: ``ModelContext.query_modality``: ``text`` (captions) or ``audio`` (VGGish snippets).
    query_modality: str = "text"

    #: The model's typed arguments (None: ``model_args`` are constructor keywords).
    config_class: ClassVar[type[ModelConfig] | None] = None

    @classmethod
    def from_config(cls, args: dict, ctx: ModelContext) -> RetrievalModel:
        """Build the model from its ``model_args`` (a dict from the YAML config) and the context:
        ``cls(config_class.from_args(args), ctx)``, or ``cls(**args, ctx=ctx)`` without one."""
        if cls.config_class is None:
            return cls(**args, ctx=ctx)  # type: ignore[call-arg]
        return cls(cls.config_class.from_args(args, cls.name), ctx)  # type: ignore[call-arg]

    def init_inputs(
        self, ctx: ModelContext, streams: Sequence[str] | None = None, *, missing_ok: bool = False
    ) -> None:
        """The shared prologue: ``self.streams`` (see :func:`select_streams`) and
        ``self.query_modality`` (text or audio) from the context."""
        if ctx.query_modality not in QUERY_MODALITIES:
            raise InputError(
                f"{self.name or type(self).__name__}: expected query modality "
                f"{' or '.join(QUERY_MODALITIES)}, got {ctx.query_modality!r}"
            )
        self.streams = select_streams(ctx, streams, missing_ok=missing_ok)
        self.query_modality = ctx.query_modality

    def init_query(self, ctx: ModelContext, text: Mapping[str, Any] | None = None) -> int:
        """The query input: on text benchmarks ``self.text_encoder`` (options ``text``) and its
        hidden size; on audio benchmarks ``self.text_encoder = None`` and the audio feature size
        (:func:`query_dim`). Returns that size (the width of the query tokens)."""
        if ctx.query_modality == TEXT:
            self.text_encoder = make_text_encoder(ctx, text)
            return int(self.text_encoder.hidden_size)
        self.text_encoder = None
        return query_dim(ctx)

    def loader_options(self) -> dict:
        """Collate keyword arguments this model wants (``sample``, ``n``, ``max_snippets``)."""
        return {}

    def eval_loader_options(self) -> dict:
        """Collate keyword arguments at evaluation; by default :meth:`loader_options` with random
        sampling turned into uniform sampling (evaluation must be deterministic)."""
        opts = dict(self.loader_options())
        if opts.get("sample") == "random":
            opts["sample"] = "uniform"
        return opts

    def optimizer_groups(self) -> list[dict]:
        """Parameter groups for the optimiser: dicts with ``params`` and optionally ``lr_scale``
        (multiplies the configured lr, e.g. 0.1 for a pretrained text encoder) and
        ``weight_decay``. Default: one group of every parameter that requires a gradient."""
        return [{"params": [p for p in self.parameters() if p.requires_grad]}]

    def forward(self, batch: dict) -> dict[str, Tensor]:  # pragma: no cover - abstract
        raise NotImplementedError

    def encode_gallery(self, batch: dict) -> dict[str, Tensor]:  # pragma: no cover - abstract
        raise NotImplementedError

    def encode_query(self, batch: dict) -> dict[str, Tensor]:  # pragma: no cover - abstract
        raise NotImplementedError

    def similarity(self, query: dict, gallery: dict) -> Tensor:  # pragma: no cover - abstract
        raise NotImplementedError

    def search_vectors(self, outputs: dict, side: str) -> Tensor | None:
        """Optional: fixed vectors ``[B, D]`` of encoder outputs (``side`` = ``"query"`` or
        ``"gallery"``) whose inner products equal :meth:`similarity` (``q_i . v_j = s_ij``), which
        lets an approximate nearest-neighbour index search them (``var_bench.search``). None: the
        similarity is not an inner product of fixed vectors (only exact search applies)."""
        return None
