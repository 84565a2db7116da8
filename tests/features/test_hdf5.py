"""HDF5 export/import of the feature store: layout, round trip, atomicity, refusals.

The refusals include the red-team cases of issue 11 (H2-H8): import-h5 runs the build's
validators and leaves a good store untouched; files honour the umask (P1); debris of killed runs
is removed (F25, F26)."""

from __future__ import annotations

import json
import os
import stat

import h5py
import numpy as np
import pytest
from support.featuretrees import write_tree

import var_bench
from var_bench.benchmarks import get_benchmark
from var_bench.cli import main
from var_bench.data.paths import features_dir
from var_bench.errors import InputError
from var_bench.features import FeatureManifest, build_features
from var_bench.features.hdf5 import FORMAT, export_h5, import_h5

XD = "xdviolence-ar"
UCF = "ucfcrime-ar"


@pytest.fixture
def xd_store(built_home, tmp_path):
    """An XD store (rgb + flow + audio, all crops, float16) and the arrays written for it."""
    ids = built_home[XD].expected
    split_ids = {"train": ids["train"] + ids["val"], "test": ids["test"]}
    raw = tmp_path / "xd"
    rgb = write_tree(raw, "xd-i3d", split_ids)
    write_tree(raw, "xd-i3d", split_ids, stream="flow")
    write_tree(raw, "xd-vggish", split_ids)
    build_features(XD, raw, crops="all", dtype="float16")
    return ids, rgb


def _rows(split):
    return var_bench.load_dataset(XD, split, features=True, download=False).with_format("numpy")


def test_layout(xd_store, tmp_path) -> None:
    ids, rgb = xd_store
    out = export_h5(XD, tmp_path / "out" / "xd.h5", splits=["test", "val"])
    m = FeatureManifest.read(features_dir(get_benchmark(XD)))
    with h5py.File(out, "r") as f:
        assert (
            f.attrs["format"] == FORMAT and json.loads(f.attrs["manifest"])["streams"] == m.streams
        )
        assert list(f) == ["test", "val"] and list(f["test"]) == ids["test"]  # canonical order
        g = f["test"][ids["test"][0]]
        x = rgb[ids["test"][0]]
        assert g["rgb"].shape == x.shape and g["rgb"].dtype == np.float16
        np.testing.assert_array_equal(g["rgb"][()], x.astype(np.float16))
        assert g["audio"].shape == (x.shape[0], 128)
        assert g.attrs["num_snippets"] == x.shape[0] and g.attrs["video_label"] == 1
        assert set(g.attrs) >= {"rgb_len", "flow_len", "audio_len"}
        assert g["snippet_labels"].dtype == np.int8 and g["snippet_labels"].shape == (x.shape[0],)
        assert "snippet_labels" not in f["val"][ids["val"][0]]  # no annotation on val
    assert not list(out.parent.glob(".*"))  # no temporary file left


def _export_and_reimport(path):
    """Export every split to ``path``, delete the store, import it back: (rows before, the old
    manifest, the new one, the store folder)."""
    import shutil

    before = {s: _rows(s) for s in ("train", "val", "test")}
    out = export_h5(XD, path)
    folder = features_dir(get_benchmark(XD))
    old = FeatureManifest.read(folder)
    shutil.rmtree(folder)
    return before, old, import_h5(XD, out), folder


def test_round_trip(xd_store, tmp_path) -> None:
    before, old, m, folder = _export_and_reimport(tmp_path / "xd.h5")
    assert m.counts == old.counts and m.streams == old.streams and m.crops_mode == "all"
    assert m.notes[-1] == "imported from HDF5 file xd.h5"
    assert (folder / "README.md").is_file()
    for s, ref in before.items():
        got = _rows(s)
        assert got["video_id"] == ref["video_id"]
        for i in range(len(ref)):
            for c in ("rgb", "flow", "audio", "num_snippets", "rgb_len", "video_label"):
                np.testing.assert_array_equal(got[i][c], ref[i][c])
            a, b = got[i]["snippet_labels"], ref[i]["snippet_labels"]
            assert (a is None and b is None) or np.array_equal(a, b)


