"""Get the benchmarks onto disk: fetch + assemble (``download``), and read the built tables (ids,
``load_table``).

Data flows one way: pinned upstream files -> verified cache (``<home>/raw``) -> built Parquet and
dataset card (``<home>/built/<benchmark>/<version>``) -> these loaders.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.parquet as pq

from var_bench.benchmarks import BENCHMARKS, SPLITS, BenchmarkSpec, get_benchmark
from var_bench.benchmarks.sources import resolve_mirror
from var_bench.data.assembly.manifest import DATA_FILE, POSITIVES, QUERY_ID, VIDEOS_FILE, Manifest
from var_bench.data.integrity import INTEGRITY_FILE, IntegrityFacts
from var_bench.data.paths import built_dir, data_home, raw_dir
from var_bench.errors import DataError, InputError, NotBuiltError
from var_bench.fsutil import sha256_lines
from var_bench.locking import exclusive

if TYPE_CHECKING:  # pandas is imported only when needed (slow import)
    import pandas as pd

log = logging.getLogger(__name__)

PathLike = str | os.PathLike


def _current(spec: BenchmarkSpec, folder: Path) -> Manifest | None:
    """The folder's manifest if it is a complete build of this version from the pinned sources."""
    try:
        m = Manifest.read(folder)
    except InputError as e:  # a damaged build is rebuilt, as a missing one
        log.warning("%s; rebuilding", e)
        return None
    pinned = {s.key: s.sha256 for s in spec.sources.values()}
    if m is None or m.version != spec.version or m.sources != pinned:
        return None
    return m


def download(
    benchmarks: Iterable[str] | str | None = None,
    *,
    home: PathLike | None = None,
    mirror: str | None = None,
    progress: bool | None = None,
    rebuild: bool = False,
) -> dict[str, Manifest]:
    """Fetch, verify (sha256) and build benchmarks into the data home.

    Verified files are never fetched twice and an up-to-date build is not redone: a second call
    does no network work.

    Args:
        benchmarks: a name, several, or None for every registered benchmark.
        home: the data home (default ``$VAR_BENCH_HOME``, else the per-user cache folder).
        mirror: a folder or http(s) URL laid out ``<owner>-<repo>/<file>`` (default
            ``$VAR_BENCH_MIRROR``, else the pinned upstream URLs).
        progress: a bar on a terminal (None), always (True) or never (False).
        rebuild: build again even when the build is current.

    Returns:
        Each benchmark's build :class:`~var_bench.data.assembly.manifest.Manifest` (counts, id
        hashes, sources, the quirks repaired), by name.

    Raises:
        InputError: an unknown benchmark. DownloadError / DataError: a file that cannot be fetched
            or does not verify, upstream data that no longer matches the shipped checksums.

    Example:
        >>> manifests = download("ucfcrime-ar", mirror="../shared/data")  # doctest: +SKIP
        >>> manifests["ucfcrime-ar"].counts  # doctest: +SKIP
        {'train': 1448, 'val': 162, 'test': 290}
    """
    names = [benchmarks] if isinstance(benchmarks, str) else list(benchmarks or BENCHMARKS)
    specs = [get_benchmark(b) for b in names]
    mirror = resolve_mirror(mirror)
    # One downloader per home: a second one waits, then finds the files verified and the build
    # current (the raw cache and the built folders are shared between benchmarks).
    with exclusive(raw_dir(home), f"download into {data_home(home)}"):
        return _download(specs, home, mirror, progress, rebuild)


def _download(specs: list[BenchmarkSpec], home, mirror, progress, rebuild) -> dict[str, Manifest]:
    out: dict[str, Manifest] = {}
    for spec in specs:
        folder = built_dir(spec, home)
        manifest = None if rebuild else _current(spec, folder)
        if manifest is None:
            from var_bench.data.assembly.pipeline import assemble_into
            from var_bench.data.fetch import fetch_all

            roles = list(spec.sources)
            paths = fetch_all(
                [spec.sources[r] for r in roles], raw_dir(home), mirror, progress=progress
            )
            log.info("building %s into %s", spec.name, folder)
            manifest = assemble_into(spec, dict(zip(roles, map(Path, paths))), folder)
        out[spec.name] = manifest
    return out


def ensure_built(
    benchmark: str | BenchmarkSpec,
    *,
    home: PathLike | None = None,
    mirror: str | None = None,
    download_missing: bool = True,
) -> Path:
    """The built folder of ``benchmark``, downloading and building it first if needed
    (``download_missing``; else :class:`NotBuiltError` naming the command to run)."""
    spec = get_benchmark(benchmark)
    folder = built_dir(spec, home)
    if _current(spec, folder) is None:
        if not download_missing:
            raise NotBuiltError(
                f"{spec.name}: expected a built dataset in {data_home(home)}, found none; run "
                f"'var-bench download {spec.name}'"
            )
        download([spec.name], home=home, mirror=mirror)
    return folder


def split_names(split: str) -> list[str]:
    parts = [p.strip() for p in str(split).split("+")]
    bad = [p for p in parts if p not in SPLITS]
    if bad:
        raise InputError(
            f"split: expected one of {', '.join(SPLITS)} (or several joined with +), got {split!r}"
        )
    return parts


def read_split_table(folder: Path, split: str, columns: list[str] | None = None) -> pa.Table:
    return pq.read_table(folder / DATA_FILE.format(split=split), columns=columns)


