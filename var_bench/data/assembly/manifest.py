"""``manifest.json``: what a built folder holds and what it was built from (no heavy imports)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

MANIFEST = "manifest.json"
#: Bump when the built folder's layout changes, so older builds are rebuilt.
BUILD_FORMAT = 1
#: Where each split's Parquet file lives inside a built folder.
DATA_FILE = "data/{split}.parquet"


@dataclass(frozen=True)
class Manifest:
    """What a built folder holds and what it was built from."""

    benchmark: str
    version: str
    build_format: int
    var_bench: str
    built_at: str
    counts: dict[str, int]
    ids_sha256: dict[str, str]
    sources: dict[str, str]
    notes: list[str]

    @classmethod
    def read(cls, folder: Path) -> "Manifest | None":
        """The folder's manifest, or None when absent, unreadable or of another build format."""
        try:
            raw = json.loads((folder / MANIFEST).read_text("utf-8"))
            m = cls(**raw)
        except (OSError, ValueError, TypeError):
            return None
        return m if m.build_format == BUILD_FORMAT else None
