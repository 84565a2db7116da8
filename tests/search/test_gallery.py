"""var_bench.search.FolderGallery: a raw feature folder read as the feature build reads it, with
the identity the build would give it (synthetic from ``var-bench synth``'s marker or random
extraction weights, never from a name nothing writes)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from support.featuretrees import write_tree

from var_bench.benchmarks import UCFCRIME_AR
from var_bench.errors import InputError
from var_bench.features.extraction import EXTRACTION_FILE, RANDOM_WEIGHTS
from var_bench.features.layouts import SYNTH_MARKER
from var_bench.search import FolderGallery

IDS = {"test": ["Abuse028_x264", "Normal_Videos_003_x264", "Robbery050_x264"]}


@pytest.fixture
def tree(tmp_path):
    """A UCF-Crime I3D tree (ten crop files per video) with a Flow tree one snippet shorter."""
    root = tmp_path / "ucf"
    lengths = {v: 6 + i for i, v in enumerate(IDS["test"])}
    rgb = write_tree(root, "ucf-crops", IDS, lengths=lengths)
    flow = write_tree(
        root, "ucf-crops", IDS, stream="flow", lengths={v: t - 1 for v, t in lengths.items()}
    )
    return root, rgb, flow


def test_items_are_read_as_the_build_reads_them(tree):
    root, rgb, flow = tree
    g = FolderGallery(UCFCRIME_AR, root)
    assert len(g) == 3 and g.stems == sorted(IDS["test"])
    assert g.identity["streams"] == ["rgb", "flow"]
    assert g.identity["dims"] == {"rgb": 1024, "flow": 1024}
    for i, vid in enumerate(g.stems):
        item = g[i]
        assert item["video_id"] == vid and item["index"] == i
        T = len(flow[vid])  # the streams trimmed to their common length
        assert item["rgb"].shape == item["flow"].shape == (T, 1024)
        assert item["rgb"].dtype == np.float32
        np.testing.assert_allclose(item["rgb"], rgb[vid].mean(axis=1)[:T], rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(item["flow"], flow[vid].mean(axis=1), rtol=1e-5, atol=1e-6)


def test_a_real_folder_is_not_synthetic(tree):
    root, _, _ = tree
    g = FolderGallery(UCFCRIME_AR, root)
    assert g.identity["synthetic"] is False
    assert g.identity["snippet_frames"] == UCFCRIME_AR.snippet_frames
    assert g.identity["source"] == f"feature folder {root.resolve()}"


def test_the_synth_marker_makes_the_folder_synthetic(tree):
    root, _, _ = tree
    (root / SYNTH_MARKER).write_text(json.dumps({"generator": "var_bench.synth"}))
    assert FolderGallery(UCFCRIME_AR, root).identity["synthetic"] is True


def test_random_extraction_weights_make_the_folder_synthetic(tree):
    root, _, _ = tree
    identity = {"model": "i3d-rgb", "stream": "rgb", RANDOM_WEIGHTS: True, "snippet_frames": 32}
    (root / EXTRACTION_FILE).write_text(json.dumps({"identity": identity, "videos": {}}))
    g = FolderGallery(UCFCRIME_AR, root)
    assert g.identity["synthetic"] is True and g.identity["snippet_frames"] == 32


def test_streams_more_than_one_snippet_apart_are_refused(tmp_path):
    root = tmp_path / "ucf"
    write_tree(root, "ucf-crops", IDS, lengths={v: 8 for v in IDS["test"]})
    write_tree(root, "ucf-crops", IDS, stream="flow", lengths={v: 5 for v in IDS["test"]})
    g = FolderGallery(UCFCRIME_AR, root)
    with pytest.raises(InputError, match="expected stream lengths within 1 snippet"):
        g[0]


def test_a_folder_without_features_is_refused(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError):
        FolderGallery(UCFCRIME_AR, tmp_path / "empty")


@pytest.mark.parametrize("case", ["IX10", "IX11"])
def test_a_relative_folder_is_read_where_it_is(tree, monkeypatch, case):
    """IX10 / IX11: ``index --features rawx`` (relative) once doubled the path (rawx/rawx/...)."""
    root, rgb, _ = tree
    monkeypatch.chdir(root.parent)
    g = FolderGallery(UCFCRIME_AR, root.relative_to(root.parent))
    item = g[0]
    assert item["video_id"] == g.stems[0] and item["rgb"].shape[-1] == 1024


def test_ix9_a_raw_folder_is_encoded_without_captions():
    """IX9: a raw folder's videos carry no captions; the index encodes the gallery side only, so
    a caption-encoding model (CE) indexes it (encode_split asked for queries needs them)."""
    import torch
    from models.baselines.checks import model_ctx
    from models.baselines.fakebatch import make_batch
    from models.baselines.test_ce import build

    from var_bench.training.encode import encode_split

    model = build("ucfcrime-ar")
    batch = make_batch(model_ctx(model), batch_size=3)
    batch.pop("text", None)
    out = encode_split(model, [batch], torch.device("cpu"), queries_too=False)
    assert out[0] == {} and out[1]["emb"].shape[0] == 3
    with pytest.raises(InputError, match="captions"):
        encode_split(model, [batch], torch.device("cpu"))
