"""Layouts as data: every built-in layout, user layouts, list files, crop policies, fingerprints."""

from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from var_bench.benchmarks import SPLITS, UCFCRIME_AR, XDVIOLENCE_AR
from var_bench.data.paths import features_dir
from var_bench.errors import InputError
from var_bench.features import build as build_mod
from var_bench.features import build_features, read_split
from var_bench.features.align import parse_crop_policy
from var_bench.features.fingerprint import (
    KnownFingerprint,
    fingerprint_index,
    fingerprint_target,
)
from var_bench.features.layouts import index_streams
from var_bench.features.listfiles import read_list, resolve_listed

UCF_IDS = ["Abuse001_x264", "Normal_Videos001_x264", "Abuse028_x264"]
XD_IDS = ["a__#1_label_B1-0-0", "b.c__#2_label_A"]


def _val(vid: str, k: int, T: int, D: int) -> np.ndarray:
    """A value a test can recompute: 1000 * crop + 10 * snippet + feature index / D (+ id hash)."""
    base = sum(map(ord, vid)) % 7
    t = np.arange(T, dtype=np.float32)[:, None]
    d = np.arange(D, dtype=np.float32)[None, :] / D
    return (base + 1000 * k + 10 * t + d).astype(np.float32)


def _crop_tree(root: Path, ids, C: int, D: int, T: int = 3, name="{stem}__{k}.npy", folder=""):
    for vid in ids:
        d = root / folder
        d.mkdir(parents=True, exist_ok=True)
        for k in range(C):
            np.save(d / name.format(stem=vid, k=k), _val(vid, k, T, D))


def test_vadclip_512_crops_feed_the_clip_stream_and_d_tells_layouts_apart(tmp_path):
    _crop_tree(tmp_path / "i3d", UCF_IDS, 10, 1024, folder="Test/RGB/Abuse")
    _crop_tree(tmp_path / "clip", UCF_IDS, 10, 512, folder="Abuse")
    _crop_tree(tmp_path / "i3d", UCF_IDS, 10, 1024, folder="Test/Flow/Abuse")
    idx = index_streams(UCFCRIME_AR, tmp_path / "i3d", streams={"clip": tmp_path / "clip"})
    assert list(idx) == ["rgb", "flow", "clip"]
    assert (idx["clip"].layout.name, idx["clip"].dim, idx["clip"].num_crops) == (
        "vadclip-ucf",
        512,
        10,
    )
    assert idx["rgb"].layout.name == "ucf-crops" and idx["rgb"].dim == 1024
    # Alone, a CLIP tree is found as the clip stream (the layout's stream name).
    assert list(index_streams(UCFCRIME_AR, tmp_path / "clip")) == ["clip"]


def test_a_size_no_layout_declares_is_refused_in_one_line(tmp_path):
    _crop_tree(tmp_path / "odd", UCF_IDS[:1], 10, 1000)
    with pytest.raises(InputError) as e:
        index_streams(UCFCRIME_AR, tmp_path / "odd")
    msg = str(e.value)
    assert (
        "\n" not in msg
        and "found shape [3, 1000]" in msg
        and "D = 1024" in msg
        and "D = 512" in msg
    )
    (tmp_path / "t").mkdir()
    np.save(tmp_path / "t" / "x_emb.npy", np.zeros((3, 700), np.float32))
    _crop_tree(tmp_path / "i", UCF_IDS[:1], 1, 1024)
    with pytest.raises(
        InputError,
        match=r"text_emb features under .*expected tevad-text-ucf "
        r".*D = 768.*found shape \[3, 700\]",
    ):
        index_streams(UCFCRIME_AR, tmp_path / "i", streams={"text_emb": tmp_path / "t"})


def test_xd_layouts_tevad_stacked_vadclip_and_text(tmp_path):
    root = tmp_path / "xd"
    root.mkdir()
    for vid in XD_IDS:
        np.save(
            root / f"{vid}_i3d.npy", np.stack([_val(vid, k, 4, 1024) for k in range(5)], axis=1)
        )
        np.save(root / f"{vid}_emb.npy", _val(vid, 0, 4, 768))
    _crop_tree(tmp_path / "c", XD_IDS, 10, 512, folder="XDTrainClipFeatures")
    idx = index_streams(XDVIOLENCE_AR, root, streams={"clip": tmp_path / "c"})
    assert {s: (ix.layout.name, ix.dim, ix.num_crops) for s, ix in idx.items()} == {
        "rgb": ("xd-tevad", 1024, 5),
        "text_emb": ("tevad-text-xd", 768, 1),
        "clip": ("vadclip-xd", 512, 10),
    }
    assert list(idx) == ["rgb", "text_emb", "clip"]


