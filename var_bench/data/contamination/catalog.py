"""The contamination registry: derived datasets that re-annotate the benchmarks' videos, and which
test videos a declared training set holds.

The registry is data (``registry.json`` beside this module): per derived dataset its name and
aliases, the video collections it draws on, where its annotations are and, where they are public
in a repository, the pinned annotation files (:class:`~var_bench.benchmarks.sources.SourceFile`,
fetched and verified by the same code as the benchmarks' files, ``--mirror`` included). The test
videos a dataset holds are computed from those files, never typed in; without files they are
unknown.

:func:`training_overlaps` resolves a ``training_data`` disclosure: each name in it (split on
``+``, ``,``, ``;``, ``&``) is first a registered benchmark (its train and val videos), then a
registry entry (its training annotation files), compared with the scored benchmark's test videos
when both are over the same video collection.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from var_bench.benchmarks import BENCHMARKS, BenchmarkSpec, get_benchmark
from var_bench.benchmarks.sources import SourceFile
from var_bench.errors import DataError, DownloadError, InputError, NotBuiltError

REGISTRY_FILE = "registry.json"
REGISTRY_SCHEMA = 1
#: Names in a training-data disclosure that mean the scored benchmark's own splits.
OWN_SPLITS = frozenset({"", "train", "val", "train+val", "none", "train split", "train and val"})
#: Overlap status: the set holds test videos, holds none, or it cannot be told.
OVERLAP, CLEAN, UNKNOWN = "overlap", "none", "unknown"
_SPLIT = re.compile(r"[+,;&]")


@dataclass(frozen=True)
class RegistryEntry:
    """One derived dataset. ``files``: role (``train``, ``val``, ``test``) -> pinned annotation
    file, empty when not public in a repository; ``training``: the roles a model trained "on"
    the dataset learned from; ``format``: how the files name videos (``json-keys``: a JSON
    object keyed by video name)."""

    name: str
    title: str
    collections: tuple[str, ...]
    where: str
    note: str
    aliases: tuple[str, ...] = ()
    license: str | None = None
    format: str | None = None
    training: tuple[str, ...] = ()
    files: Mapping[str, SourceFile] = field(default_factory=dict)

    @property
    def pinned(self) -> bool:
        return bool(self.files)

    def matches(self, text: str) -> bool:
        """Whether ``text`` names this dataset (its name or an alias as whole words)."""
        return any(
            re.search(rf"(?<![\w-]){re.escape(n)}(?![\w-])", text, re.I)
            for n in (self.name, *self.aliases)
        )


def _entry(raw: Mapping[str, Any]) -> RegistryEntry:
    files = {
        role: SourceFile(
            f["owner"],
            f["repo"],
            f["commit"],
            f["path"],
            int(f["size"]),
            f["sha256"],
            raw.get("license") or "not stated",
            f"{raw['name']} annotations ({role})",
        )
        for role, f in (raw.get("files") or {}).items()
    }
    return RegistryEntry(
        name=raw["name"],
        title=raw["title"],
        collections=tuple(raw["collections"]),
        where=raw["where"],
        note=raw.get("note", ""),
        aliases=tuple(raw.get("aliases", ())),
        license=raw.get("license"),
        format=raw.get("format"),
        training=tuple(raw.get("training", ())),
        files=files,
    )


def parse_registry(text: str, where: str = REGISTRY_FILE) -> tuple[RegistryEntry, ...]:
    """The entries of a registry file.

    Raises:
        DataError: another schema, a malformed entry, or a pinned entry without a format.
    """
    try:
        raw = json.loads(text)
        if raw["schema"] != REGISTRY_SCHEMA:
            raise DataError(f"{where}: expected schema {REGISTRY_SCHEMA}, got {raw['schema']}")
        entries = tuple(_entry(e) for e in raw["entries"])
    except (KeyError, TypeError, ValueError) as e:
        raise DataError(f"{where}: expected registry entries, got a malformed file ({e})") from None
    for e in entries:
        if e.files and e.format not in FORMATS:
            raise DataError(
                f"{where} {e.name}: expected a format among {', '.join(FORMATS)} for its files, "
                f"got {e.format!r}"
            )
    return entries


@cache
def registry_entries() -> tuple[RegistryEntry, ...]:
    """The shipped registry's entries, in file order."""
    text = resources.files(__package__).joinpath(REGISTRY_FILE).read_text("utf-8")
    return parse_registry(text)


