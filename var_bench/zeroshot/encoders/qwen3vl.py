"""Qwen3-VL-Embedding (text <-> video): an MLLM embedder on transformers' ``Qwen3VLModel``.

The recipe is the model card's (``QwenLM/Qwen3-VL-Embedding``, ``Qwen3VLEmbedder``): a chat
conversation with the instruction as the system turn and the input as the user turn, the
generation prompt appended, and the embedding is the last layer's hidden state of the last
non-padding token, L2-normalised. A video is a frame sequence at 1 fps, at most 32 frames
(``np.linspace(0, T - 1, 32, dtype=int)`` when longer, the card's ``sample_frames``), prepared by
``qwen_vl_utils.process_vision_info`` (per-frame and per-video ``smart_resize`` to multiples of 32
px within the card's pixel budget, an even frame count) and transformers' ``Qwen3VLProcessor``
(``do_resize=False``: rescale, normalise, 2 x 16 x 16 patches, the ``<t seconds>`` frame
timestamps). One embedding per video (``encode_frames`` returns one row).

Weights: ``Qwen/Qwen3-VL-Embedding-2B`` at :data:`REVISION` (Apache-2.0) from the Hugging Face hub
(``weights=None``), a local snapshot folder (``config.json``, the processor's files and
``*.safetensors`` with the checkpoint's key names ``model.visual.*``,
``model.language_model.*``), or ``"random"`` (the exact architecture from the snapshot's config,
seed 0). Needs the ``models`` extra, torchvision and ``qwen-vl-utils``.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import numpy as np

from var_bench.errors import InputError
from var_bench.zeroshot.encoders.base import Sampling, ZeroShotEncoder, register_encoder
from var_bench.zeroshot.selfcheck import check_frames

MODEL_ID = "Qwen/Qwen3-VL-Embedding-2B"
#: The hub revision whose weights the default run loads (MTEB's ModelMeta pins the same one).
REVISION = "2a50926d213628c727f38025982a76f655673f54"
FPS = 1.0
MAX_FRAMES = 32
#: The card's video budget: 10 frames' worth of 768 tokens of 32 x 32 px (``MAX_TOTAL_PIXELS``).
TOTAL_PIXELS = 10 * 768 * 32 * 32
MAX_LENGTH = 8192
#: The vision encoder's patch (px); with the 2 x 2 merge, sizes are multiples of 32.
IMAGE_PATCH = 16
DOCUMENT_INSTRUCTION = "Represent the user's input."
#: The card's query instruction for cross-modal retrieval.
QUERY_INSTRUCTION = "Retrieve images or text relevant to the user's query."
RANDOM_SEED = 0


def thin(n: int, max_frames: int = MAX_FRAMES) -> np.ndarray:
    """Indices of the frames kept of ``n``: all when ``n <= max_frames``, else the card's
    ``np.linspace(0, n - 1, max_frames, dtype=int)``.

    >>> thin(5).tolist(), thin(40, 4).tolist()
    ([0, 1, 2, 3, 4], [0, 13, 26, 39])
    """
    if n <= max_frames:
        return np.arange(n)
    return np.linspace(0, n - 1, max_frames, dtype=int)


def with_period(instruction: str) -> str:
    """The card's rule: an instruction not ending in punctuation gets a full stop.

    >>> with_period("Find the clip"), with_period("Represent the user's input.")
    ('Find the clip.', "Represent the user's input.")
    """
    s = instruction.strip()
    return s + "." if s and not unicodedata.category(s[-1]).startswith("P") else s


def conversation(instruction: str, *, text: str | None = None, video=None, **video_kw) -> list:
    """The card's conversation for one input: the instruction as the system turn, the video (a
    list of PIL frames, with ``video_kw``) and/or the text as the user turn."""
    content: list[dict[str, Any]] = []
    if video is not None:
        content.append({"type": "video", "video": video, **video_kw})
    if text is not None:
        content.append({"type": "text", "text": text})
    if not content:
        content.append({"type": "text", "text": "NULL"})
    return [
        {"role": "system", "content": [{"type": "text", "text": with_period(instruction)}]},
        {"role": "user", "content": content},
    ]


def last_token(hidden, mask):
    """The hidden state of each row's last non-padding token (right padding): ``[B, D]``."""
    import torch

    col = mask.shape[1] - 1 - mask.flip(dims=[1]).argmax(dim=1)
    return hidden[torch.arange(hidden.shape[0], device=hidden.device), col]


