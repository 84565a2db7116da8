"""ImageBind (audio <-> video): the binding model for XDViolence-AR's a2v / v2a tasks.

The network is ImageBind's own ``ImageBindModel`` (PyPI ``imagebind-unofficial``, a packaging of
``facebookresearch/ImageBind``); only its model classes are imported, because the package's data
loader needs torchaudio, pytorchvideo and decord (no build of them matches this project's torch).
The preprocessing is written here to match ``imagebind/data.py`` step for step:

- **video** (``load_and_transform_video_data``): 5 clips of 2 s at the starts
  ``k * max(D - 2, 0) / 5`` (pytorchvideo's ``ConstantClipsPerVideoSampler``, ``D`` the duration
  ``T / fps``); a clip holds the frames ``ceil(fps * start) .. ceil(fps * end) - 1`` (pytorchvideo's
  decord ``get_clip``) of which the first and the last are kept (``UniformTemporalSubsample(2)``);
  values / 255; short side to 224 (``floor`` of the long side, bilinear, ``align_corners=False``);
  CLIP mean / std; 3 crops of 224 (left / centre / right, or top / centre / bottom) -> 15 inputs
  ``(3, 2, 224, 224)``;
- **audio** (``load_and_transform_audio_data``): mono at 16 kHz; 3 clips of 2 s at
  ``k * max(D - 2, 0) / 3``, samples ``int(start * 16000) .. int(end * 16000)``; each: mean
  removed, Kaldi log-mel filter bank (:func:`kaldi_fbank`: 25 ms Hanning frames every 10 ms, 128
  mel bins, ``htk_compat``, no energy, no dither), to 204 frames (zero-padded or cut), then
  ``(x + 4.268) / 9.138`` -> 3 inputs ``(1, 128, 204)``.

The model embeds each input, L2-normalises (audio scaled by its fixed logit scale 20) and
averages over a video's inputs; the mean is L2-normalised again here (the interface's unit rows;
cosine rankings are unchanged). One row per video / audio track.

Weights: ``imagebind_huge.pth`` from :data:`WEIGHTS_URL` (``weights=None``: torch hub's cache), a
local ``.pth`` with the upstream key names (``modality_preprocessors.*``, ``modality_trunks.*``,
``modality_heads.*``, ``modality_postprocessors.*``), or ``"random"`` (the exact huge
architecture, seed 0). The manifest records the file's sha256. Code and weights are CC-BY-NC 4.0
(non-commercial). Needs the ``models`` and ``imagebind`` extras.
"""

from __future__ import annotations

import hashlib
import importlib.util
import math
import sys
import types
from fractions import Fraction
from pathlib import Path

import numpy as np

from var_bench.errors import EnvironmentFault, InputError
from var_bench.zeroshot.encoders.base import Sampling, ZeroShotEncoder, register_encoder
from var_bench.zeroshot.selfcheck import check_frames

MODEL_ID = "facebookresearch/ImageBind imagebind_huge"
WEIGHTS_URL = "https://dl.fbaipublicfiles.com/imagebind/imagebind_huge.pth"
#: Frames per second the caller decodes at (upstream reads the native rate; 2 frames of each 2 s
#: clip are used, the last at ``start + 2 - 1 / fps``).
FPS = 10.0
CLIP_S = 2
VIDEO_CLIPS = 5
AUDIO_CLIPS = 3
SIZE = 224
CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)
AUDIO_RATE = 16000
MEL_BINS = 128
TARGET_FRAMES = 204
AUDIO_MEAN, AUDIO_STD = -4.268, 9.138
RANDOM_SEED = 0


#: How to install the model classes (their package's own requirements pull torchaudio,
#: pytorchvideo and decord, which have no build for this torch: hence ``--no-deps``).
INSTALL = (
    "pip install --no-deps imagebind-unofficial==0.1.1 && pip install -e '.[imagebind]' "
    "(or bash scripts/setup.sh vision)"
)


def _models():
    """ImageBind's ``imagebind_model`` module, imported without running the package's
    ``__init__`` (which imports its data loader and so torchaudio / pytorchvideo / decord).

    Raises:
        EnvironmentFault: imagebind-unofficial or a module its model classes import is missing.
    """
    try:
        if "imagebind" not in sys.modules:
            spec = importlib.util.find_spec("imagebind")
            if spec is None or not spec.submodule_search_locations:
                raise ModuleNotFoundError("No module named 'imagebind'", name="imagebind")
            pkg = types.ModuleType("imagebind")
            pkg.__path__ = list(spec.submodule_search_locations)
            sys.modules["imagebind"] = pkg
        from imagebind.models import imagebind_model
    except ModuleNotFoundError as e:
        raise EnvironmentFault(
            f"imagebind-huge needs ImageBind's model classes (no module named {e.name!r}): "
            f"{INSTALL}"
        ) from None
    return imagebind_model