def test_partial_file_lists_missing_and_replaces_store(xd_store, tmp_path) -> None:
    ids, _ = xd_store
    out = export_h5(XD, tmp_path / "xd.h5", splits=["test"])
    with h5py.File(out, "a") as f:
        del f["test"][ids["test"][2]]
    m = import_h5(XD, out)
    assert m.counts == {"test": 2} and m.missing == {"test": [ids["test"][2]]}
    with pytest.warns(UserWarning, match="1 of 3 videos have no features"):
        ds = var_bench.load_dataset(XD, "test", features=True, download=False)
    assert ds["video_id"] == ids["test"][:2]


def test_refusals_leave_the_store_alone(xd_store, tmp_path) -> None:
    folder = features_dir(get_benchmark(XD))
    before = (folder / "manifest.json").read_text()
    not_h5 = tmp_path / "x.h5"
    not_h5.write_bytes(b"not hdf5")
    with pytest.raises(InputError, match="expected a readable HDF5 file"):
        import_h5(XD, not_h5)
    with h5py.File(tmp_path / "foreign.h5", "w") as f:
        f.create_group("test")
    with pytest.raises(InputError, match="written by 'var-bench export-h5'"):
        import_h5(XD, tmp_path / "foreign.h5")
    with pytest.raises(
        InputError, match="expected features of ucfcrime-ar 1.0.0, got xdviolence-ar"
    ):
        import_h5("ucfcrime-ar", export_h5(XD, tmp_path / "xd.h5", splits=["val"]))
    out = export_h5(XD, tmp_path / "bad.h5", splits=["test"])
    with h5py.File(out, "a") as f:
        f["test"].create_group("not-a-video")
        del f["test"][next(iter(f["test"]))]["flow"]
    with pytest.raises(InputError, match="1 ids unknown to the xdviolence-ar metadata"):
        import_h5(XD, out)
    assert (folder / "manifest.json").read_text() == before
    assert not [
        p
        for p in folder.parent.iterdir()
        if p.name.startswith(".") and not p.name.endswith(".lock")
    ]  # the lock file stays
    with pytest.raises(
        InputError, match="split: expected one or more of train, val, test, got dev"
    ):
        export_h5(XD, tmp_path / "y.h5", splits=["dev"])


def test_cli(xd_store, tmp_path, capsys) -> None:
    out = tmp_path / "cli.h5"
    with pytest.raises(SystemExit) as e:
        main(["export-h5", XD, str(out), "--split", "val", "--no-progress"])
    assert e.value.code == 0 and f"wrote {out}" in capsys.readouterr().out
    with pytest.raises(SystemExit) as e:
        main(["import-h5", XD, str(out), "--no-progress"])
    assert e.value.code == 0 and f"val {len(xd_store[0]['val'])}  ->" in capsys.readouterr().out
    with pytest.raises(SystemExit) as e:
        main(["import-h5", XD, str(tmp_path / "none.h5")])
    assert e.value.code == 2 and "expected a readable HDF5 file" in capsys.readouterr().out


# ------------------------------------------------------------ hostile files (issue 11: H2-H8)


def _store_state():
    folder = features_dir(get_benchmark(UCF))
    return (folder / "manifest.json").read_text(), sorted(p.name for p in folder.parent.iterdir())


def _first_video(f):
    return f["test"][next(iter(f["test"]))]


def _wrong_dim(f):  # H2
    g = _first_video(f)
    T = g.attrs["num_snippets"]
    del g["rgb"]
    g["rgb"] = np.zeros((T, 7), "f4")


def _nan(f):  # H3
    g = _first_video(f)
    x = g["rgb"][()]
    x[0, 0] = np.nan
    g["rgb"][...] = x


def _num_snippets(f):  # H4
    _first_video(f).attrs["num_snippets"] = 999


def _video_label(f):  # H4
    _first_video(f).attrs["video_label"] = 7


