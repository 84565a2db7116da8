"""Fixtures of the feature-store tests: a raw UCFCrime-AR tree on a built data home, and a
store built from it and exported to HDF5 (per test, or once per module for tests that only read
it)."""

from __future__ import annotations

import shutil

import pytest
from support.featuretrees import write_tree

from var_bench.features import build_features
from var_bench.features.hdf5 import export_h5

UCF = "ucfcrime-ar"


def _write_ucf_tree(ids: dict, raw):
    write_tree(raw, "ucf-crops", {"train": ids["train"] + ids["val"], "test": ids["test"]})
    return ids, raw


def _build_and_export(ids: dict, raw, h5):
    build_features(UCF, raw)
    return ids, raw, export_h5(UCF, h5)


@pytest.fixture
def ucf_tree(built_home, tmp_path):
    """A raw ``ucf-crops`` tree of every UCFCrime-AR id, on a built data home: (ids by split,
    the tree's root)."""
    return _write_ucf_tree(built_home[UCF].expected, tmp_path / "ucf")


@pytest.fixture
def ucf_store(ucf_tree, tmp_path):
    """``ucf_tree`` built into the home's store and exported to ``good.h5``: (ids by split, the
    tree's root, the HDF5 file)."""
    return _build_and_export(*ucf_tree, tmp_path / "good.h5")


@pytest.fixture(scope="module")
def _module_ucf_store(_built_template, tmp_path_factory):
    """A copy of the session's built data home with ``ucf_store`` in it, made once per module:
    (home, (ids by split, the tree's root, the HDF5 file))."""
    template, fixtures = _built_template
    root = tmp_path_factory.mktemp("ucf-store")
    home = root / "home"
    shutil.copytree(template, home)
    ids = {s: list(v) for s, v in fixtures[UCF].expected.items()}
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("VAR_BENCH_HOME", str(home))
        store = _build_and_export(*_write_ucf_tree(ids, root / "ucf"), root / "good.h5")
    return home, store


@pytest.fixture
def shared_ucf_store(_module_ucf_store, monkeypatch):
    """``ucf_store`` shared by the tests of a module, which must leave the store as they found
    it (and check that they do): the data home is set to the shared one."""
    home, store = _module_ucf_store
    monkeypatch.setenv("VAR_BENCH_HOME", str(home))
    return store
