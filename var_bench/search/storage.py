"""An index folder on disk: ``index.json`` (:class:`IndexInfo`) and its chunk files.

``index.json`` holds the identity (model, weights, feature set), the videos, their windows and
the chunk names; each ``chunk-<k>.safetensors`` holds the encoded outputs of one batch of videos
(gallery outputs ``g.*``, window outputs ``w.*``). Every file is written atomically, and a chunk
exists before ``index.json`` names it, so a killed build resumes from the last complete chunk.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch

from var_bench.errors import InputError
from var_bench.fsutil import atomic_write_text, atomic_writer

INDEX_FILE = "index.json"
INDEX_FORMAT = 1


@dataclass
class IndexInfo:
    """What ``index.json`` holds (see :mod:`var_bench.search.storage`)."""

    format: int
    benchmark: str
    model: str
    checkpoint: str
    weights_sha256: str
    query_modality: str
    streams: list[str]
    dims: dict[str, int]
    features: dict[str, Any]
    scores: dict[str, Any] | None
    snippet_frames: int
    fps: float
    videos: list[str] = field(default_factory=list)
    lengths: list[int] = field(default_factory=list)
    captions: list[str | None] = field(default_factory=list)
    #: per window: (video position, start snippet, end snippet)
    windows: list[list[int]] = field(default_factory=list)
    chunks: list[str] = field(default_factory=list)

    @classmethod
    def read(cls, folder: Path) -> IndexInfo:
        path = Path(folder) / INDEX_FILE
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise InputError(
                f"{folder}: expected an index folder with {INDEX_FILE}, got none "
                f"(make one with 'var-bench index')"
            ) from None
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
            raise InputError(f"{path}: expected the JSON of a var-bench index, got {e}") from None
        if not isinstance(raw, dict) or raw.get("format") != INDEX_FORMAT:
            raise InputError(
                f"{path}: expected index format {INDEX_FORMAT}, got "
                f"{raw.get('format') if isinstance(raw, dict) else type(raw).__name__}"
            )
        try:
            return cls(**raw)
        except TypeError as e:
            raise InputError(f"{path}: expected the fields of a var-bench index, got {e}") from None

    def write(self, folder: Path) -> None:
        atomic_write_text(Path(folder) / INDEX_FILE, json.dumps(asdict(self), indent=1) + "\n")

    def identity(self) -> dict[str, Any]:
        """What two indexes (or an index and a model) must share to be searched together."""
        return {
            "model": self.model,
            "weights_sha256": self.weights_sha256,
            "streams": list(self.streams),
            "dims": dict(self.dims),
            "features": {k: self.features.get(k) for k in ("synthetic", "streams", "dims")},
        }


def save_chunk(path: Path, gallery: dict, windows_out: dict) -> None:
    """Write one chunk: the gallery outputs (``g.<key>``) and window outputs (``w.<key>``) of a
    batch of videos, as one safetensors file, atomically."""
    from safetensors.torch import save

    tensors = {
        f"g.{k}": v.detach().cpu().contiguous()
        for k, v in gallery.items()
        if isinstance(v, torch.Tensor)
    }
    tensors.update(
        {
            f"w.{k}": v.detach().cpu().contiguous()
            for k, v in windows_out.items()
            if isinstance(v, torch.Tensor)
        }
    )
    with atomic_writer(path, "wb") as f:
        f.write(save(tensors))


def load_chunk(path: Path, device) -> tuple[dict, dict]:
    """The gallery and window outputs of one chunk file, on ``device``."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    try:
        tensors = load_file(str(path), device=str(device))
    except (OSError, SafetensorError) as e:
        raise InputError(f"{path}: expected an index chunk (safetensors), got {e}") from None
    g = {k[2:]: v for k, v in tensors.items() if k.startswith("g.")}
    w = {k[2:]: v for k, v in tensors.items() if k.startswith("w.")}
    return g, w
