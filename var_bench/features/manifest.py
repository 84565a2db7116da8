"""``manifest.json`` of a built feature store: what it holds and how it was built."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from var_bench.fsutil import atomic_write_text

MANIFEST = "manifest.json"
#: Bump when the store's layout changes (loaders then refuse older stores).
BUILD_FORMAT = 1
#: Shard paths inside a store, relative to it.
SHARD_FILE = "data/{split}/part-{index:05d}.parquet"
#: Stored float dtypes (``--dtype``).
DTYPES: tuple[str, ...] = ("float32", "float16")


@dataclass(frozen=True)
class FeatureManifest:
    """What a feature store holds.

    ``layout``: stream -> raw layout name; ``streams``: stored stream columns in order;
    ``crops_mode``: mean | center | all; ``num_crops``: C found in the raw visual files;
    ``dtype``: stored float dtype; ``dims``: stream -> D; ``snippet_frames``: F (frames per
    snippet) used for the labels; ``synthetic``: the synth marker of a synthetic tree, else None;
    ``counts``: split -> rows; ``missing``: split -> ids absent from the raw trees (built with
    ``allow_missing``); ``trimmed``: split -> videos whose streams were trimmed to a common T;
    ``shards``: split -> relative Parquet paths; ``ids_sha256``: the metadata build's id-list
    checksums (a store whose checksums differ from the metadata build is stale).
    """

    benchmark: str
    version: str
    build_format: int
    var_bench: str
    built_at: str
    layout: dict[str, str]
    streams: list[str]
    crops_mode: str
    num_crops: int | None
    dtype: str
    dims: dict[str, int]
    snippet_frames: int
    synthetic: dict | None
    counts: dict[str, int]
    missing: dict[str, list[str]]
    trimmed: dict[str, int]
    shards: dict[str, list[str]]
    ids_sha256: dict[str, str]
    notes: list[str] = field(default_factory=list)

    @classmethod
    def read(cls, folder: Path) -> "FeatureManifest | None":
        """The folder's manifest, or None when absent, unreadable or of another build format."""
        try:
            raw = json.loads((Path(folder) / MANIFEST).read_text("utf-8"))
            m = cls(**raw)
        except (OSError, ValueError, TypeError):
            return None
        return m if m.build_format == BUILD_FORMAT else None

    def write(self, folder: Path) -> None:
        """Write ``manifest.json`` into ``folder`` atomically."""
        atomic_write_text(Path(folder) / MANIFEST, json.dumps(asdict(self), indent=1) + "\n")
