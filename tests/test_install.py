"""The built wheel, installed (not editable) in a fresh venv, runs the user path end to end:
``download --mirror``, ``score``, ``synth`` + ``build``, ``train --config tiny`` and ``evaluate``.

Slow (a venv, torch from the local wheel cache, one tiny epoch); skipped without ../shared/data.
Every command runs from a folder outside the repository, so only the installed wheel is imported.
"""

from __future__ import annotations

import os
import subprocess
import sys
import venv
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("VAR_BENCH_SHARED_DATA", REPO.parent / "shared" / "data"))
#: Torch pinned as in the shared development venv (pip resolves it from the local wheel cache).
TORCH = "torch==2.13.0"
#: What a packaging warning looks like in pip / setuptools output.
WARNINGS = (
    "warning:",
    "SetuptoolsDeprecationWarning",
    "is importable but not listed",
    "Package would be ignored",
)


def _run(cmd: list, cwd: Path, env: dict | None = None, timeout: int = 900) -> str:
    p = subprocess.run(
        [str(c) for c in cmd], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout
    )
    assert p.returncode == 0, (
        f"{' '.join(map(str, cmd))} exited {p.returncode}:\n{p.stdout[-3000:]}\n{p.stderr[-3000:]}"
    )
    return p.stdout + p.stderr


def _packaging_warnings(log: str) -> list[str]:
    return [
        line
        for line in log.splitlines()
        if any(w in line for w in WARNINGS) and "byte-compiling is disabled" not in line
    ]


@pytest.mark.slow
@pytest.mark.install
def test_wheel_in_a_fresh_venv_runs_the_user_path(tmp_path):
    if not (SHARED_DATA / "SOURCES.md").is_file():
        pytest.skip(f"real upstream files not found at {SHARED_DATA} (set VAR_BENCH_SHARED_DATA)")
    pytest.importorskip(
        "build", reason="the wheel is built with 'python -m build' (pip install build)"
    )
    dist, work = tmp_path / "dist", tmp_path / "work"
    work.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VAR_BENCH_MIRROR")}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    # --no-isolation: the build backend of this interpreter (no index needed for setuptools).
    log = _run(
        [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", dist, REPO],
        tmp_path,
        env,
    )
    assert _packaging_warnings(log) == []
    wheel = next(dist.glob("var_bench-*.whl"))

    venv.create(tmp_path / "venv", with_pip=True)
    py = tmp_path / "venv" / "bin" / "python"
    _run([py, "-m", "pip", "install", "-q", TORCH], work, env)
    log = _run([py, "-m", "pip", "install", f"{wheel}[models,offline]"], work, env)
    assert _packaging_warnings(log) == []
    cli = tmp_path / "venv" / "bin" / "var-bench"
    env["VAR_BENCH_HOME"] = str(tmp_path / "home")
    where = _run([py, "-c", "import var_bench; print(var_bench.__file__)"], work, env)
    assert str(tmp_path / "venv") in where and str(REPO) not in where

    out = _run([cli, "download", "ucfcrime-ar", "--mirror", SHARED_DATA], work, env)
    assert "train 1444, val 166, test 290" in out
    _run(
        [py, "-c", "import numpy as np; np.save('s.npy', np.eye(290, dtype=np.float32))"], work, env
    )
    out = _run([cli, "score", "s.npy", "--benchmark", "ucfcrime-ar"], work, env)
    assert "SumR" in out and "600.0" in out  # the identity matrix: every R@K is 100

    # The smallest honest tree: one crop, a few snippets (time compressed 16x, as SYNTH_KNOBS do
    # 4x).
    _run(
        [
            cli,
            "synth",
            "-b",
            "ucfcrime-ar",
            "raw",
            "--crops",
            "1",
            "--snippets",
            "4",
            "--snippet-frames",
            "256",
            "--no-progress",
        ],
        work,
        env,
    )
    _run([cli, "build", "ucfcrime-ar", "--features", "raw", "--no-progress"], work, env)
    out = _run(
        [
            cli,
            "train",
            "--model",
            "ce",
            "--benchmark",
            "ucfcrime-ar",
            "--config",
            "tiny",
            "--out",
            "run",
            "--set",
            "train.epochs=1",
            "--device",
            "cpu",
        ],
        work,
        env,
    )
    assert "trained ce on ucfcrime-ar: 1 epochs" in out
    out = _run(
        [
            cli,
            "evaluate",
            "run/best",
            "--benchmark",
            "ucfcrime-ar",
            "--out",
            "sub.npz",
            "--device",
            "cpu",
        ],
        work,
        env,
    )
    assert "SumR" in out and (work / "sub.npz").is_file()