def find_entry(text: str, entries: tuple[RegistryEntry, ...] | None = None) -> RegistryEntry | None:
    """The registry entry ``text`` names (case-insensitive, name or alias; in ``entries``, by
    default the shipped registry), else None.

    Example:
        >>> find_entry("UCA captions").name, find_entry("holmes-vau").name
        ('UCA', 'HIVAU-70k')
        >>> find_entry("my own data") is None
        True
    """
    return next((e for e in entries or registry_entries() if e.matches(text)), None)


def json_keys(path: Path) -> list[str]:
    """Video names of a JSON object keyed by video name (UCA's ``UCFCrime_*.json``)."""
    try:
        raw = json.loads(Path(path).read_text("utf-8"))
    except (OSError, ValueError) as e:
        raise DataError(f"{path}: expected a JSON object keyed by video name ({e})") from None
    if not isinstance(raw, dict):
        raise DataError(f"{path}: expected a JSON object keyed by video name, got a list or value")
    return [str(k) for k in raw]


#: Annotation file formats -> the reader of their video names.
FORMATS = {"json-keys": json_keys}


def entry_videos(
    entry: RegistryEntry,
    role: str,
    *,
    home: str | os.PathLike | None = None,
    mirror: str | None = None,
    download: bool = True,
) -> list[str]:
    """The video names of one of ``entry``'s pinned annotation files, fetched and verified into
    the data home's raw cache first (``download``; else :class:`NotBuiltError` when absent)."""
    from var_bench.data.fetch import cached_path, fetch
    from var_bench.data.paths import raw_dir

    src = entry.files[role]
    path = cached_path(src, raw_dir(home))
    if not download and not path.is_file():
        raise NotBuiltError(f"{entry.name} {role}: annotation file not fetched ({src.key})")
    if download:
        path = fetch(src, raw_dir(home), mirror, progress=False)
    return FORMATS[entry.format](path)  # type: ignore[index]


@dataclass(frozen=True)
class Overlap:
    """What one name of a training-data disclosure means for the scored test split.

    ``kind``: ``benchmark`` (a registered one), ``registry`` (a contamination-registry entry) or
    ``unregistered``; ``status``: :data:`OVERLAP`, :data:`CLEAN` or :data:`UNKNOWN`;
    ``test_videos``: how many of the ``of`` test videos it holds (None when unknown).
    """

    name: str
    kind: str
    status: str
    test_videos: int | None
    of: int | None
    note: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "status": self.status,
            "test_videos": self.test_videos,
            "of": self.of,
            "note": self.note,
        }

    @property
    def flag(self) -> str | None:
        """The one-line flag (score output, leaderboard); None for a clean name."""
        if self.status == OVERLAP:
            return f"in-training: {self.name} holds {self.test_videos} of {self.of} test videos"
        if self.status == UNKNOWN and self.kind == "registry":
            return f"in-training unknown: {self.name} ({self.note})"
        return None


def _collection(spec: BenchmarkSpec) -> str:
    return spec.videos.name if spec.videos is not None else spec.name


