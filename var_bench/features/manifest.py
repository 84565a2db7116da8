"""``manifest.json`` of a built feature store: what it holds and how it was built."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field, fields
from pathlib import Path

from var_bench.errors import InputError
from var_bench.fsutil import atomic_write_text

MANIFEST = "manifest.json"
#: Bump when the store's layout changes (loaders then refuse older stores).
BUILD_FORMAT = 2  # 2: Arrow IPC shards, crops per split, fingerprint
#: Shard paths inside a store, relative to it.
SHARD_FILE = "data/{split}/part-{index:05d}.arrow"
#: What a shard path in a manifest may be (no '..', no absolute path).
_SHARD_RE = re.compile(r"data/[A-Za-z0-9_-][A-Za-z0-9_.-]*/part-[0-9]{5}\.arrow")
#: Stored float dtypes (``--dtype``).
DTYPES: tuple[str, ...] = ("float32", "float16")


@dataclass(frozen=True)
class FeatureManifest:
    """What a feature store holds.

    ``layout``: stream -> raw layout name; ``streams``: stored stream columns in order;
    ``crops_mode``: the crop policy (mean | center | all | k, or ``split=mode,...``);
    ``num_crops``: C found in the raw visual files;
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
    #: split -> crop mode (mean | center | all | k); ``crops_mode`` is its canonical text.
    crops: dict[str, str] = field(default_factory=dict)
    #: The set digest of the feature set (:mod:`.fingerprint`); per stream in ``fingerprint.json``.
    features_digest: str | None = None
    #: stream -> name of the known release its digest matches (None: no match).
    matches: dict[str, str | None] = field(default_factory=dict)
    #: stream -> the list files its videos were taken from (empty: the whole folder; stores
    #: built before several lists per stream hold one path or None).
    lists: dict[str, list[str] | str | None] = field(default_factory=dict)
    #: stream -> C of the streams its ``all`` splits store ``[T, C, D]`` (others are ``[T, D]``).
    stream_crops: dict[str, int] = field(default_factory=dict)

    def split_crops(self, split: str) -> dict[str, int] | None:
        """stream -> C of ``split``'s ``[T, C, D]`` columns; None when it stores ``[T, D]`` only.
        (Stores written before ``stream_crops`` existed: ``num_crops`` for every stream but
        audio.)"""
        if self.crop_mode(split) != "all":
            return None
        if self.stream_crops:
            return dict(self.stream_crops)
        return {s: self.num_crops for s in self.streams if s != "audio" and self.num_crops}

    def crop_mode(self, split: str) -> str:
        """The crop mode of ``split`` (``crops_mode`` for stores without a per-split policy)."""
        return self.crops.get(split, self.crops_mode)

    def __post_init__(self) -> None:
        # shard paths are opened relative to the store: only the names the build writes
        for split, paths in self.shards.items():
            for k, rel in enumerate(paths):
                if not _SHARD_RE.fullmatch(rel):
                    raise InputError(
                        f"field shards.{split}.{k}: expected a shard path like "
                        f"{SHARD_FILE.format(split='test', index=0)} inside the store, got "
                        f"{rel[:120]!r}"
                    )

    @classmethod
    def read(cls, folder: Path) -> FeatureManifest | None:
        """The folder's manifest, validated against this dataclass
        (:func:`var_bench.readback.validate`); None when absent or of another build format.
        InputError (naming the file and the field) when it is tampered or truncated."""
        from var_bench.readback import read_json, validate

        path = Path(folder) / MANIFEST
        try:
            raw = read_json(path, "feature store manifest")
        except FileNotFoundError:
            return None
        except OSError as e:
            raise InputError(f"{path}: expected a readable manifest, got {e}") from None
        if not isinstance(raw, dict) or raw.get("build_format") != BUILD_FORMAT:
            return None
        return validate(cls, raw, path)

    def write(self, folder: Path) -> None:
        """Write ``manifest.json`` into ``folder`` atomically."""
        # fields one level deep, not asdict: every value is JSON already, and asdict's deep copy
        # of the id lists took 10 ms of a 0.35 s build
        data = {f.name: getattr(self, f.name) for f in fields(self)}
        atomic_write_text(Path(folder) / MANIFEST, json.dumps(data, indent=1) + "\n")
