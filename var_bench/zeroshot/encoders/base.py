"""The zero-shot encoder interface and its registry.

A zero-shot encoder maps texts, videos (decoded RGB frames) and audio to one embedding space.
Everything that changes what a model sees is declared in its :class:`Sampling` manifest, which
every zero-shot record carries: two runs with equal manifests saw the same inputs.

Encoders register under a name with :func:`register_encoder` (built-ins when their module is
imported; other packages through the entry-point group ``var_bench.zeroshot``).
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any, ClassVar

import numpy as np

from var_bench.registry import Registry

ENTRY_POINT_GROUP = "var_bench.zeroshot"


@dataclass(frozen=True)
class Sampling:
    """The sampling manifest: what a model saw of each video, and how.

    Attributes:
        model_id: the model's public id (hub id or open_clip ``arch/pretrained``).
        weights: the weights' revision or sha256 (``random`` for random weights).
        decoder: the decoder and its version (e.g. ``pyav 14.0 / ffmpeg 7.1``).
        fps: frames sampled per second of video (Hz).
        max_frames: at most this many frames per video (uniformly thinned above it).
        index_rule: how frame indices are chosen, in words (e.g. ``t = k / fps, nearest frame``).
        resize: the short side after resizing (pixels), and the interpolation.
        crop: the crop (e.g. ``center 224``).
        mean: per-channel mean subtracted after scaling to [0, 1] (RGB order).
        std: per-channel std divided by (RGB order).
        channel_layout: the layout handed to the network (e.g. ``NCHW RGB float32``).
        pooling: how frame embeddings become one video embedding (e.g. ``mean of L2-normalised``).
        audio_rate: audio sampling rate (Hz), None without audio.
        audio_window_s: audio window length (s), None without audio.
        prompt_template: the text prompt template (``{}`` is the query), None for none.
        library: the library that builds the model and its version (e.g. ``open_clip 3.3.0``).
        licence: the weights' licence (e.g. ``MIT``), None when unknown.
    """

    model_id: str
    weights: str
    decoder: str
    fps: float
    max_frames: int
    index_rule: str
    resize: str
    crop: str
    mean: tuple[float, float, float]
    std: tuple[float, float, float]
    channel_layout: str
    pooling: str
    audio_rate: int | None = None
    audio_window_s: float | None = None
    prompt_template: str | None = None
    library: str | None = None
    licence: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The manifest as a JSON-ready dict (tuples as lists)."""
        out = asdict(self)
        out["mean"], out["std"] = list(self.mean), list(self.std)
        return out


class ZeroShotEncoder(abc.ABC):
    """One model, loaded, that embeds texts, videos and/or audio into one space.

    Subclasses set ``modalities`` (a subset of ``{"text", "video", "audio"}``) and implement the
    encoders of those modalities. Every ``encode_*`` returns float32 rows of L2 norm 1.
    """

    modalities: ClassVar[frozenset[str]] = frozenset()

    @property
    @abc.abstractmethod
    def sampling(self) -> Sampling:
        """The manifest of this loaded encoder."""

    def preprocess(self, frames: np.ndarray) -> Any:
        """The exact preprocessing of decoded frames ``(T, H, W, 3)`` uint8 RGB, in time order,
        into the network's input (what the frame-layout self-check runs)."""
        raise NotImplementedError(f"{type(self).__name__} does not encode video")

    def as_rgb(self, x: Any) -> np.ndarray:
        """:meth:`preprocess`'s output read back as ``(T, h, w, 3)`` float RGB on [0, 1]
        (``x * std + mean`` per channel): what the frame-layout self-check inspects. This default
        reads the layouts ``NCHW ...`` and ``NHWC ...`` of :attr:`Sampling.channel_layout`;
        an encoder with another input (patches, tokens) overrides it.

        Raises:
            InputError: ``x`` is not 4-d with 3 channels where the layout puts them.
        """
        from var_bench.errors import InputError

        arr = np.asarray(x.detach().cpu().float() if hasattr(x, "detach") else x, np.float32)
        layout = self.sampling.channel_layout.split()[0].upper()
        axis = {"NCHW": 1, "NHWC": 3}.get(layout)
        if axis is None:
            raise InputError(
                f"{type(self).__name__}: expected channel_layout NCHW or NHWC (or an as_rgb of "
                f"its own), got {self.sampling.channel_layout!r}"
            )
        if arr.ndim != 4 or arr.shape[axis] != 3:
            raise InputError(
                f"frame-layout self-check (preprocess): expected {layout} input with 3 channels, "
                f"got shape {tuple(arr.shape)} (channels in the wrong place?)"
            )
        rgb = np.moveaxis(arr, axis, -1)
        return rgb * np.asarray(self.sampling.std, np.float32) + np.asarray(
            self.sampling.mean, np.float32
        )

    def encode_text(self, texts: Sequence[str]) -> np.ndarray:
        """Texts -> ``(n, d)`` float32, L2-normalised (the prompt template applied)."""
        raise NotImplementedError(f"{type(self).__name__} does not encode text")

    def encode_frames(self, frames: np.ndarray) -> np.ndarray:
        """Frames ``(T, H, W, 3)`` uint8 RGB in time order -> ``(T, d)`` float32 per-frame (or
        per-window) embeddings, L2-normalised; :attr:`Sampling.pooling` says how the video's one
        embedding is made from them."""
        raise NotImplementedError(f"{type(self).__name__} does not encode video")

    def encode_audio(self, wave: np.ndarray, rate: int) -> np.ndarray:
        """Mono float32 audio in [-1, 1] at ``rate`` Hz -> ``(W, d)`` float32 per-window
        embeddings, L2-normalised."""
        raise NotImplementedError(f"{type(self).__name__} does not encode audio")


#: name -> factory ``(weights, device) -> ZeroShotEncoder``; ``weights`` is a path, a hub
#: revision, ``"random"`` (random weights of the exact architecture) or None (the default).
ENCODERS: Registry[Callable[..., ZeroShotEncoder]] = Registry("zero-shot model", ENTRY_POINT_GROUP)


def register_encoder(name: str) -> Callable:
    """Decorator: register an encoder factory under ``name``."""

    def wrap(factory: Callable[..., ZeroShotEncoder]) -> Callable[..., ZeroShotEncoder]:
        ENCODERS.register(name, factory, builtin=True)
        return factory

    return wrap


def get_encoder(
    name: str, weights: str | None = None, device: str = "cpu", **options: Any
) -> ZeroShotEncoder:
    """Load a registered encoder by name (one :class:`~var_bench.errors.InputError` line when
    unknown). ``options``: recipe options the factory accepts (e.g. ``fps``, ``max_frames``,
    ``pooling``); one the factory does not take is refused in one line."""
    import inspect

    from var_bench.errors import InputError

    factory = ENCODERS.lookup(name)
    if options:
        params = inspect.signature(factory).parameters
        takes_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())
        unknown = [k for k in options if k not in params and not takes_any]
        if unknown:
            raise InputError(f"{name}: expected options it takes, got {', '.join(sorted(unknown))}")
    return factory(weights=weights, device=device, **options)