def test_pel4vad_crop0_without_suffix_needs_the_layout_named(tmp_path):
    for vid in UCF_IDS:
        np.save(tmp_path / f"{vid}.npy", _val(vid, 0, 3, 1024))
        for k in range(1, 10):
            np.save(tmp_path / f"{vid}__{k}.npy", _val(vid, k, 3, 1024))
    idx = index_streams(UCFCRIME_AR, tmp_path, layout="pel4vad-ucf")
    files = idx["rgb"].files["Abuse028_x264"]
    assert files[0].name == "Abuse028_x264.npy" and files[9].name == "Abuse028_x264__9.npy"
    assert idx["rgb"].num_crops == 10
    # Auto: the plain names match nothing (a catch-all is never guessed); the crop files are
    # 1..9 only, which check_crops then refuses.
    auto = index_streams(UCFCRIME_AR, tmp_path)
    assert auto["rgb"].layout.name == "ucf-crops" and auto["rgb"].ignored == 3


def test_user_layout_file_finds_d(tmp_path):
    (tmp_path / "lay.yaml").write_text(
        "layouts:\n  - name: my-swin\n    file: '{stem}_swin.npy'\n    crops: none\n"
        "    stream: swin\n",
        "utf-8",
    )
    from var_bench.features.layouts import load_layout_file

    user = load_layout_file(tmp_path / "lay.yaml")
    (tmp_path / "f").mkdir()
    for vid in UCF_IDS:
        np.save(tmp_path / "f" / f"{vid}_swin.npy", _val(vid, 0, 2, 300))
    idx = index_streams(UCFCRIME_AR, tmp_path / "f", user_layouts=user)
    assert (idx["swin"].layout.name, idx["swin"].dim) == ("my-swin", 300)
    # A user layout wins over a built-in that fits the same files (ucf-crops: same names, D).
    (tmp_path / "mine.yaml").write_text(
        "name: my-i3d\nfile: '{stem}__{crop}.npy'\ncrops: files\nstream: mine\n", "utf-8"
    )
    _crop_tree(tmp_path / "i3d", UCF_IDS, 10, 1024)
    idx = index_streams(
        UCFCRIME_AR, tmp_path / "i3d", user_layouts=load_layout_file(tmp_path / "mine.yaml")
    )
    assert list(idx) == ["mine"] and idx["mine"].layout.name == "my-i3d"
    assert index_streams(UCFCRIME_AR, tmp_path / "i3d")["rgb"].layout.name == "ucf-crops"
    (tmp_path / "bad.yaml").write_text("name: x\nfile: '{stem}.npy'\ncolour: red\n", "utf-8")
    with pytest.raises(InputError, match="expected fields among .*got colour"):
        load_layout_file(tmp_path / "bad.yaml")


def test_list_files_absolute_relative_windows_and_csv(tmp_path):
    root = tmp_path / "feat"
    _crop_tree(root, UCF_IDS, 10, 1024, folder="Test/RGB/Abuse")
    f = root / "Test/RGB/Abuse/Abuse028_x264__0.npy"
    assert resolve_listed(str(f), root, tmp_path) == f  # absolute, exists
    assert resolve_listed("Test/RGB/Abuse/Abuse028_x264__0.npy", root, tmp_path) == f  # relative
    assert (
        resolve_listed("/media/peng/i3d/Test/RGB/Abuse/Abuse028_x264__0.npy", root, tmp_path) == f
    )
    win = "D:\\data\\UCF\\Test\\RGB\\Abuse\\Abuse028_x264__0.npy"
    listed = tmp_path / "w.list"
    listed.write_text(win + "\r\n\r\n", "utf-8")
    assert read_list(listed) == [(1, "D:/data/UCF/Test/RGB/Abuse/Abuse028_x264__0.npy")]
    assert resolve_listed(read_list(listed)[0][1], root, tmp_path) == f
    # VadCLIP CSV: header skipped, first column, crop 5 names the video (every crop is taken).
    csv = tmp_path / "test.csv"
    csv.write_text(
        "path,label\r\n/home/x/UCFClipFeatures/Abuse/Abuse028_x264__5.npy,Abuse\r\n", "utf-8"
    )
    idx = index_streams(UCFCRIME_AR, root, lists={"rgb": csv})
    assert (
        list(idx["rgb"].files) == ["Abuse028_x264"] and len(idx["rgb"].files["Abuse028_x264"]) == 10
    )
    (tmp_path / "gone.list").write_text("/x/Test/RGB/Abuse/Nope__0.npy\n", "utf-8")
    with pytest.raises(
        InputError, match=r"1 of 1 not found \(line 1: /x/Test/RGB/Abuse/Nope__0.npy\)"
    ):
        index_streams(UCFCRIME_AR, root, lists={"rgb": tmp_path / "gone.list"})