def load_state(model, state: dict) -> None:
    """Load a checkpoint's state dict (``model.visual.*``, ``model.language_model.*``; a
    ``lm_head.*`` is ignored) into a ``Qwen3VLModel``; one line naming missing or unexpected
    keys otherwise."""
    own = {}
    for key, value in state.items():
        if key.startswith("lm_head."):
            continue
        own[key[len("model.") :] if key.startswith("model.") else key] = value
    missing, unexpected = model.load_state_dict(own, strict=False)
    if missing or unexpected:
        raise InputError(
            f"{MODEL_ID} weights: expected the checkpoint's keys (model.visual.*, "
            f"model.language_model.*), got {len(missing)} missing (e.g. "
            f"{', '.join(sorted(missing)[:3]) or '-'}) and {len(unexpected)} unexpected (e.g. "
            f"{', '.join(sorted(unexpected)[:3]) or '-'})"
        )


class Qwen3VLEmbedding(ZeroShotEncoder):
    """A loaded Qwen3-VL-Embedding: ``model`` (``Qwen3VLModel``, eval) and its ``processor``."""

    modalities = frozenset({"text", "video"})

    def __init__(self, model, processor, *, weights: str, model_id: str = MODEL_ID) -> None:
        self.model, self.processor = model.eval(), processor
        self._weights, self._model_id = weights, model_id

    @property
    def sampling(self) -> Sampling:
        vp = self.processor.video_processor
        try:
            utils = f"qwen-vl-utils {version('qwen-vl-utils')}"
        except PackageNotFoundError:
            utils = "qwen-vl-utils"
        return Sampling(
            model_id=self._model_id,
            weights=self._weights,
            decoder="the caller's decoder (RGB frames at fps)",
            fps=FPS,
            max_frames=MAX_FRAMES,
            index_rule="frames at t = k / fps; above max_frames np.linspace(0, T-1, 32, int); "
            "an odd count repeats the last frame",
            resize=f"{utils} smart_resize: per frame to multiples of 64 px (PIL bicubic), per "
            f"video to multiples of 32 px, {128 * 32 * 32}..{768 * 32 * 32} px per frame, "
            f"{TOTAL_PIXELS} px per video (torchvision bicubic, antialias)",
            crop="none",
            mean=tuple(float(x) for x in vp.image_mean),
            std=tuple(float(x) for x in vp.image_std),
            channel_layout="PIL RGB frames -> 2 x 16 x 16 patches (Qwen3VLProcessor)",
            pooling=f"last token of the conversation (system: {DOCUMENT_INSTRUCTION!r}), one "
            "embedding per video, L2-normalised",
            prompt_template=f"system: {QUERY_INSTRUCTION} | user: {{}} | assistant:",
        )

    # -- inputs --------------------------------------------------------------------------------

    def preprocess(self, frames: np.ndarray) -> dict:
        """Frames ``(T, H, W, 3)`` uint8 RGB in time order at :data:`FPS` -> the processor's
        tensors for one video (``input_ids``, ``attention_mask``, ``pixel_values_videos``,
        ``video_grid_thw``)."""
        from PIL import Image
        from qwen_vl_utils import process_vision_info

        frames = check_frames(frames, self._model_id)
        pil = [Image.fromarray(frames[i]) for i in thin(len(frames))]
        conv = conversation(
            DOCUMENT_INSTRUCTION,
            video=pil,
            total_pixels=TOTAL_PIXELS,
            sample_fps=FPS,  # timestamps of the frames in seconds (k / fps)
        )
        _, videos, video_kw = process_vision_info(
            [conv],
            image_patch_size=IMAGE_PATCH,
            return_video_metadata=True,
            return_video_kwargs=True,
        )
        clips, meta = zip(*videos)
        prompt = self.processor.apply_chat_template(
            [conv], add_generation_prompt=True, tokenize=False
        )
        return self.processor(
            text=prompt,
            videos=list(clips),
            video_metadata=list(meta),
            truncation=True,
            max_length=MAX_LENGTH,
            padding=True,
            do_resize=False,
            return_tensors="pt",
            **video_kw,
        )

    def _embed(self, inputs) -> np.ndarray:
        import torch

        device = next(self.model.parameters()).device
        inputs = {k: v.to(device) for k, v in inputs.items()}
        with torch.inference_mode():
            out = self.model(**inputs)
            emb = last_token(out.last_hidden_state, inputs["attention_mask"])
            emb = torch.nn.functional.normalize(emb.float(), p=2, dim=-1)
        return emb.cpu().numpy().astype(np.float32)

    # -- encoders -------------------------------------------------------------------------------

    def encode_text(self, texts: Sequence[str]) -> np.ndarray:
        """Queries -> ``(n, d)``: each in the card's conversation with :data:`QUERY_INSTRUCTION`."""
        convs = [conversation(QUERY_INSTRUCTION, text=t) for t in texts]
        prompts = self.processor.apply_chat_template(
            convs, add_generation_prompt=True, tokenize=False
        )
        inputs = self.processor(
            text=prompts, truncation=True, max_length=MAX_LENGTH, padding=True, return_tensors="pt"
        )
        return self._embed(inputs)

    def encode_frames(self, frames: np.ndarray) -> np.ndarray:
        """A video's frames -> ``(1, d)``: the whole video is one input (no per-frame rows)."""
        return self._embed(self.preprocess(frames))