# -- timing ----------------------------------------------------------------------------------------


def clip_starts(duration: float, clips: int, clip_s: float = CLIP_S) -> list[Fraction]:
    """pytorchvideo's ``ConstantClipsPerVideoSampler`` read out as ImageBind does: the starts
    ``k * max(D - clip_s, 0) / clips`` for k = 0 .. clips - 1 (seconds, exact fractions; its
    end-of-video stop never fires before ``clips`` starts).

    >>> [float(s) for s in clip_starts(12.0, 5)]
    [0.0, 2.0, 4.0, 6.0, 8.0]
    >>> [float(s) for s in clip_starts(1.0, 3)]
    [0.0, 0.0, 0.0]
    """
    top = Fraction(max(duration - clip_s, 0))
    step = Fraction(top, clips)
    return [step * k for k in range(clips)]


def clip_frames(n: int, fps: float, start: Fraction, clip_s: float = CLIP_S) -> list[int]:
    """The two frames ImageBind keeps of the clip ``[start, start + clip_s)`` of ``n`` frames at
    ``fps``: the first and last of ``ceil(fps * start) .. min(ceil(fps * end), n) - 1``.

    >>> clip_frames(100, 10.0, Fraction(0)), clip_frames(100, 10.0, Fraction(3))
    ([0, 19], [30, 49])
    """
    lo = math.ceil(fps * start)
    hi = min(math.ceil(fps * (start + clip_s)), n)
    if hi <= lo:  # below 0.5 fps a clip can hold no frame: take the nearest one twice
        return [min(lo, n - 1)] * 2
    return [lo, hi - 1]


# -- audio -----------------------------------------------------------------------------------------


