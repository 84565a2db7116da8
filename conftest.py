"""Collection policy for the whole run (``tests/`` and the doctests in ``var_bench/``).

``pytest`` collects every docstring example in ``var_bench`` (``--doctest-modules`` in
pyproject.toml). The modules that import the ``models`` extra (torch, transformers, spacy,
safetensors, pyyaml) at import time are not collected where that extra is missing, so a
scoring-only install still collects cleanly.
"""

from __future__ import annotations

import importlib.util

import pytest

#: Import names of the ``models`` extra.
MODELS_EXTRA = ("torch", "transformers", "spacy", "safetensors", "yaml")
#: Modules (globs, relative to this folder) that need the ``models`` extra to be imported.
NEEDS_MODELS_EXTRA = [
    "var_bench/models/*",
    "var_bench/training/*",
    "var_bench/loaders/dataset.py",
    "var_bench/loaders/batching.py",
]

collect_ignore_glob = (
    [] if all(importlib.util.find_spec(m) for m in MODELS_EXTRA) else NEEDS_MODELS_EXTRA
)


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path_factory, monkeypatch):
    """Never touch the user's data home or pick up their mirror from the environment."""
    monkeypatch.setenv("VAR_BENCH_HOME", str(tmp_path_factory.mktemp("home")))
    monkeypatch.delenv("VAR_BENCH_MIRROR", raising=False)


@pytest.fixture(autouse=True)
def _logging_state_reset():
    """Each test starts with the library's defaults (not quiet, var_bench's log level unset): a
    fixture or test that runs the click group directly (``CliRunner().invoke(cli, ...)`` skips
    ``main``'s restore) must not leave ``--quiet`` to the tests after it."""
    import logging

    from var_bench import progress

    progress.set_quiet(False)
    logging.getLogger("var_bench").setLevel(logging.NOTSET)
    yield