def load_table(
    benchmark: str,
    split: str = "test",
    *,
    home: PathLike | None = None,
    mirror: str | None = None,
    download: bool = True,
    videos: bool = False,
) -> pd.DataFrame:
    """One split as a pandas DataFrame, in canonical order.

    Args:
        benchmark: the benchmark's name.
        split: ``train``, ``val``, ``test`` or several joined with ``+``.
        home, mirror, download: where the built dataset is; ``download=False`` never fetches.
        videos: the split's video (gallery) table, for a benchmark whose queries are not its
            videos (else the split itself, one row per video).

    Returns:
        The table: one row per video (or per query), the benchmark's columns (``docs/data.md``).

    Raises:
        InputError: an unknown split. NotBuiltError: nothing built and ``download`` is False.

    Example:
        >>> t = load_table("ucfcrime-ar", "test")  # doctest: +SKIP
        >>> len(t), t.columns[0]  # doctest: +SKIP
        (290, 'video_id')
    """
    folder = ensure_built(benchmark, home=home, mirror=mirror, download_missing=download)
    m = Manifest.read(folder)
    if videos and m is not None and m.videos_sha256 is not None:
        return pa.concat_tables(
            [pq.read_table(folder / VIDEOS_FILE.format(split=s)) for s in split_names(split)]
        ).to_pandas()
    return pa.concat_tables([read_split_table(folder, s) for s in split_names(split)]).to_pandas()


def ids(
    benchmark: str,
    split: str = "test",
    *,
    home: PathLike | None = None,
    mirror: str | None = None,
    download: bool = True,
    gallery: bool = False,
) -> list[str]:
    """Canonical ids of ``split`` in canonical (upstream) order, each list checked against the
    hash recorded at build time.

    Args:
        benchmark: the benchmark's name.
        split: ``train``, ``val``, ``test`` or several joined with ``+``.
        home, mirror, download: where the built dataset is (built on first use).
        gallery: the columns' ids (the videos) of a benchmark whose queries are not its videos;
            else the rows' (for UCFCrime-AR and XDViolence-AR the videos, whose caption or audio
            is the query: rows and columns alike).

    Returns:
        The ids: row i of a score matrix is id i.

    Raises:
        DataError: a built table edited since it was built.

    Example:
        >>> ids("ucfcrime-ar", "test")[:2]  # doctest: +SKIP
        ['Abuse028_x264', 'Abuse030_x264']
    """
    folder = ensure_built(benchmark, home=home, mirror=mirror, download_missing=download)
    return [v for s in split_names(split) for v in verified_ids(folder, s, gallery=gallery)]


def verified_ids(folder: Path, split: str, *, gallery: bool = False) -> list[str]:
    """The id column of a built split (``gallery``: of its video table, where the build has
    one), checked against the build's recorded sha256 (the hash result records claim): an edited
    or corrupted table is a :class:`DataError`, not a silent reordering of every score. Cheap: the
    id column alone is read."""
    m = Manifest.read(folder)
    videos = m is not None and m.videos_sha256 is not None
    if gallery and videos:
        path = folder / VIDEOS_FILE.format(split=split)
        got = pq.read_table(path, columns=["video_id"])["video_id"].to_pylist()
        want = m.videos_sha256.get(split)
    else:
        path = folder / DATA_FILE.format(split=split)
        key = QUERY_ID if videos and not gallery else "video_id"
        got = read_split_table(folder, split, [key])[key].to_pylist()
        want = (m.ids_sha256 or {}).get(split) if m is not None else None
    if want is None or sha256_lines(got) != want:
        raise DataError(
            f"{path}: expected the ids recorded at build time (sha256 {want}), got "
            f"{len(got)} ids hashing to {sha256_lines(got)}; the built table was "
            f"edited or is corrupt: run 'var-bench download --rebuild'"
        )
    return got


def gold_tables(
    spec: BenchmarkSpec, split: str, *, home: PathLike | None = None, mirror: str | None = None
) -> tuple[list[str], list[str], list[list[str]]]:
    """(query ids, gallery video ids, per query its positive video ids) of a built split whose
    queries are not its videos (a ``query_id`` column, positives in ``video_ids``, a video
    table), every id list checked against the build's hashes.

    Raises:
        DataError: the build has no video table, or a table was edited.
    """
    folder = ensure_built(spec, home=home, mirror=mirror)
    m = Manifest.read(folder)
    if m is None or m.videos_sha256 is None:
        raise DataError(
            f"{spec.name}: expected a build with video tables (a table gold), got "
            f"none in {folder}; run 'var-bench download {spec.name} --rebuild'"
        )
    queries = verified_ids(folder, split)
    gallery = verified_ids(folder, split, gallery=True)
    positives = read_split_table(folder, split, [POSITIVES])[POSITIVES].to_pylist()
    return queries, gallery, [list(p or ()) for p in positives]


def load_integrity(
    benchmark: str | BenchmarkSpec,
    *,
    home: str | os.PathLike | None = None,
    mirror: str | None = None,
    download_missing: bool = True,
) -> IntegrityFacts:
    """The integrity facts stored with the built dataset (built first when needed and
    ``download_missing``; else :class:`~var_bench.errors.NotBuiltError`)."""
    spec = get_benchmark(benchmark)
    folder = ensure_built(spec, home=home, mirror=mirror, download_missing=download_missing)
    path = folder / INTEGRITY_FILE
    try:
        raw = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError) as e:
        raise DataError(f"{path}: expected the build's integrity facts, got none ({e})") from None
    return IntegrityFacts.from_dict(raw, str(path))
