"""Fixtures of the feature-store tests: a UCFCrime-AR store built on a built data home and
exported to HDF5."""

from __future__ import annotations

import pytest

from support.featuretrees import write_tree
from var_bench.features import build_features
from var_bench.features.hdf5 import export_h5

UCF = "ucfcrime-ar"


@pytest.fixture
def ucf_store(built_home, tmp_path):
    """A raw ``ucf-crops`` tree of every UCFCrime-AR id, built into the home's store and exported
    to ``good.h5``: (ids by split, the tree's root, the HDF5 file)."""
    ids = built_home[UCF].expected
    raw = tmp_path / "ucf"
    write_tree(raw, "ucf-crops", {"train": ids["train"] + ids["val"], "test": ids["test"]})
    build_features(UCF, raw)
    h5 = export_h5(UCF, tmp_path / "good.h5")
    return ids, raw, h5
