import numpy as np
import pytest
from support.featuretrees import path_of, write_tree

from var_bench.benchmarks import UCFCRIME_AR, XDVIOLENCE_AR
from var_bench.cli import main
from var_bench.errors import InputError
from var_bench.features.layouts import check_crops, index_streams

UCF_IDS = {"train": ["Abuse001_x264", "Normal_Videos001_x264"], "test": ["Abuse028_x264"]}
XD_IDS = {"train": ["a__#1_label_B1-0-0", "b.c__#2_label_A"], "test": ["d=e@f__#3_label_G-0-0"]}


def test_detects_ucf_crops_at_any_depth_and_flow_folders(tmp_path):
    write_tree(tmp_path, "ucf-crops", UCF_IDS, T=2)
    write_tree(tmp_path, "ucf-crops", UCF_IDS, T=2, stream="flow")
    idx = index_streams(UCFCRIME_AR, tmp_path)
    assert list(idx) == ["rgb", "flow"]
    assert idx["rgb"].layout.name == "ucf-crops" and idx["rgb"].num_crops == 10
    files = idx["flow"].files["Abuse028_x264"]
    assert [p.name for p in files] == [f"Abuse028_x264__{k}.npy" for k in range(10)]
    assert all("Flow" in p.parts for p in files)
    # Without class folders (flat) the same layout is found.
    flat = tmp_path / "flat"
    flat.mkdir()
    for p in idx["rgb"].files["Abuse001_x264"]:
        (flat / p.name).write_bytes(p.read_bytes())
    assert index_streams(UCFCRIME_AR, flat)["rgb"].layout.name == "ucf-crops"


def test_crop_order_is_numeric_not_lexicographic(tmp_path):
    for k in range(12):
        np.save(tmp_path / f"Abuse001_x264__{k}.npy", np.zeros((1, 1024), np.float32))
    files = index_streams(UCFCRIME_AR, tmp_path)["rgb"].files["Abuse001_x264"]
    assert [p.name for p in files][-3:] == [
        "Abuse001_x264__9.npy",
        "Abuse001_x264__10.npy",
        "Abuse001_x264__11.npy",
    ]


def test_detects_rtfm_and_xd_layouts(tmp_path):
    write_tree(tmp_path / "r", "ucf-rtfm", UCF_IDS, T=2)
    assert index_streams(UCFCRIME_AR, tmp_path / "r")["rgb"].layout.name == "ucf-rtfm"
    write_tree(tmp_path / "x", "xd-i3d", XD_IDS, T=2)
    write_tree(tmp_path / "x", "xd-i3d", XD_IDS, T=2, stream="flow")
    write_tree(tmp_path / "x", "xd-vggish", XD_IDS, T=2)
    idx = index_streams(XDVIOLENCE_AR, tmp_path / "x")
    assert {s: i.layout.name for s, i in idx.items()} == {
        "rgb": "xd-i3d",
        "flow": "xd-i3d",
        "audio": "xd-vggish",
    }
    assert idx["rgb"].num_crops == 5 and idx["audio"].num_crops == 1


def test_separate_flow_and_audio_folders(tmp_path):
    write_tree(tmp_path / "x", "xd-i3d", XD_IDS, T=2)
    write_tree(tmp_path / "x", "xd-i3d", XD_IDS, T=2, stream="flow")
    write_tree(tmp_path / "a", "xd-vggish", XD_IDS, T=2)
    idx = index_streams(
        XDVIOLENCE_AR, tmp_path / "x" / "RGB", flow=tmp_path / "x", audio=tmp_path / "a"
    )
    assert list(idx) == ["rgb", "flow", "audio"]
    assert all(
        "Flow" in p.parts or "FlowTest" in p.parts for fs in idx["flow"].files.values() for p in fs
    )
    assert set(idx["rgb"].files) == {"a__#1_label_B1-0-0", "b.c__#2_label_A"}  # RGB (train) only


