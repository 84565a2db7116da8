"""``manifest.json``: what a built folder holds and what it was built from (no heavy imports)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

MANIFEST = "manifest.json"
#: Bump when the built folder's layout changes, so older builds are rebuilt.
BUILD_FORMAT = 2  # 2: integrity.json (source clips, caption duplicates)
#: Where each split's Parquet file lives inside a built folder.
DATA_FILE = "data/{split}.parquet"
#: Where each split's gallery (video) table lives, for a benchmark whose queries are not its
#: videos (a table gold: each query row names its positive videos).
VIDEOS_FILE = "videos/{split}.parquet"
#: The column of a query table naming each query, when the queries are not the videos.
QUERY_ID = "query_id"
#: The column of a query table listing each query's positive videos.
POSITIVES = "video_ids"


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
    #: Per split, the gallery (video) table's rows and id-list hash, when the build has one.
    videos_counts: dict[str, int] | None = None
    videos_sha256: dict[str, str] | None = None

    @classmethod
    def read(cls, folder: Path) -> Manifest | None:
        """The folder's manifest, validated against this dataclass
        (:func:`var_bench.readback.validate`); None when absent or of another build format.
        InputError (naming the file and the field) when it is tampered or truncated."""
        from var_bench.errors import InputError
        from var_bench.readback import read_json, validate

        path = Path(folder) / MANIFEST
        try:
            raw = read_json(path, "manifest")
        except FileNotFoundError:
            return None
        except OSError as e:
            raise InputError(f"{path}: expected a readable manifest, got {e}") from None
        if not isinstance(raw, dict) or raw.get("build_format") != BUILD_FORMAT:
            return None
        return validate(cls, raw, path)