def training_overlaps(
    benchmark: str | BenchmarkSpec,
    training_data: str | None,
    *,
    split: str = "test",
    home: str | os.PathLike | None = None,
    mirror: str | None = None,
    download: bool = True,
    entries: tuple[RegistryEntry, ...] | None = None,
) -> list[Overlap]:
    """Resolve a ``training_data`` disclosure against ``benchmark``'s ``split`` videos.

    Args:
        benchmark: the scored benchmark.
        training_data: the disclosure text, e.g. ``"train + UCA"`` or ``"uca"``.
        split: the scored split.
        home, mirror, download: where the built datasets and the fetched annotation files are
            (built or fetched first when ``download``; else what is not at hand is unknown).
        entries: the registry (default: the shipped one).

    Returns:
        One :class:`Overlap` per name in the text that is not the benchmark's own split.
    """
    spec = get_benchmark(benchmark)
    out: list[Overlap] = []
    for token in _SPLIT.split(training_data or ""):
        # a remark in brackets ("none (zero-shot)") says how, not what: it names no data
        name = " ".join(re.sub(r"\([^)]*\)", " ", token).split())
        if name.lower() in OWN_SPLITS:
            continue
        other = BENCHMARKS.get(name.lower())
        if other is not None:
            out.append(_benchmark_overlap(spec, other, split, home, mirror, download))
            continue
        entry = find_entry(name, entries)
        if entry is not None:
            out.append(_entry_overlap(spec, entry, split, home, mirror, download))
        else:
            out.append(
                Overlap(
                    name, "unregistered", UNKNOWN, None, None, "not a benchmark or registry entry"
                )
            )
    return out


def _test_ids(spec, split, home, mirror, download) -> list[str]:
    from var_bench.data.prepare import ids

    return ids(spec.name, split, home=home, mirror=mirror, download=download, gallery=True)


def _training_splits(spec: BenchmarkSpec) -> str:
    """The splits a model trained on ``spec`` has seen: train and a validation split carved from
    upstream train (UCFCrime-AR's val videos are upstream training videos), or train alone when
    the benchmark ships its own val split (UCA's val is upstream's held-out set)."""
    from var_bench.data.splits import split_info

    return "train+val" if split_info(spec).rule is not None else "train"


def _benchmark_overlap(spec, other, split, home, mirror, download) -> Overlap:
    if _collection(other) != _collection(spec):
        return Overlap(other.title, "benchmark", CLEAN, 0, None, "other video collection")
    try:
        test = set(_test_ids(spec, split, home, mirror, download))
        used = _training_splits(other) if other.name != spec.name or split == "test" else "train"
        trained = set(_test_ids(other, used, home, mirror, download))
    except (NotBuiltError, DownloadError, DataError, InputError) as e:
        return Overlap(other.title, "benchmark", UNKNOWN, None, None, str(e))
    return _counted(other.title, "benchmark", test, trained, f"{other.title} {used}", spec, split)


def _counted(name, kind, test: set, trained: set, what: str, spec, split) -> Overlap:
    """The overlap of ``trained`` with the scored ``test`` videos (``what``: the training side,
    in words)."""
    n = len(test & trained)
    return Overlap(
        name, kind, OVERLAP if n else CLEAN, n, len(test), f"{what} vs {spec.title} {split}"
    )


def entry_overlaps(
    entry: RegistryEntry,
    benchmark: str | BenchmarkSpec,
    *,
    split: str = "test",
    home: str | os.PathLike | None = None,
    mirror: str | None = None,
    download: bool = True,
) -> dict[str, int] | None:
    """Per annotation file of ``entry`` (role), how many of ``benchmark``'s ``split`` videos it
    names; None when the entry has no pinned files or draws on other videos."""
    spec = get_benchmark(benchmark)
    if not entry.pinned or _collection(spec) not in entry.collections:
        return None
    test = set(_test_ids(spec, split, home, mirror, download))
    return {
        role: len(
            test & set(entry_videos(entry, role, home=home, mirror=mirror, download=download))
        )
        for role in entry.files
    }


def _entry_overlap(spec, entry, split, home, mirror, download) -> Overlap:
    if _collection(spec) not in entry.collections:
        return Overlap(entry.name, "registry", CLEAN, 0, None, "other video collection")
    if not entry.pinned:
        return Overlap(
            entry.name, "registry", UNKNOWN, None, None, f"annotations not pinned: {entry.where}"
        )
    try:
        test = set(_test_ids(spec, split, home, mirror, download))
        trained: set[str] = set()
        for role in entry.training:
            trained |= set(entry_videos(entry, role, home=home, mirror=mirror, download=download))
    except (NotBuiltError, DownloadError, DataError, InputError) as e:
        return Overlap(entry.name, "registry", UNKNOWN, None, None, str(e))
    what = f"{entry.name} {'+'.join(entry.training)} annotations"
    return _counted(entry.name, "registry", test, trained, what, spec, split)