def _negative_len(f):  # H4
    _first_video(f).attrs["rgb_len"] = -4


def _labels_len(f):  # H5
    g = _first_video(f)
    if "snippet_labels" in g:
        del g["snippet_labels"]
    g["snippet_labels"] = np.full(5000, 9, np.int8)


def _external_link(f):  # H6
    g = _first_video(f)
    del g["rgb"]
    g["rgb"] = h5py.ExternalLink("/etc/passwd", "/x")


def _external_raw(f):  # H6
    g = _first_video(f)
    T = int(g.attrs["num_snippets"])
    del g["rgb"]
    g.create_dataset("rgb", shape=(T, 1024), dtype="u1", external=[("/etc/passwd", 0, T * 1024)])


def _declared_giant(f):  # H7
    g = _first_video(f)
    del g["rgb"]
    g.create_dataset("rgb", shape=(10**7, 1024), dtype="f4")


def _string_attr(f):  # H8
    _first_video(f).attrs["num_snippets"] = "abc"


def _no_dims(f):  # H8
    m = json.loads(f.attrs["manifest"])
    del m["dims"]
    f.attrs["manifest"] = json.dumps(m)


def _dtype_object(f):  # H8
    m = json.loads(f.attrs["manifest"])
    m["dtype"] = "object"
    f.attrs["manifest"] = json.dumps(m)


def _video_is_dataset(f):  # H8
    vid = next(iter(f["test"]))
    del f["test"][vid]
    f["test"][vid] = np.zeros(3)


def _rgb_is_group(f):  # H8
    g = _first_video(f)
    del g["rgb"]
    g.create_group("rgb")


def _rgb_3d(f):  # H8
    g = _first_video(f)
    T = g.attrs["num_snippets"]
    del g["rgb"]
    g["rgb"] = np.zeros((T, 2, 1024), "f4")


def _format_version(f):  # H8
    f.attrs["format_version"] = "abc"


IMPORT_CASES = {
    "H2-wrong-D": (_wrong_dim, "expected shape"),
    "H3-nan": (_nan, "finite"),
    "H4-num-snippets": (_num_snippets, "expected shape"),
    "H4-video-label": (_video_label, "video_label"),
    "H4-negative-len": (_negative_len, "rgb_len"),
    "H5-labels-length": (_labels_len, "snippet_labels expected shape"),
    "H6-external-link": (_external_link, "external link"),
    "H6-external-storage": (_external_raw, "external storage"),
    "H7-declared-giant": (_declared_giant, "expected shape"),
    "H8-string-attribute": (_string_attr, "num_snippets"),
    "H8-manifest-without-dims": (_no_dims, "manifest"),
    "H8-dtype-object": (_dtype_object, "dtype"),
    "H8-video-is-dataset": (_video_is_dataset, "expected a group"),
    "H8-rgb-is-group": (_rgb_is_group, "expected dataset 'rgb'"),
    "H8-rgb-3d": (_rgb_3d, "expected shape"),
    "H8-format-version": (_format_version, "format_version"),
}


@pytest.mark.parametrize("case", sorted(IMPORT_CASES))
def test_import_h5_refuses_and_keeps_the_good_store(
    shared_ucf_store, tmp_path, capsys, case
) -> None:
    _, _, good = shared_ucf_store
    edit, needle = IMPORT_CASES[case]
    bad = tmp_path / "bad.h5"
    bad.write_bytes(good.read_bytes())
    with h5py.File(bad, "a") as f:
        edit(f)
    before = _store_state()
    with pytest.raises(InputError, match=needle):
        import_h5(UCF, bad)
    with pytest.raises(SystemExit) as e:
        main(["import-h5", UCF, str(bad)])
    out = capsys.readouterr().out
    assert e.value.code == 2 and out.count("\n") == 1 and "internal error" not in out
    assert _store_state() == before  # the previous store untouched, no temp folder left


