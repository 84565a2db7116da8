"""One writer per data home (issue 11, report F18, F19, D21): several builds (other dtypes),
imports and downloads into one home in parallel processes, several rounds; afterwards the store
always loads and matches its manifest, and every run exits 0 (it waited for the lock)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from support.featuretrees import write_tree

import var_bench
from var_bench.benchmarks import get_benchmark
from var_bench.data.paths import features_dir
from var_bench.features import FeatureManifest, build_features
from var_bench.features.hdf5 import export_h5
from var_bench.features.store import read_shard

UCF = "ucfcrime-ar"
ROOT = Path(__file__).resolve().parents[2]


def _check_store() -> None:
    folder = features_dir(get_benchmark(UCF))
    m = FeatureManifest.read(folder)
    assert m is not None
    want = {"float32": "float", "float16": "halffloat"}[m.dtype]
    for shards in m.shards.values():
        for rel in shards:
            storage = str(read_shard(folder / rel).schema.field("rgb").type.storage_type)
            assert f"item: {want}>" in storage, (m.dtype, storage)  # shards as the manifest says
    for split in m.shards:
        ds = var_bench.load_dataset(UCF, split, features=True, download=False)
        assert len(ds) == m.counts[split]


def test_parallel_builds_and_imports_never_install_a_corrupt_store(built_home, tmp_path) -> None:
    ids = built_home[UCF].expected
    raw = tmp_path / "ucf"
    write_tree(raw, "ucf-crops", {"train": ids["train"] + ids["val"], "test": ids["test"]}, T=40)
    build_features(UCF, raw)
    h5 = export_h5(UCF, tmp_path / "store.h5")
    env = dict(os.environ, PYTHONPATH=f"{ROOT}{os.pathsep}{os.environ.get('PYTHONPATH', '')}")
    cmds = [
        ["build", UCF, "--features", str(raw), "--dtype", "float32"],
        ["build", UCF, "--features", str(raw), "--dtype", "float16"],
        ["import-h5", UCF, str(h5)],
    ]
    for round_ in range(2):
        procs = [
            subprocess.Popen(
                [sys.executable, "-m", "var_bench", *cmd],
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for cmd in (cmds[round_:] + cmds[:round_])
        ]
        for p in procs:
            out, err = p.communicate(timeout=120)
            assert p.returncode == 0, (out, err)
            assert "Traceback" not in err
        _check_store()


def test_the_home_lock_serialises_writers(tmp_path) -> None:
    """Four processes read-modify-write one file under the download lock: no update is lost."""
    home = tmp_path / "fresh"
    env = dict(os.environ, PYTHONPATH=f"{ROOT}{os.pathsep}{os.environ.get('PYTHONPATH', '')}")
    script = (
        "import sys, time, pathlib; from var_bench.locking import exclusive; "
        "from var_bench.data.paths import raw_dir\n"
        "p = pathlib.Path(sys.argv[1])\n"
        "with exclusive(raw_dir(p), 'download'):\n"
        "    f = p / 'count'; n = int(f.read_text()) if f.exists() else 0\n"
        "    time.sleep(0.2); f.write_text(str(n + 1))\n"
    )
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", script, str(home)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    for p in procs:
        _, err = p.communicate(timeout=60)
        assert p.returncode == 0, err
    assert (home / "count").read_text() == "4"


@pytest.mark.shared_data
@pytest.mark.slow  # three real metadata builds in parallel: ~1 min on a loaded 2-core machine
def test_D21_parallel_downloads_into_a_fresh_home(shared_data, tmp_path) -> None:
    home = tmp_path / "fresh"
    env = dict(os.environ, PYTHONPATH=f"{ROOT}{os.pathsep}{os.environ.get('PYTHONPATH', '')}")
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "var_bench",
                "download",
                UCF,
                "--home",
                str(home),
                "--mirror",
                str(shared_data),
            ],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(3)
    ]
    for p in procs:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, (out, err)
    assert var_bench.ids(UCF, "test", home=home, download=False)