def mel_banks(bins: int = MEL_BINS, fft: int = 512, rate: int = AUDIO_RATE, low: float = 20.0):
    """Kaldi's triangular mel filters ``(bins, fft // 2 + 1)`` from ``low`` Hz to Nyquist on the
    mel scale ``1127 ln(1 + f / 700)``: filter k rises from mel ``lo + k d`` to ``lo + (k + 1) d``
    and falls to ``lo + (k + 2) d``, ``d = (hi - lo) / (bins + 1)``; the Nyquist column is zero.
    Evaluated in float32 in torchaudio's ``get_mel_banks`` order (band edges from float64
    scalars), so the banks are equal bit for bit."""
    import torch

    lo = 1127.0 * math.log(1.0 + low / 700.0)
    hi = 1127.0 * math.log(1.0 + (rate / 2) / 700.0)
    delta = (hi - lo) / (bins + 1)
    k = torch.arange(bins).unsqueeze(1)
    left, centre, right = lo + k * delta, lo + (k + 1.0) * delta, lo + (k + 2.0) * delta
    mel = 1127.0 * (1.0 + (rate / fft) * torch.arange(float(fft // 2)) / 700.0).log()
    up = (mel - left) / (centre - left)
    down = (right - mel) / (right - centre)
    banks = torch.max(torch.zeros(1), torch.min(up, down))
    return torch.nn.functional.pad(banks, (0, 1))


def kaldi_fbank(wave, rate: int = AUDIO_RATE, bins: int = MEL_BINS):
    """Kaldi log-mel filter bank with ImageBind's options (torchaudio's
    ``compliance.kaldi.fbank(htk_compat=True, use_energy=False, window_type="hanning",
    dither=0, frame_length=25, frame_shift=10)``): frames of 25 ms every 10 ms with
    ``snip_edges`` (``1 + (N - W) // S`` frames), each with its mean removed, pre-emphasis 0.97
    (first sample against itself), a symmetric Hann window, zero-padded to 512, power spectrum,
    mel filters (:func:`mel_banks`), ``log(max(x, eps_float32))``.

    Args:
        wave: 1-D float tensor (samples at ``rate`` Hz).

    Returns:
        ``(frames, bins)`` float tensor (no frames when shorter than one window).
    """
    import torch

    size, shift = int(rate * 0.025), int(rate * 0.010)
    fft = 1 << (size - 1).bit_length()
    n = wave.shape[0]
    if n < size:
        return torch.empty(0, bins, dtype=wave.dtype)
    count = 1 + (n - size) // shift
    frames = wave.as_strided((count, size), (shift, 1))
    frames = frames - frames.mean(dim=1, keepdim=True)
    prev = torch.cat([frames[:, :1], frames[:, :-1]], dim=1)
    frames = frames - 0.97 * prev
    frames = frames * torch.hann_window(size, periodic=False, dtype=wave.dtype)
    frames = torch.nn.functional.pad(frames, (0, fft - size))
    power = torch.fft.rfft(frames).abs().pow(2.0)
    mel = power @ mel_banks(bins, fft, rate).to(wave.dtype).T
    return torch.clamp(mel, min=torch.finfo(torch.float32).eps).log()


def audio_inputs(wave: np.ndarray, rate: int):
    """Mono audio in [-1, 1] at 16 kHz -> ImageBind's audio input ``(3, 1, 128, 204)``."""
    import torch

    wave = np.asarray(wave)
    if wave.ndim != 1 or not np.issubdtype(wave.dtype, np.floating):
        raise InputError(
            f"{MODEL_ID}: expected mono float audio (samples,), got {wave.dtype} "
            f"{tuple(wave.shape)}"
        )
    if rate != AUDIO_RATE:
        raise InputError(f"{MODEL_ID}: expected audio at {AUDIO_RATE} Hz, got {rate} Hz")
    x = torch.from_numpy(np.array(wave, dtype=np.float32))  # a copy: changed in place below
    out = []
    for start in clip_starts(len(x) / AUDIO_RATE, AUDIO_CLIPS):
        piece = x[int(start * AUDIO_RATE) : int((start + CLIP_S) * AUDIO_RATE)]
        # in place on a view, as upstream's waveform2melspec: overlapping clips see the change
        piece -= piece.mean()
        spec = kaldi_fbank(piece).T  # (bins, frames)
        pad = TARGET_FRAMES - spec.shape[1]
        spec = torch.nn.functional.pad(spec, (0, pad)) if pad > 0 else spec[:, :TARGET_FRAMES]
        out.append(((spec - AUDIO_MEAN) / AUDIO_STD)[None])
    return torch.stack(out)


# -- video -----------------------------------------------------------------------------------------


def short_side(video, size: int = SIZE):
    """pytorchvideo's ``ShortSideScale``: ``(C, T, H, W)`` with the short side to ``size`` and the
    long side ``floor(long / short * size)``, bilinear, ``align_corners=False``."""
    import torch

    _, _, h, w = video.shape
    if w < h:
        new_h, new_w = int(math.floor(h / w * size)), size
    else:
        new_h, new_w = size, int(math.floor(w / h * size))
    return torch.nn.functional.interpolate(
        video, size=(new_h, new_w), mode="bilinear", align_corners=False
    )


def three_crops(video, size: int = SIZE) -> list:
    """ImageBind's ``SpatialCrop(224, 3)``: crops at the start, centre (``ceil`` offset) and end
    of the long side of ``(C, T, H, W)``."""
    h, w = video.shape[-2:]
    y, x = math.ceil((h - size) / 2), math.ceil((w - size) / 2)
    out = []
    for i in range(3):
        yy, xx = y, x
        if h > w:
            yy = (0, y, h - size)[i]
        else:
            xx = (0, x, w - size)[i]
        out.append(video[..., yy : yy + size, xx : xx + size])
    return out


def video_inputs(frames: np.ndarray, fps: float = FPS):
    """Frames ``(T, H, W, 3)`` uint8 RGB at ``fps`` -> ImageBind's video input
    ``(15, 3, 2, 224, 224)`` (5 clips x 3 crops, clip-major)."""
    import torch

    frames = check_frames(frames, MODEL_ID)
    n = len(frames)
    mean = torch.tensor(CLIP_MEAN)[:, None, None, None]
    std = torch.tensor(CLIP_STD)[:, None, None, None]
    out = []
    for start in clip_starts(n / fps, VIDEO_CLIPS):
        pick = clip_frames(n, fps, start)
        clip = torch.from_numpy(frames[pick]).permute(3, 0, 1, 2).float() / 255.0  # C, T, H, W
        clip = (short_side(clip) - mean) / std
        out.extend(three_crops(clip))
    return torch.stack(out)


# -- the encoder -----------------------------------------------------------------------------------


class ImageBind(ZeroShotEncoder):
    """A loaded ImageBind (``model``: ``ImageBindModel``, eval): audio and video rows."""

    modalities = frozenset({"video", "audio"})

    def __init__(self, model, *, weights: str, fps: float = FPS) -> None:
        self.model, self._weights, self.fps = model.eval(), weights, float(fps)

    @property
    def sampling(self) -> Sampling:
        return Sampling(
            model_id=MODEL_ID,
            weights=self._weights,
            decoder="the caller's decoder (RGB frames at fps; audio mono at 16 kHz)",
            fps=self.fps,
            max_frames=2 * VIDEO_CLIPS,
            index_rule=f"{VIDEO_CLIPS} clips of {CLIP_S} s at k * max(D - 2, 0) / {VIDEO_CLIPS}, "
            "D = T / fps; of frames ceil(fps * start) .. ceil(fps * end) - 1 the first and last",
            resize=f"short side {SIZE} (long side floor), bilinear, align_corners=False, "
            "after / 255",
            crop=f"3 crops of {SIZE} along the long side (start, centre, end)",
            mean=CLIP_MEAN,
            std=CLIP_STD,
            channel_layout=f"(clips*crops, 3, 2, {SIZE}, {SIZE}) RGB float32",
            pooling="mean of the L2-normalised embeddings of 15 video inputs (3 audio clips), "
            "L2-normalised; one row per video",
            audio_rate=AUDIO_RATE,
            audio_window_s=float(CLIP_S),
        )

    def preprocess(self, frames: np.ndarray):
        """Frames ``(T, H, W, 3)`` uint8 RGB at :attr:`fps` -> ``(15, 3, 2, 224, 224)``."""
        return video_inputs(frames, self.fps)

    def _embed(self, modality: str, x) -> np.ndarray:
        import torch

        device = next(self.model.parameters()).device
        with torch.inference_mode():
            out = self.model({modality: x[None].to(device)})[modality]
            out = torch.nn.functional.normalize(out.float(), p=2, dim=-1)
        return out.cpu().numpy().astype(np.float32)

    def encode_frames(self, frames: np.ndarray) -> np.ndarray:
        """A video's frames -> ``(1, 1024)`` (the model averages its 15 inputs)."""
        return self._embed("vision", self.preprocess(frames))

    def encode_audio(self, wave: np.ndarray, rate: int) -> np.ndarray:
        """A mono track at 16 kHz -> ``(1, 1024)`` (the model averages its 3 clips)."""
        return self._embed("audio", audio_inputs(wave, rate))


# -- loading ---------------------------------------------------------------------------------------


def huge(seed: int = RANDOM_SEED):
    """The ``imagebind_huge`` architecture (upstream's constructor arguments), random under
    ``seed``."""
    import torch

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return _models().imagebind_huge(pretrained=False)


def load_state(model, state: dict) -> None:
    """Load an upstream state dict (``modality_preprocessors.*``, ``modality_trunks.*``,
    ``modality_heads.*``, ``modality_postprocessors.*``) exactly; one line naming missing,
    unexpected or mis-shaped keys otherwise."""
    own = model.state_dict()
    missing = sorted(set(own) - set(state))
    unexpected = sorted(set(state) - set(own))
    shaped = sorted(
        k for k in set(own) & set(state) if tuple(own[k].shape) != tuple(state[k].shape)
    )
    if missing or unexpected or shaped:
        raise InputError(
            f"{MODEL_ID} weights: expected the upstream keys and shapes (modality_trunks.*, ...), "
            f"got {len(missing)} missing (e.g. {', '.join(missing[:3]) or '-'}), "
            f"{len(unexpected)} unexpected (e.g. {', '.join(unexpected[:3]) or '-'}) and "
            f"{len(shaped)} of another shape (e.g. {', '.join(shaped[:3]) or '-'})"
        )
    model.load_state_dict(state)


def sha256(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 24), b""):
            h.update(block)
    return h.hexdigest()


def from_file(path: str | Path, model=None, *, device: str = "cpu", fps: float = FPS) -> ImageBind:
    """An :class:`ImageBind` with the weights of ``path`` (a ``torch.save`` of the upstream
    state dict) loaded into ``model`` (default: the huge architecture); the manifest's weights is
    the file's sha256."""
    import torch

    path = Path(path)
    if not path.is_file():
        raise InputError(f"--weights: expected an ImageBind .pth file, got {str(path)!r}")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:
        raise InputError(
            f"{path}: expected a torch state dict, got {type(e).__name__}: "
            f"{str(e).splitlines()[0][:160] if str(e) else ''}"
        ) from None
    if not isinstance(state, dict):
        raise InputError(f"{path}: expected a torch state dict, got {type(state).__name__}")
    model = huge() if model is None else model
    load_state(model, state)
    return ImageBind(model.to(device), weights=f"sha256:{sha256(path)}", fps=fps)


@register_encoder("imagebind-huge")
def imagebind_huge(weights: str | None = None, device: str = "cpu") -> ImageBind:
    """ImageBind huge (audio <-> video): ``weights`` None (:data:`WEIGHTS_URL` through torch
    hub's cache), a ``.pth`` file with the upstream key names, or ``"random"``."""
    if weights == "random":
        return ImageBind(huge().to(device), weights="random")
    if weights is None:
        import torch

        target = Path(torch.hub.get_dir()) / "checkpoints" / "imagebind_huge.pth"
        if not target.is_file():
            try:
                target.parent.mkdir(parents=True, exist_ok=True)
                torch.hub.download_url_to_file(WEIGHTS_URL, str(target), progress=False)
            except Exception as e:
                raise InputError(
                    f"{WEIGHTS_URL}: expected to download the weights, got {type(e).__name__}: "
                    f"{str(e).splitlines()[0][:160] if str(e) else ''} (pass --weights FILE)"
                ) from None
        weights = str(target)
    return from_file(weights, device=device)