def test_crop_policy_parsing():
    assert parse_crop_policy("mean") == {"train": "mean", "val": "mean", "test": "mean"}
    assert parse_crop_policy("train=all,test=5") == {"train": "all", "val": "all", "test": "5"}
    assert parse_crop_policy("test=center") == {"train": "mean", "val": "mean", "test": "center"}
    with pytest.raises(InputError, match="expected splits among"):
        parse_crop_policy("dev=mean")
    with pytest.raises(InputError, match="crop index k, got 'max'"):
        parse_crop_policy("test=max")


def test_fingerprint_changes_with_one_value_not_with_folders(tmp_path):
    _crop_tree(tmp_path / "a", UCF_IDS, 2, 1024, folder="Test/RGB/Abuse")
    fp = fingerprint_index(index_streams(UCFCRIME_AR, tmp_path / "a"))
    _crop_tree(tmp_path / "b", UCF_IDS, 2, 1024, folder="elsewhere")
    assert fingerprint_index(index_streams(UCFCRIME_AR, tmp_path / "b")).digest == fp.digest
    x = _val("Abuse028_x264", 1, 3, 1024)
    x[0, 7] += 1e-3
    np.save(tmp_path / "b" / "elsewhere" / "Abuse028_x264__1.npy", x)
    fp2 = fingerprint_index(index_streams(UCFCRIME_AR, tmp_path / "b"))
    assert fp2.digest != fp.digest and fp2.streams["rgb"].files == 6
    changed = set(fp2.streams["rgb"].lines) ^ set(fp.streams["rgb"].lines)
    assert {ln.split("\t")[0] for ln in changed} == {"Abuse028_x264__1.npy"}


@pytest.fixture
def ucf_two_streams(built_home, tmp_path):
    fx = built_home[UCFCRIME_AR.name]
    ids = [v for s in SPLITS for v in fx.expected[s]]
    for vid in ids:
        folder = "Test" if vid in fx.expected["test"] else "Train"
        _crop_tree(tmp_path / "i3d", [vid], 10, 1024, T=4, folder=f"{folder}/RGB/x")
        _crop_tree(tmp_path / "clip", [vid], 10, 512, T=4, folder="x")
    return fx, tmp_path


def test_build_rgb_and_clip_with_a_crop_policy(ucf_two_streams, monkeypatch):
    fx, tmp = ucf_two_streams
    m = build_features(
        UCFCRIME_AR.name, tmp / "i3d", streams={"clip": tmp / "clip"}, crops="train=mean,test=5"
    )
    assert m.streams == ["rgb", "clip"] and m.dims == {"rgb": 1024, "clip": 512}
    assert m.crops == {"train": "mean", "val": "mean", "test": "5"}
    store = features_dir(UCFCRIME_AR)
    for split in SPLITS:
        for row in read_split(store, split).to_pylist():
            vid = row["video_id"]
            for s, D in (("rgb", 1024), ("clip", 512)):
                want = (
                    _val(vid, 5, 4, D)
                    if split == "test"
                    else np.mean([_val(vid, k, 4, D) for k in range(10)], axis=0)
                )
                np.testing.assert_allclose(np.asarray(row[s], np.float32), want, rtol=1e-6)
    # The store's fingerprint is the folder's, and `var-bench fingerprint` prints it.
    fp, lines = fingerprint_target(store)
    assert fp.digest == m.features_digest and fp.streams["clip"].files == 10 * len(
        [v for s in SPLITS for v in fx.expected[s]]
    )
    raw, _ = fingerprint_target(tmp / "i3d", UCFCRIME_AR.name, streams={"clip": tmp / "clip"})
    assert raw.digest == m.features_digest
    assert any(ln.startswith("rgb matches no known ucfcrime-ar release") for ln in lines)
    from var_bench.cli import cli

    out = CliRunner().invoke(cli, ["fingerprint", str(store)])
    assert out.exit_code == 0 and f"features digest {m.features_digest}" in out.output
    # A known fingerprint shipped with the benchmark is recognised by the build.
    known = [KnownFingerprint("test release", "rgb", fp.streams["rgb"].digest)]
    monkeypatch.setattr(build_mod, "known_fingerprints", lambda spec: known)
    m2 = build_features(
        UCFCRIME_AR.name, tmp / "i3d", streams={"clip": tmp / "clip"}, crops="train=mean,test=5"
    )
    assert m2.matches == {"rgb": "test release", "clip": None}


