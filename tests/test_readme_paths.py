"""The README's paths ("One path per use"), replayed as written in a fresh venv made by the
README's own set-up command (``scripts/setup.sh train``), one block after another, timed.

Kept as cheap as is honest; what differs from the README is said here and nowhere hidden:
``download`` gets ``--mirror ../shared/data`` (no internet; the README says to add it offline);
the inputs a reader brings are made first (``submission.npy``, ``results/other.json``,
``theirs.eee.json``); commands run in a work folder, so ``scripts/`` is the checkout's;
``train`` runs one epoch of the tiny config (``--set train.epochs=1``, not
five); ``/tmp/ucf-synth`` is a temporary folder. Commands that need hours, videos or a GPU
(``reproduce``, ``sweep``, ``extract``, ``fingerprint`` of extracted features, ``zeroshot``,
``verify-videos``, ``index --videos``) run ``--help``
only. Slow and ``install``-marked: ``bash scripts/test.sh --install`` runs it; the timings go to
stdout (``-s``).
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("VAR_BENCH_SHARED_DATA", ROOT.parent / "shared" / "data"))
#: Commands that take hours, raw videos or a GPU: only their --help runs (so does `index MODEL
#: --videos DIR`, a zero-shot index of raw videos).
HELP_ONLY = ("reproduce", "sweep", "extract", "fingerprint", "zeroshot", "verify-videos")


def readme_paths() -> list[tuple[str, list[str]]]:
    """(the path's bold title, its ``var-bench``/``bash`` lines without comments) per bash block
    of the README's "One path per use" section."""
    text = (ROOT / "README.md").read_text("utf-8")
    section = text.split("## One path per use", 1)[1].split("\n## ", 1)[0]
    paths = []
    for title, block in re.findall(r"\*\*(.+?)\*\*.*?```bash\n(.*?)```", section, re.S):
        lines = [re.sub(r"\s+#.*$", "", line).strip() for line in block.splitlines()]
        paths.append((title, [line for line in lines if line]))
    return paths


def test_the_readme_has_the_paths_this_test_replays():
    titles = [t for t, _ in readme_paths()]
    assert len(titles) == 8 and titles[0].startswith("Score your own matrix"), titles
    assert any(line.startswith("var-bench train ") for _, ls in readme_paths() for line in ls)


def _adapt(line: str, synth: Path) -> str:
    line = line.replace("/tmp/ucf-synth", str(synth))
    line = line.replace("bash scripts/", f"bash {ROOT / 'scripts'}/")  # run from the work folder
    words = shlex.split(line)
    if words[:1] == ["var-bench"] and (
        words[1] in HELP_ONLY or (words[1] == "index" and "--videos" in words)
    ):
        return f"var-bench {words[1]} --help"
    if words[:2] == ["var-bench", "train"]:
        return line + " --set train.epochs=1"
    return line


@pytest.mark.slow
@pytest.mark.install
def test_readme_paths_in_a_fresh_venv(tmp_path):
    if not (SHARED / "SOURCES.md").is_file():
        pytest.skip(f"real upstream files not found at {SHARED} (set VAR_BENCH_SHARED_DATA)")
    venv, work = tmp_path / "venv", tmp_path / "work"
    work.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env.update(
        VENV=str(venv),
        PYTHON=sys.executable,
        VAR_BENCH_HOME=str(tmp_path / "home"),
        PATH=f"{venv / 'bin'}{os.pathsep}{os.environ['PATH']}",
        HF_HUB_OFFLINE="1",
    )
    times: list[tuple[str, float]] = []

    def sh(command: str, timeout: int = 1800) -> str:
        t0 = time.perf_counter()
        p = subprocess.run(
            ["bash", "-c", command],
            cwd=work,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        times.append((command, time.perf_counter() - t0))
        assert p.returncode == 0, f"{command}\n{p.stdout[-3000:]}\n{p.stderr[-3000:]}"
        return p.stdout + p.stderr

    sh(f"bash {ROOT / 'scripts' / 'setup.sh'} train")  # the train set-up includes the core one
    sh(f"var-bench download --mirror {SHARED}")
    # what a reader brings: a matrix of their own, another record, another tool's EEE record
    rng = np.random.default_rng(0)
    np.save(
        work / "submission.npy", (rng.standard_normal((290, 290)) + 2 * np.eye(290)).astype("f4")
    )
    np.save(work / "other.npy", rng.standard_normal((290, 290)).astype("f4"))
    sh("var-bench score other.npy --json results/other.json --name other")
    synth = tmp_path / "ucf-synth"
    per_path = {}
    for title, lines in readme_paths():
        start = len(times)
        if title.startswith("Share results"):
            sh("var-bench export results/other.json --to eee --output theirs.eee.json")
            start = len(times)
        for line in lines:
            out = sh(_adapt(line, synth))
            if line.startswith("var-bench train"):
                assert "rerun to resume" in out and "wrote " in out
        per_path[title] = sum(t for _, t in times[start:])
    assert (work / "report.html").read_text().startswith("<!DOCTYPE html>")
    assert (work / "results" / "theirs.eee.json").is_file() and (work / "board.html").is_file()
    for command, seconds in times:
        print(f"{seconds:8.1f} s  {command}")
    for title, seconds in per_path.items():
        print(f"{seconds:8.1f} s  path: {title}")