def test_mixed_layouts_are_refused_unless_forced(tmp_path):
    write_tree(tmp_path, "ucf-crops", UCF_IDS, T=2)
    write_tree(tmp_path, "ucf-rtfm", UCF_IDS, T=2)
    with pytest.raises(InputError, match=r"expected one layout, found a mix .*--layout"):
        index_streams(UCFCRIME_AR, tmp_path)
    assert index_streams(UCFCRIME_AR, tmp_path, layout="ucf-rtfm")["rgb"].layout.name == "ucf-rtfm"
    with pytest.raises(InputError, match="expected a layout of ucfcrime-ar"):
        index_streams(UCFCRIME_AR, tmp_path, layout="xd-i3d")


def test_wrong_benchmark_and_empty_tree(tmp_path):
    write_tree(tmp_path / "r", "ucf-rtfm", UCF_IDS, T=2)
    with pytest.raises(
        InputError,
        match=r"expected xd-tevad \(<Stem>_i3d.npy, \[T, C, D\], D = 1024\), "
        r"found shape \[2, 10, 2048\]",
    ):
        index_streams(XDVIOLENCE_AR, tmp_path / "r")
    (tmp_path / "e").mkdir()
    (tmp_path / "e" / "notes.npy").write_bytes(b"x")
    with pytest.raises(InputError, match="expected video feature files"):
        index_streams(UCFCRIME_AR, tmp_path / "e")
    with pytest.raises(InputError, match="expected a folder"):
        index_streams(UCFCRIME_AR, tmp_path / "nope")
    with pytest.raises(InputError, match="has no audio stream"):
        index_streams(UCFCRIME_AR, tmp_path / "r", audio=tmp_path / "r")


def test_duplicate_stem_in_two_folders(tmp_path):
    write_tree(tmp_path, "ucf-crops", UCF_IDS, T=2)
    src = path_of(tmp_path, "ucf-crops", "test", "Abuse028_x264", 3)
    dup = tmp_path / "copy" / src.name
    dup.parent.mkdir()
    dup.write_bytes(src.read_bytes())
    with pytest.raises(
        InputError, match=r"one file for crop 3 of video Abuse028_x264, found two: .*copy"
    ):
        index_streams(UCFCRIME_AR, tmp_path)


def test_missing_crop_is_named(tmp_path):
    write_tree(tmp_path, "ucf-crops", UCF_IDS, T=2)
    path_of(tmp_path, "ucf-crops", "train", "Abuse001_x264", 7).unlink()
    idx = index_streams(UCFCRIME_AR, tmp_path)
    check_crops(idx["rgb"], ["Abuse028_x264"])
    with pytest.raises(
        InputError,
        match=r"video Abuse001_x264 .*expected crops 0..9 .*found 0-6, 8-9 "
        r"\(missing Abuse001_x264__7.npy\)",
    ):
        check_crops(idx["rgb"], ["Abuse001_x264"])


def test_crop_index_in_a_file_name_is_bounded(ucf_tree, capsys):
    """F10 (issue 11): a crop index read from a file name is bounded before it sizes anything."""
    ids, raw = ucf_tree
    src = path_of(raw, "ucf-crops", "test", ids["test"][0], 0)
    (src.parent / f"{ids['test'][0]}__1000000000.npy").write_bytes(src.read_bytes())
    with pytest.raises(SystemExit) as e:
        main(["build", "ucfcrime-ar", "--features", str(raw), "--allow-missing"])
    out = capsys.readouterr().out
    assert e.value.code == 2 and "crop indices 0..63" in out


def test_fingerprint_changes_with_a_file(tmp_path):
    write_tree(tmp_path, "xd-vggish", XD_IDS, T=2)
    write_tree(tmp_path, "xd-i3d", XD_IDS, T=2)
    a = index_streams(XDVIOLENCE_AR, tmp_path)["audio"].fingerprint
    p = path_of(tmp_path, "xd-vggish", "test", XD_IDS["test"][0])
    np.save(p, np.zeros((3, 128), np.float32))
    assert index_streams(XDVIOLENCE_AR, tmp_path)["audio"].fingerprint != a