def test_a_good_import_still_works(ucf_store) -> None:
    ids, _, good = ucf_store
    import_h5(UCF, good)
    ds = var_bench.load_dataset(UCF, "test", features=True, download=False).with_format("numpy")
    assert len(ds) == len(ids["test"]) and ds[0]["rgb"].shape[1] == 1024


def test_debris_of_killed_runs_is_removed(ucf_store, tmp_path) -> None:
    """F25, F26 (issue 11): an export's temp file and an import's staging folder left by killed
    runs are removed by the next run."""
    _, _, good = ucf_store
    dead = tmp_path / ".good.h5.999999999.abcd.h5.tmp"  # an export whose process is gone
    dead.write_bytes(b"x" * 100)
    folder = features_dir(get_benchmark(UCF))
    orphan = folder.parent / f".{folder.name}.import-xyz"  # an import killed with -9
    orphan.mkdir()
    export_h5(UCF, good)
    assert not dead.exists()
    import_h5(UCF, good)
    assert not orphan.exists()


@pytest.mark.parametrize("mask", [0o022, 0o002])
def test_written_files_and_folders_honour_the_umask(ucf_store, tmp_path, mask) -> None:
    """P1 (issue 11)."""
    _, _, good = ucf_store
    old = os.umask(mask)
    try:
        import_h5(UCF, good)
        out = export_h5(UCF, tmp_path / f"again-{mask:o}.h5")
    finally:
        os.umask(old)
    folder = features_dir(get_benchmark(UCF))
    assert stat.S_IMODE(folder.stat().st_mode) == 0o777 & ~mask
    assert stat.S_IMODE((folder / "manifest.json").stat().st_mode) == 0o666 & ~mask
    assert stat.S_IMODE(out.stat().st_mode) == 0o666 & ~mask


@pytest.fixture
def xd_mixed_store(built_home, tmp_path):
    """XD rgb (5 crops, 1024-d) + a VadCLIP clip stream (10 crops, 512-d), built with a per-split
    crop policy: mean on train/val, every crop on test."""
    ids = built_home[XD].expected
    split_ids = {"train": ids["train"] + ids["val"], "test": ids["test"]}
    raw = tmp_path / "xd"
    rgb = write_tree(raw, "xd-i3d", split_ids)
    clip = {}
    for vid in (v for vs in split_ids.values() for v in vs):
        x = np.random.default_rng(len(clip)).standard_normal(
            (rgb[vid].shape[0], 10, 512), dtype=np.float32
        )
        for k in range(10):
            d = tmp_path / "clip" / "XDTrainClipFeatures"
            d.mkdir(parents=True, exist_ok=True)
            np.save(d / f"{vid}__{k}.npy", x[:, k])
        clip[vid] = x
    m = build_features(XD, raw, streams={"clip": tmp_path / "clip"}, crops="train=mean,test=all")
    return m, ids, rgb, clip


def test_mixed_crop_policy_and_crop_counts_per_stream(xd_mixed_store):
    m, ids, rgb, clip = xd_mixed_store
    assert m.crops == {"train": "mean", "val": "mean", "test": "all"}
    assert m.stream_crops == {"rgb": 5, "clip": 10}
    test = _rows("test")
    vid = ids["test"][0]
    np.testing.assert_array_equal(test[0]["rgb"], rgb[vid])  # [T, 5, 1024]
    np.testing.assert_array_equal(test[0]["clip"], clip[vid])  # [T, 10, 512]
    train = _rows("train")
    np.testing.assert_allclose(train[0]["clip"], clip[ids["train"][0]].mean(axis=1), rtol=1e-6)


def test_round_trip_of_a_mixed_crop_policy(xd_mixed_store, tmp_path):
    before, old, m, _ = _export_and_reimport(tmp_path / "mixed.h5")
    assert m.crops == old.crops and m.stream_crops == old.stream_crops
    for s, ref in before.items():
        got = _rows(s)
        assert got["video_id"] == ref["video_id"]
        for i in range(len(ref)):
            for c in ("rgb", "clip", "num_snippets", "clip_len"):
                np.testing.assert_array_equal(got[i][c], ref[i][c])
