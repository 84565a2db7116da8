"""A command whose optional extra is missing says which extra to install (exit 2, one line).

The missing module is simulated in a fresh interpreter (``sys.modules[name] = None`` makes
``import name`` raise ``ModuleNotFoundError``), since this process already has torch.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from var_bench.extras import EXTRA_MODULES, extra_of, missing_extra_message

ROOT = Path(__file__).resolve().parents[2]


def run_without(modules: list[str], *args: str) -> subprocess.CompletedProcess:
    code = (
        "import sys\n"
        f"for m in {modules!r}: sys.modules[m] = None\n"
        "from var_bench.cli import main\n"
        f"main({list(args)!r})\n"
    )
    env = {**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    env.pop("VAR_BENCH_DEBUG", None)
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120
    )


@pytest.mark.parametrize(
    "args",
    [
        ["train", "--model", "alan", "--benchmark", "ucfcrime-ar"],
        ["evaluate", "runs/none", "--benchmark", "ucfcrime-ar"],
    ],
)
def test_missing_torch_names_the_models_extra(args, tmp_path):
    p = run_without(["torch"], *args, *(["--home", str(tmp_path)] if args[0] == "train" else []))
    assert p.returncode == 3, (p.stdout, p.stderr)
    assert "Traceback" not in p.stdout + p.stderr and "internal error" not in p.stdout
    lines = p.stdout.splitlines()
    assert lines == [
        f"var-bench: error: {args[0]} needs the models extra (no module named "
        f"'torch'): pip install -e '.[models]' in the var_bench checkout, or bash "
        f"scripts/setup.sh train"
    ], p.stdout
    assert lines[0] in p.stderr


def test_a_module_of_no_extra_is_still_an_internal_error():
    assert missing_extra_message("score", "no_such_module_of_ours") is None


def test_every_extra_module_maps_back_and_extras_exist_in_pyproject():
    text = (ROOT / "pyproject.toml").read_text()
    for extra, modules in EXTRA_MODULES.items():
        for m in modules:
            assert extra_of(f"{m}.sub") == extra
        if extra != "extract":  # defined with the feature extraction code
            assert f"\n{extra} = [" in text, extra
