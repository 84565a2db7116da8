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
from typing import Annotated, Any, Literal

import numpy as np
import torch
from pydantic import Field
from typing_extensions import Required, TypedDict

from var_bench.errors import InputError
from var_bench.features.validators import MAX_SNIPPETS
from var_bench.fsutil import atomic_write_text, atomic_writer
from var_bench.limits import check
from var_bench.readback import read_json, validate

INDEX_FILE = "index.json"
INDEX_FORMAT = 1


#: A chunk's file name (``index.json`` names nothing else: no folder, no ``..``).
CHUNK_PATTERN = r"^chunk-[0-9]{5}\.safetensors$"


class IndexScores(TypedDict, total=False):
    """The benchmark scores of an index of a benchmark split (``index.json`` ``scores``)."""

    split: Required[str]
    main_score: str
    score: float
    SumR: float  # indexes written before the main score was named
    metrics: dict[str, dict[str, float]]


@dataclass
class IndexInfo:
    """What ``index.json`` holds (see :mod:`var_bench.search.storage`): the schema it is read
    back with (:func:`var_bench.readback.validate`); ``__post_init__`` checks what types cannot
    (equal lengths, windows naming existing videos and snippets, the index-size bounds)."""

    format: int
    benchmark: str
    model: str
    checkpoint: str
    weights_sha256: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
    query_modality: Literal["text", "audio"]
    streams: list[str]
    dims: dict[str, Annotated[int, Field(ge=1)]]
    features: dict[str, Any]
    scores: IndexScores | None
    snippet_frames: Annotated[int, Field(ge=1, le=1 << 20)]
    fps: Annotated[float, Field(gt=0, le=1e6)]
    videos: list[str] = field(default_factory=list)
    lengths: list[Annotated[int, Field(ge=1, le=MAX_SNIPPETS)]] = field(default_factory=list)
    captions: list[str | None] = field(default_factory=list)
    #: per window: (video position, start snippet, end snippet)
    windows: list[Annotated[list[int], Field(min_length=3, max_length=3)]] = field(
        default_factory=list
    )
    chunks: list[Annotated[str, Field(pattern=CHUNK_PATTERN)]] = field(default_factory=list)

    def __post_init__(self) -> None:
        check("index_videos", "index videos", len(self.videos))
        check("index_windows", "index windows", len(self.windows))
        n = len(self.videos)
        if not len(self.lengths) == len(self.captions) == n:
            raise InputError(
                f"expected videos, lengths and captions of one length, got {n}, "
                f"{len(self.lengths)}, {len(self.captions)}"
            )
        if len(set(self.videos)) != n:
            raise InputError("videos: expected distinct video ids, got repeats")
        if self.windows:
            w = np.asarray(self.windows, dtype=np.int64).reshape(-1, 3)
            v, a, b = w[:, 0], w[:, 1], w[:, 2]
            ok = (v >= 0) & (v < n)
            lengths = np.asarray(self.lengths, dtype=np.int64)
            ok &= (a >= 0) & (a < b) & (b <= np.where(ok, lengths[np.clip(v, 0, max(n - 1, 0))], 0))
            if not ok.all():
                k = int(np.flatnonzero(~ok)[0])
                raise InputError(
                    f"windows.{k}: expected [video position < {n}, start, end] with "
                    f"0 <= start < end <= the video's length, got {self.windows[k]}"
                )
            covered = np.zeros(n, dtype=bool)
            covered[v] = True
        else:
            covered = np.zeros(n, dtype=bool)
        if n and not covered.all():
            j = int(np.flatnonzero(~covered)[0])
            raise InputError(f"windows: expected at least one window per video, got none for {j}")

    @classmethod
    def read(cls, folder: Path) -> IndexInfo:
        path = Path(folder) / INDEX_FILE
        try:
            raw = read_json(path, "index")
        except FileNotFoundError:
            raise InputError(
                f"{folder}: expected an index folder with {INDEX_FILE}, got none "
                f"(make one with 'var-bench index')"
            ) from None
        except OSError as e:
            raise InputError(f"{path}: expected the JSON of a var-bench index, got {e}") from None
        if not isinstance(raw, dict) or raw.get("format") != INDEX_FORMAT:
            raise InputError(
                f"{path}: expected index format {INDEX_FORMAT}, got "
                f"{raw.get('format') if isinstance(raw, dict) else type(raw).__name__}"
            )
        return validate(cls, raw, path)

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
