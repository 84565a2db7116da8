"""Extraction recipes: how each public feature set was (or, where unknown, is taken to be) made.

A :class:`Recipe` is pure data. Every field that no public source states is marked in
:attr:`Recipe.choices`; those are our documented defaults, never silent guesses. The recipe is part
of a feature set's identity (``extraction.json``), so two trees made with different recipes are
never mixed by accident.

Snippet counts (pure functions below), with ``N`` decoded frames at the recipe's frame rate and
``F`` frames per snippet (16):

- RGB / CLIP: ``T = floor(N / F)`` (non-overlapping snippets, trailing frames dropped);
- Flow: flow frame ``i`` is the motion from frame ``i`` to ``i + 1``, so there are ``N - 1`` of them
  and ``T_flow = floor((N - 1) / F)`` (XDVioDet: "the frames of flow is one less than that of rgb");
- audio (VGGish): window ``k`` ends at ``(k + 1) * F / fps`` seconds and spans the 0.96 s before it;
  ``T_audio = #{k : round(100 * (k + 1) * F / fps) <= M}`` with ``M`` log-mel frames of 10 ms
  (see :func:`audio_snippets`), so ``T_audio`` is ``T_rgb`` or ``T_rgb - 1`` when the audio track
  is as long as the video.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from typing import Any

from var_bench.errors import InputError

#: The crop counts a recipe may use (see :func:`var_bench.extract.frames.crop_boxes`).
CROP_CHOICES: tuple[int, ...] = (10, 5, 1)
#: How CLIP embeds a 16-frame snippet: its middle frame (index F // 2), or the mean of all F.
CLIP_FRAMES: tuple[str, ...] = ("middle", "mean")
#: VGGish output: after the released PCA + 8-bit quantisation (values 0..255), or the raw 128-d
#: embedding of the last ReLU layer.
AUDIO_OUTPUTS: tuple[str, ...] = ("pca", "raw")
#: Resize interpolations: OpenCV flags by name, and ``pil-bicubic`` (CLIP's own transform:
#: torchvision ``Resize`` on a PIL image, antialiased bicubic; see :mod:`.frames`).
INTERPOLATIONS: tuple[str, ...] = ("linear", "cubic", "area", "pil-bicubic")


@dataclass(frozen=True)
class Recipe:
    """How frames become model inputs.

    ``fps``: frames per second the video is resampled to (None = the file's native rate, every
    frame decoded); ``resize``: the short side in pixels after resizing (aspect kept, long side
    ``round(long * resize / short)``); ``crop``: side of the square crops in pixels; ``crops``: 10
    (centre, 4 corners, their 5 horizontal mirrors), 5 (centre + corners) or 1 (centre);
    ``snippet_frames``: F frames per snippet (non-overlapping, stride F); ``interpolation``: the
    resize filter; ``clip_frame``: which frames of a snippet CLIP embeds; ``audio_output``: VGGish
    PCA or raw; ``release_of``: the video collection (``spec.videos.name``) whose public feature
    release this recipe reproduces (the default recipe of every benchmark over those videos);
    ``choices``: fields no public source states (our documented defaults).
    """

    name: str
    fps: float | None
    resize: int
    crop: int
    crops: int
    snippet_frames: int = 16
    interpolation: str = "linear"
    clip_frame: str = "middle"
    audio_output: str = "pca"
    release_of: str | None = None
    source: str = ""
    choices: tuple[str, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        if self.crops not in CROP_CHOICES:
            raise InputError(
                f"crops: expected one of {', '.join(map(str, CROP_CHOICES))}, got {self.crops}"
            )
        if self.crop < 1 or self.resize < self.crop:
            raise InputError(
                f"recipe {self.name}: expected 1 <= crop <= resize, got crop {self.crop}, "
                f"resize {self.resize}"
            )
        if self.snippet_frames < 1:
            raise InputError(f"snippet frames: expected an integer >= 1, got {self.snippet_frames}")
        if self.fps is not None and not self.fps > 0:
            raise InputError(
                f"fps: expected a positive frame rate or None (native), got {self.fps}"
            )
        if self.interpolation not in INTERPOLATIONS:
            raise InputError(
                f"interpolation: expected one of {', '.join(INTERPOLATIONS)}, "
                f"got {self.interpolation!r}"
            )
        if self.clip_frame not in CLIP_FRAMES:
            raise InputError(
                f"clip frame: expected one of {', '.join(CLIP_FRAMES)}, got {self.clip_frame!r}"
            )
        if self.audio_output not in AUDIO_OUTPUTS:
            raise InputError(
                f"audio output: expected one of {', '.join(AUDIO_OUTPUTS)}, "
                f"got {self.audio_output!r}"
            )

    def with_options(self, **changes: Any) -> Recipe:
        """A copy with the given fields changed (None values ignored), e.g. ``crops=1``."""
        changes = {k: v for k, v in changes.items() if v is not None}
        return replace(self, **changes) if changes else self

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["choices"] = list(self.choices)
        return d


RECIPES: dict[str, Recipe] = {
    r.name: r
    for r in (
        Recipe(
            name="ucf-crime-release",
            fps=None,
            resize=256,
            crop=224,
            crops=10,
            release_of="ucf-crime",
            source="DeepMIL issue #2: pytorch-i3d rgb_imagenet.pt, short side 256, "
            "10 crops of 224, "
            "16-frame snippets, T = floor(N / 16) (Abuse001_x264: 2729 frames -> 170)",
            choices=(
                "fps: native (UCF-Crime is 30 fps); whether it was resampled is not stated",
                "interpolation: bilinear (OpenCV INTER_LINEAR)",
                "crop order: 0 centre, 1-4 corners top-left, top-right, bottom-left, bottom-right, "
                "5-9 their horizontal mirrors",
                "flow: TV-L1 at the resized resolution, clipped to [-20, 20]; "
                "the release has no flow",
            ),
        ),
        Recipe(
            name="xd-violence-release",
            fps=24.0,
            resize=256,
            crop=224,
            crops=5,
            release_of="xd-violence",
            source="XD-Violence paper section 5.2: 24 fps, 16-frame snippets, 5 crops; "
            "VGGish audio windows aligned with the video snippets; "
            "XDVioDet: flow has one snippet fewer or as many",
            choices=(
                "resize: short side 256 (not stated)",
                "interpolation: bilinear (OpenCV INTER_LINEAR)",
                "frame-rate conversion: output frame j = source frame floor(j * src_fps / 24)",
                "audio: VGGish after PCA + 8-bit quantisation (torchvggish default); "
                "raw not ruled out",
                "audio window k ends at (k + 1) * 16 / 24 s; "
                "the first window is padded with silence",
            ),
        ),
        Recipe(
            name="vadclip",
            fps=None,
            resize=256,
            crop=224,
            crops=10,
            interpolation="cubic",
            clip_frame="middle",
            source="VadCLIP: one CLIP ViT-B/16 512-d image embedding per 16-frame snippet, "
            "10 crops",
            choices=(
                "fps: native",
                "resize: short side 256, OpenCV bicubic, then 224 crops: a crop sees 0.875 of "
                "the short side, CLIP's own transform (short side 224, centre crop) all of it; "
                "with the same random ViT-B/16 the embeddings' cosine is 0.996 (fidelity audit "
                "2); the clip-openai recipe is CLIP's transform",
                "clip frame: the middle frame of each snippet (index 8); 'mean' embeds all 16 "
                "and averages; VadCLIP does not say",
                "normalisation: OpenAI CLIP mean/std after /255",
            ),
        ),
        Recipe(
            name="clip-openai",
            fps=None,
            resize=224,
            crop=224,
            crops=1,
            interpolation="pil-bicubic",
            clip_frame="middle",
            source="openai/CLIP clip.py _transform(224): Resize(224, BICUBIC) on a PIL image, "
            "CenterCrop(224), ToTensor, Normalize(OpenAI mean / std): the frame CLIP was "
            "trained to see",
            choices=(
                "fps: native",
                "centre crop: margin // 2; torchvision's CenterCrop rounds margin / 2 half to "
                "even, one pixel further right when the margin is 3 mod 4 (e.g. a 227 px long "
                "side); 4:3 and 16:9 frames (298 and 398 px after the resize) agree exactly",
                "clip frame: the middle frame of each snippet (index 8)",
            ),
        ),
    )
}


def get_recipe(name: str | Recipe) -> Recipe:
    """The recipe named ``name`` (a :class:`Recipe` is returned as is)."""
    if isinstance(name, Recipe):
        return name
    try:
        return RECIPES[name]
    except KeyError:
        raise InputError(f"recipe: expected one of {', '.join(RECIPES)}, got {name!r}") from None


def default_recipe(collection: str, model_kind: str) -> Recipe:
    """The recipe of the public release of the video collection ``collection`` (a benchmark's
    ``spec.videos.name``; ``vadclip`` for CLIP)."""
    if model_kind == "clip":
        return RECIPES["vadclip"]
    for r in RECIPES.values():
        if r.release_of == collection:
            return r
    raise InputError(
        f"recipe: no public-release recipe for the {collection} videos; pass --recipe "
        f"({', '.join(RECIPES)})"
    )


def rgb_snippets(n_frames: int, snippet_frames: int = 16) -> int:
    """T of an RGB (or CLIP) stream: ``floor(N / F)`` non-overlapping snippets."""
    return max(0, int(n_frames)) // int(snippet_frames)


def flow_snippets(n_frames: int, snippet_frames: int = 16) -> int:
    """T of a Flow stream: ``floor((N - 1) / F)`` (N frames give N - 1 flow frames)."""
    return max(0, int(n_frames) - 1) // int(snippet_frames)


def mel_frames(n_samples: int, window: int = 400, hop: int = 160) -> int:
    """Log-mel frames of ``n_samples`` at 16 kHz: ``1 + floor((S - 400) / 160)`` (0 if S < 400)."""
    return 0 if n_samples < window else 1 + (int(n_samples) - window) // hop


def audio_window_ends(
    n_mel: int, fps: float, snippet_frames: int = 16, frames_per_second: int = 100
) -> list[int]:
    """End (exclusive, in 10 ms log-mel frames) of each VGGish window: ``round(100 * (k + 1) * F /
    fps)`` for every k whose end lies within the ``n_mel`` frames computed."""
    ends = []
    k = 0
    while True:
        end = int(round(frames_per_second * (k + 1) * snippet_frames / fps))
        if end > n_mel:
            return ends
        ends.append(end)
        k += 1


def audio_snippets(n_samples: int, fps: float, snippet_frames: int = 16) -> int:
    """T of a VGGish stream for ``n_samples`` of 16 kHz audio (see :func:`audio_window_ends`)."""
    return len(audio_window_ends(mel_frames(n_samples), fps, snippet_frames))
