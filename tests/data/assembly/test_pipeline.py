import json
from dataclasses import replace

import pandas as pd
import pytest
from support.rawdata import make_ucf, make_xd

from var_bench.data.assembly.manifest import MANIFEST, Manifest
from var_bench.data.assembly.pipeline import assemble_into
from var_bench.errors import DataError


def _segs(value):
    return [[int(x) for x in seg] for seg in value]


def _table(folder, split):
    return pd.read_parquet(folder / "data" / f"{split}.parquet")


def test_ucf_build_from_quirky_files(tmp_path):
    fx = make_ucf(tmp_path / "raw")
    out = tmp_path / "built"
    m = assemble_into(fx.spec, fx.raw, out, fx.info)
    for split, ids in fx.expected.items():
        assert list(_table(out, split)["video_id"]) == ids
    assert m.counts == {s: len(v) for s, v in fx.expected.items()}
    test = _table(out, "test").set_index("video_id")
    # end frame 240 past the 230 frames: clipped, and the repair is recorded
    assert _segs(test.loc["Abuse028_x264", "segments"]) == [[165, 230]]
    assert test.loc["Abuse028_x264", "num_frames"] == 230
    assert list(test.loc["Normal_Videos_003_x264", "segments"]) == []
    assert test["class"].tolist() == ["Abuse", "Normal", "Normal"]
    assert test["anomalous"].tolist() == [True, False, False]
    assert any("clipped" in n for n in m.notes)
    assert any("repeat" in n for n in m.notes)
    train = pd.concat([_table(out, "train"), _table(out, "val")])
    assert train["segments"].isna().all() and train["num_frames"].isna().all()
    assert sorted(train["upstream_index"]) == list(range(7))
    assert Manifest.read(out) == m


def test_xd_build(tmp_path):
    fx = make_xd(tmp_path / "raw")
    out = tmp_path / "built"
    assemble_into(fx.spec, fx.raw, out, fx.info)
    test = _table(out, "test").set_index("video_id")
    first = test.iloc[0]
    assert list(first["labels"]) == ["G", "B2", "B6"]
    assert list(first["label_names"]) == ["Explosion", "Shooting", "Car accident"]
    assert first["class"] == "Explosion" and first["anomalous"]
    # the stray ".mp4" in the annotation is stripped, so the segments attach
    assert _segs(first["segments"]) == [[157, 180], [185, 244]]
    assert list(test.iloc[2]["segments"]) == [] and not test.iloc[2]["anomalous"]
    assert list(_table(out, "val")["video_id"]) == fx.expected["val"]


def test_wrong_class_counts_fail_loudly(tmp_path):
    fx = make_ucf(tmp_path / "raw")
    spec = replace(
        fx.spec,
        upstream_class_counts={
            "train": {"Abuse": 3, "Arrest": 1, "Normal": 3},
            "test": {"Abuse": 2, "Normal": 2},
        },
    )
    with pytest.raises(DataError, match=r"ucfcrime-ar test: expected 4 videos.*got 3"):
        assemble_into(spec, fx.raw, tmp_path / "built", fx.info)


def test_checksum_mismatch_fails_and_keeps_previous_build(tmp_path):
    fx = make_ucf(tmp_path / "raw")
    out = tmp_path / "built"
    assemble_into(fx.spec, fx.raw, out, fx.info)
    before = (out / MANIFEST).read_text()
    bad = replace(fx.info, ids_sha256={**fx.info.ids_sha256, "val": "0" * 64})
    with pytest.raises(DataError, match=r"val: ordered id list sha256 expected 0{64}"):
        assemble_into(fx.spec, fx.raw, out, bad)
    assert (out / MANIFEST).read_text() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["built", "raw"]  # no temp folders left


def test_xd_annotation_for_a_normal_video_is_refused(tmp_path):
    fx = make_xd(tmp_path / "raw")
    with open(fx.raw["annotation_test"], "a") as f:
        f.write("Normal.Film__#00-00-00_00-01-00_label_A 1 5\n")
    with pytest.raises(DataError, match="1 not violent test videos"):
        assemble_into(fx.spec, fx.raw, tmp_path / "built", fx.info)


def test_train_captions_must_match_official_split(tmp_path):
    fx = make_ucf(tmp_path / "raw")
    fx.raw["split_train"].write_text("Abuse/Abuse001_x264.mp4\n")
    with pytest.raises(DataError, match="official UCF-Crime train split"):
        assemble_into(fx.spec, fx.raw, tmp_path / "built", fx.info)


def test_manifest_of_other_build_format_is_ignored(tmp_path):
    fx = make_ucf(tmp_path / "raw")
    out = tmp_path / "built"
    assemble_into(fx.spec, fx.raw, out, fx.info)
    raw = json.loads((out / MANIFEST).read_text())
    raw["build_format"] = 0
    (out / MANIFEST).write_text(json.dumps(raw))
    assert Manifest.read(out) is None
