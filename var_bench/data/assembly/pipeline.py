"""Assemble one benchmark: verified raw files -> Parquet per split + dataset card + manifest.

The whole folder is written under a temporary name beside the destination and renamed into place,
so a reader sees either the previous complete assembly or the new one, never a mix.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Mapping
from dataclasses import asdict
from datetime import datetime, timezone
from pathlib import Path

import datasets
import pyarrow as pa
import pyarrow.parquet as pq

from var_bench._version import __version__
from var_bench.benchmarks import SPLITS, BenchmarkSpec
from var_bench.benchmarks.kit import Assembled
from var_bench.data.assembly.card import render_card
from var_bench.data.assembly.manifest import (
    BUILD_FORMAT,
    DATA_FILE,
    MANIFEST,
    QUERY_ID,
    VIDEOS_FILE,
    Manifest,
)
from var_bench.data.assembly.schema import features
from var_bench.data.integrity import integrity_facts, write_integrity
from var_bench.data.splits import SplitInfo, check_ids, split_info
from var_bench.errors import DataError
from var_bench.fsutil import make_temp_dir, swap_into_place


def assemble(
    spec: BenchmarkSpec, raw: Mapping[str, Path], info: SplitInfo | None = None
) -> Assembled:
    """Parse and check the raw files (by role), carve val, verify every id list's checksum.

    ``info``: the split rule and checksums (default: the benchmark unit's ``splits.json``).
    """
    info = info or split_info(spec)
    missing = [role for role in spec.sources if role not in raw]
    if missing:
        raise DataError(
            f"{spec.name}: expected raw files for {', '.join(spec.sources)}, "
            f"missing {', '.join(missing)}"
        )
    result = spec.resolve_assembler()(spec, raw, info.rule)
    for split in SPLITS:
        table = result.splits[split]
        key = QUERY_ID if QUERY_ID in table else "video_id"
        check_ids(spec, split, list(table[key]), info)
        if result.videos is not None:
            check_ids(spec, split, list(result.videos[split]["video_id"]), info, videos=True)
    return result


def assemble_into(
    spec: BenchmarkSpec, raw: Mapping[str, Path], out_dir: Path, info: SplitInfo | None = None
) -> Manifest:
    """Assemble ``spec`` from ``raw`` (role -> verified file) into ``out_dir``, atomically."""
    info = info or split_info(spec)
    result = assemble(spec, raw, info)
    out_dir = Path(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = make_temp_dir(f".{out_dir.name}.", out_dir.parent, suffix=".tmp")
    try:
        feats = features(spec)
        counts = {}
        for split in SPLITS:
            df = result.splits[split][list(feats)]
            counts[split] = len(df)
            path = tmp / DATA_FILE.format(split=split)
            path.parent.mkdir(parents=True, exist_ok=True)
            # The Arrow table of a Dataset carries the features in its schema metadata, so the
            # Parquet file round-trips them (list columns, int32) for `datasets` readers.
            table = datasets.Dataset.from_pandas(
                df, features=feats, preserve_index=False
            ).data.table
            pq.write_table(table, path)
        videos_counts = None
        if result.videos is not None:
            videos_counts = {}
            for split in SPLITS:
                path = tmp / VIDEOS_FILE.format(split=split)
                path.parent.mkdir(parents=True, exist_ok=True)
                pq.write_table(
                    pa.Table.from_pandas(result.videos[split], preserve_index=False), path
                )
                videos_counts[split] = len(result.videos[split])
        (tmp / "README.md").write_text(render_card(spec, counts, result.notes), "utf-8")
        write_integrity(tmp, integrity_facts(spec, result))
        manifest = Manifest(
            benchmark=spec.name,
            version=spec.version,
            build_format=BUILD_FORMAT,
            var_bench=__version__,
            built_at=datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
            counts=counts,
            ids_sha256={s: info.ids_sha256[s] for s in SPLITS},
            sources={s.key: s.sha256 for s in spec.sources.values()},
            notes=list(result.notes),
            videos_counts=videos_counts,
            videos_sha256=(
                {s: info.videos_sha256[s] for s in SPLITS} if videos_counts is not None else None
            ),
        )
        (tmp / MANIFEST).write_text(json.dumps(asdict(manifest), indent=1) + "\n", "utf-8")
        swap_into_place(tmp, out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return manifest