def test_build_all_crops_loads_as_t_c_d_views(ucf_two_streams):
    fx, tmp = ucf_two_streams
    from var_bench.loaders import FeatureDataset

    build_features(UCFCRIME_AR.name, tmp / "i3d", crops="all")
    fd = FeatureDataset(read_split(features_dir(UCFCRIME_AR), "test"), crop="center")
    vid = fd[0]["video_id"]
    np.testing.assert_array_equal(fd[0]["rgb"], _val(vid, 0, 4, 1024))
    a = fd._views["rgb"][0]
    assert a.shape == (4, 10, 1024) and not a.flags.owndata  # a view of the mapped shard
    np.testing.assert_array_equal(a[:, 7], _val(vid, 7, 4, 1024))


def test_a_stream_takes_its_train_and_test_lists_three_streams_built(ucf_two_streams):
    """docs/features.md's VadCLIP command: two --list files for one stream, their union taken;
    one names paths relative to its own folder, the other the authors' absolute paths."""
    fx, tmp = ucf_two_streams
    from var_bench.cli import cli
    from var_bench.features.manifest import FeatureManifest

    test_ids = fx.expected["test"]
    train_ids = [v for s in ("train", "val") for v in fx.expected[s]]
    for vid in train_ids + test_ids:  # a Flow tree too: rgb + flow + clip, three video streams
        folder = "Test" if vid in test_ids else "Train"
        _crop_tree(tmp / "i3d", [vid], 10, 1024, T=4, folder=f"{folder}/Flow/x")
    (tmp / "lists").mkdir()
    train = tmp / "lists" / "ucf_CLIP_rgb.csv"
    train.write_text(
        "path,label\n" + "".join(f"../clip/x/{v}__0.npy,Normal\n" for v in train_ids), "utf-8"
    )
    test = tmp / "lists" / "ucf_CLIP_rgbtest.csv"
    test.write_text(
        "path,label\n"
        + "".join(f"/home/vadclip/UCFClipFeatures/x/{v}__5.npy,A\n" for v in test_ids),
        "utf-8",
    )
    args = [
        "build",
        UCFCRIME_AR.name,
        "--features",
        str(tmp / "i3d"),
        "--stream",
        f"clip={tmp / 'clip'}",
        "--no-progress",
    ]
    out = CliRunner().invoke(cli, args + ["--list", f"clip={train}", "--list", f"clip={test}"])
    assert out.exit_code == 0, out.output
    m = FeatureManifest.read(features_dir(UCFCRIME_AR))
    assert m.streams == ["rgb", "flow", "clip"] and m.dims == {
        "rgb": 1024,
        "flow": 1024,
        "clip": 512,
    }
    assert m.lists["clip"] == [str(train), str(test)] and m.lists["rgb"] == []
    assert m.counts == {s: len(fx.expected[s]) for s in SPLITS}
    rows = read_split(features_dir(UCFCRIME_AR), "test").to_pylist()
    for row in rows:
        np.testing.assert_allclose(
            np.asarray(row["clip"], np.float32),
            np.mean([_val(row["video_id"], k, 4, 512) for k in range(10)], 0),
            rtol=1e-6,
        )
    # The docs' form: the CLIP tree as --features, both lists without STREAM= (the main tree's).
    fp, _ = fingerprint_target(tmp / "clip", UCFCRIME_AR.name, lists={"rgb": [train, test]})
    assert list(fp.streams) == ["clip"] and fp.streams["clip"].files == 10 * len(
        train_ids + test_ids
    )
    # The train list alone leaves the test videos out of clip: the build refuses, one line.
    out = CliRunner().invoke(cli, args + ["--list", f"clip={train}"])
    assert isinstance(out.exception, InputError), out.output
    msg = str(out.exception)
    assert (
        f"{len(test_ids)} missing (test {len(test_ids)}) in clip {tmp / 'clip'} "
        f"({len(test_ids)} absent):" in msg
    )
