"""Build one benchmark: verified raw files -> Parquet per split + dataset card + manifest.

The whole folder is written under a temporary name beside the destination and renamed into place,
so a reader sees either the previous complete build or the new complete build, never a mix.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import asdict
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Mapping

import datasets
import pyarrow.parquet as pq

from .._version import __version__
from ..benchmarks import SPLITS, BenchmarkSpec
from ..errors import DataError
from ..sources import source
from ..splitinfo import SplitInfo, check_ids, split_info
from . import ucfcrime, xdviolence
from .assembled import Assembled
from .card import render_card
from .manifest import BUILD_FORMAT, DATA_FILE, MANIFEST, Manifest
from .schema import features

_ASSEMBLERS: dict[str, Callable[..., Assembled]] = {
    "ucfcrime-ar": ucfcrime.assemble,
    "xdviolence-ar": xdviolence.assemble,
}


def assemble(spec: BenchmarkSpec, raw: Mapping[str, Path], info: SplitInfo | None = None) -> Assembled:
    """Parse and check the raw files (by role), carve val, verify every id list's checksum.

    ``info``: the split rule and checksums (default: the repository's ``splits/`` file).
    """
    info = info or split_info(spec)
    missing = [role for role in spec.sources if role not in raw]
    if missing:
        raise DataError(f"{spec.name}: expected raw files for {', '.join(spec.sources)}, "
                        f"missing {', '.join(missing)}")
    result = _ASSEMBLERS[spec.name](spec, raw, info.rule)
    for split in SPLITS:
        check_ids(spec, split, list(result.splits[split]["video_id"]), info)
    return result


def build(spec: BenchmarkSpec, raw: Mapping[str, Path], out_dir: Path,
          info: SplitInfo | None = None) -> Manifest:
    """Build ``spec`` from ``raw`` (role -> verified file) into ``out_dir``, atomically."""
    info = info or split_info(spec)
    result = assemble(spec, raw, info)
    out_dir = Path(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", suffix=".tmp", dir=out_dir.parent))
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
            table = datasets.Dataset.from_pandas(df, features=feats, preserve_index=False).data.table
            pq.write_table(table, path)
        (tmp / "README.md").write_text(render_card(spec, counts, result.notes), "utf-8")
        manifest = Manifest(
            benchmark=spec.name, version=spec.version, build_format=BUILD_FORMAT,
            var_bench=__version__,
            built_at=datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
            counts=counts,
            ids_sha256={s: info.ids_sha256[s] for s in SPLITS},
            sources={source(k).key: source(k).sha256 for k in spec.sources.values()},
            notes=list(result.notes),
        )
        (tmp / MANIFEST).write_text(json.dumps(asdict(manifest), indent=1) + "\n", "utf-8")
        _swap_into_place(tmp, out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return manifest


def _swap_into_place(new: Path, final: Path) -> None:
    """Rename ``new`` to ``final``; an existing ``final`` is moved aside first, then deleted."""
    old = None
    if final.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{final.name}.", suffix=".old", dir=final.parent))
        os.replace(final, old / final.name)
    os.replace(new, final)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