# -- loading ------------------------------------------------------------------------------------


def _snapshot(revision: str, *, config_only: bool) -> Path:
    from huggingface_hub import snapshot_download

    patterns = ["*.json", "*.txt", "*.jinja", "merges.txt", "vocab.json"]
    try:
        return Path(
            snapshot_download(
                MODEL_ID,
                revision=revision,
                allow_patterns=patterns if config_only else None,
            )
        )
    except Exception as e:
        raise InputError(
            f"{MODEL_ID}@{revision[:12]}: expected to reach the Hugging Face hub or its cache, got "
            f"{type(e).__name__}: {str(e).splitlines()[0][:160]} (pass --weights FOLDER)"
        ) from None


def from_folder(folder: str | Path, *, weights: str | None = None, device: str = "cpu"):
    """A :class:`Qwen3VLEmbedding` from a snapshot folder; ``weights="random"`` keeps the folder's
    config and processor and initialises the exact architecture under seed 0."""
    import torch
    from transformers import Qwen3VLConfig, Qwen3VLModel, Qwen3VLProcessor

    folder = Path(folder)
    if not (folder / "config.json").is_file():
        raise InputError(
            f"{folder}: expected a Qwen3-VL-Embedding snapshot with config.json, got none"
        )
    config = Qwen3VLConfig.from_pretrained(folder)
    processor = Qwen3VLProcessor.from_pretrained(folder, padding_side="right")
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(RANDOM_SEED)
        model = Qwen3VLModel(config)
    if weights == "random":
        tag = "random"
    else:
        from safetensors.torch import load_file

        files = sorted(folder.glob("*.safetensors"))
        if not files:
            raise InputError(f"{folder}: expected *.safetensors weights, got none")
        state: dict = {}
        for f in files:
            state.update(load_file(str(f)))
        load_state(model, state)
        tag = weights or _folder_tag(folder)
    return Qwen3VLEmbedding(model.to(device), processor, weights=tag)


def _is_revision(text: str) -> bool:
    return len(text) == 40 and all(c in "0123456789abcdef" for c in text)


def _folder_tag(folder: Path) -> str:
    """The snapshot's revision when it is a hub cache folder (``snapshots/<sha>``), else its
    path."""
    name = folder.resolve().name
    return name if _is_revision(name) else str(folder)


@register_encoder("qwen3-vl-embedding-2b")
def qwen3_vl_embedding_2b(weights: str | None = None, device: str = "cpu") -> Qwen3VLEmbedding:
    """``Qwen/Qwen3-VL-Embedding-2B``: ``weights`` None (the hub at :data:`REVISION`), a hub
    revision (40 hex digits), a snapshot folder, or ``"random"`` (the exact architecture)."""
    if weights is not None and Path(weights).is_dir():
        return from_folder(weights, device=device)
    if weights not in (None, "random") and not _is_revision(weights):
        raise InputError(
            f"--weights: expected a snapshot folder, a hub revision (40 hex digits) or random, "
            f"got {weights!r}"
        )
    if weights == "random":
        return from_folder(_snapshot(REVISION, config_only=True), weights="random", device=device)
    revision = weights or REVISION
    return from_folder(_snapshot(revision, config_only=False), weights=revision, device=device)
