"""Folder trees declared as data (``Layout.tree``) give, for every built-in layout, byte for byte
the paths the writers hard-coded per layout name before (kept below as the reference)."""

from __future__ import annotations

from pathlib import Path

import pytest
from support import featuretrees

from var_bench.benchmarks import Layout
from var_bench.benchmarks.collections import COLLECTIONS
from var_bench.errors import InputError
from var_bench.synth import layout as synth_layout

LAYOUTS = {lay.name: lay for c in COLLECTIONS.values() for lay in c.layouts}
#: (video id, its metadata video_path) per upstream split: anomalous and normal videos.
VIDEOS = {
    "train": [
        ("Abuse001_x264", "Abuse/Abuse001_x264.mp4"),
        ("Normal_Videos001_x264", "Training_Normal_Videos_Anomaly/Normal_Videos001_x264.mp4"),
        ("A.Beautiful.Mind.2001__#00-01-45_00-02-50_label_A", None),
    ],
    "test": [
        ("Abuse028_x264", "Abuse/Abuse028_x264.mp4"),
        ("Normal_Videos_003_x264", "Testing_Normal_Videos_Anomaly/Normal_Videos_003_x264.mp4"),
        ("v=-fOWSLV6Esw__#1_label_B4-0-0", None),
    ],
}


# --- the per-layout code the declared trees replace (synth/layout.py, tests/support) --------------

_UCF_NORMAL_FOLDER = {
    "train": "Training_Normal_Videos_Anomaly",
    "test": "Testing_Normal_Videos_Anomaly",
}
_XD_FOLDER = {
    ("rgb", "train"): "RGB",
    ("rgb", "test"): "RGBTest",
    ("flow", "train"): "Flow",
    ("flow", "test"): "FlowTest",
}


def old_ucf_class_folder(video_path: str, split: str) -> str:
    return Path(video_path).parent.name or _UCF_NORMAL_FOLDER[split]


def old_synth_files(
    layout: str, stream: str, split: str, stem: str, crops: int, class_folder: str = ""
) -> list[Path]:
    if layout == "ucf-crops":
        base = Path(
            "Train" if split == "train" else "Test",
            "RGB" if stream == "rgb" else "Flow",
            class_folder,
        )
        return [base / f"{stem}__{k}.npy" for k in range(crops)]
    if layout == "ucf-rtfm":
        return [Path(f"UCF_{split.capitalize()}_ten_crop_i3d", f"{stem}_i3d.npy")]
    if layout == "xd-i3d":
        return [Path(_XD_FOLDER[stream, split], f"{stem}__{k}.npy") for k in range(crops)]
    if layout == "xd-vggish":
        return [Path("vggish-features", split, f"{stem}__vggish.npy")]
    raise ValueError(layout)


def _old_test_class(video_id: str, up: str) -> str:
    cls = "".join(c for c in video_id.split("_")[0] if c.isalpha()) or "Normal"
    if cls.startswith("Normal"):
        cls = "Testing_Normal_Videos_Anomaly" if up == "test" else "Training_Normal_Videos_Anomaly"
    return cls


def old_test_path(
    root: Path, layout: str, split: str, video_id: str, crop: int = 0, stream: str = "rgb"
) -> Path:
    up = "test" if split == "test" else "train"
    if layout == "ucf-crops":
        top = "Test" if up == "test" else "Train"
        return (
            root
            / top
            / ("RGB" if stream == "rgb" else "Flow")
            / _old_test_class(video_id, up)
            / f"{video_id}__{crop}.npy"
        )
    if layout == "vadclip-ucf":
        return root / _old_test_class(video_id, up) / f"{video_id}__{crop}.npy"
    if layout == "pel4vad-ucf":
        return root / (f"{video_id}.npy" if crop == 0 else f"{video_id}__{crop}.npy")
    if layout in ("tevad-text-ucf", "tevad-text-xd"):
        return root / f"{up}_text" / f"{video_id}_emb.npy"
    if layout == "xd-tevad":
        return root / f"xd_{up}_i3d" / f"{video_id}_i3d.npy"
    if layout == "vadclip-xd":
        return root / f"XD{up.capitalize()}ClipFeatures" / f"{video_id}__{crop}.npy"
    if layout == "ucf-rtfm":
        return root / f"UCF_{up.capitalize()}_ten_crop_i3d" / f"{video_id}_i3d.npy"
    if layout == "xd-i3d":
        return root / _XD_FOLDER[stream, up] / f"{video_id}__{crop}.npy"
    if layout == "xd-vggish":
        return root / "vggish-features" / up / f"{video_id}__vggish.npy"
    raise ValueError(layout)


def _streams(lay: Layout) -> tuple[str, ...]:
    return (lay.stream, "flow") if lay.flow else (lay.stream,)


@pytest.mark.parametrize("name", ["ucf-crops", "ucf-rtfm", "xd-i3d", "xd-vggish"])
def test_synth_paths_are_the_hard_coded_ones(name):
    lay = LAYOUTS[name]
    for split, videos in VIDEOS.items():
        for stem, video_path in videos:
            if lay.class_folders and video_path is None:
                continue  # every UCF-Crime video has a class folder in its video_path
            old_class = old_ucf_class_folder(video_path, split) if name == "ucf-crops" else ""
            new_class = synth_layout.class_folder({"video_path": video_path})
            for stream in _streams(lay):
                for crops in (1, 5, 10):
                    want = old_synth_files(name, stream, split, stem, crops, old_class)
                    got = synth_layout.video_files(lay, stream, split, stem, crops, new_class)
                    assert got == want, (name, stream, split, stem)


@pytest.mark.parametrize("name", sorted(LAYOUTS))
def test_test_tree_paths_are_the_hard_coded_ones(name, tmp_path):
    lay = LAYOUTS[name]
    for split in ("train", "val", "test"):
        for stem, _ in VIDEOS["test" if split == "test" else "train"]:
            for stream in _streams(lay):
                for crop in range(10 if lay.per_crop else 1):
                    want = old_test_path(tmp_path, name, split, stem, crop, stream)
                    assert featuretrees.path_of(tmp_path, name, split, stem, crop, stream) == want


def test_synth_writes_the_rgb_layouts_build_detects():
    from var_bench.benchmarks import UCFCRIME_AR, XDVIOLENCE_AR

    assert [lay.name for lay in synth_layout.video_layouts(UCFCRIME_AR)] == [
        "ucf-crops",
        "ucf-rtfm",
    ]
    assert [lay.name for lay in synth_layout.video_layouts(XDVIOLENCE_AR)] == ["xd-i3d", "xd-tevad"]


def test_tree_keys_templates_and_lookups():
    lay = Layout("x", "{stem}.npy", crops="none", tree={"*": "all/{split}", "rgb/test": "T"})
    assert lay.tree == (("*/*", "all/{split}"), ("rgb/test", "T"))
    assert lay.folder_of("rgb", "test") == "T" and lay.folder_of("rgb", "train") == "all/train"
    assert lay.path("flow", "test", "v") == "all/test/v.npy" and lay.root("rgb") == ""
    assert Layout("y", "{stem}.npy", crops="none").path("rgb", "train", "v") == "v.npy"
    assert LAYOUTS["pel4vad-ucf"].path("rgb", "test", "v", 0) == "v.npy"
    assert LAYOUTS["ucf-crops"].class_folders and not LAYOUTS["xd-i3d"].class_folders
    with pytest.raises(InputError, match=r"layout x: expected the video's class folder"):
        Layout("x", "{stem}.npy", crops="none", tree="{class}").folder_of("rgb", "test")
    with pytest.raises(InputError, match="split expected train or test"):
        lay.folder_of("rgb", "val")
    for bad in (
        {"rgb/val": "a"},
        {"Rgb": "a"},
        {"*": "../a"},
        {"*": "/a"},
        {"*": "a//b"},
        {"*": "{stem}"},
        {"*": "a{"},
        3,
    ):
        with pytest.raises(InputError, match="layout z: tree"):
            Layout("z", "{stem}.npy", crops="none", tree=bad)


def test_a_user_layout_file_declares_a_tree(tmp_path):
    from var_bench.features.layouts import load_layout_file

    f = tmp_path / "l.yaml"
    f.write_text(
        "name: swin\nfile: '{stem}_swin.npy'\ncrops: none\nstream: swin\n"
        "tree: {swin/train: tr, swin/test: 'te/{class}'}\n"
    )
    (lay,) = load_layout_file(f)
    assert lay.path("swin", "test", "v", class_folder="Abuse") == "te/Abuse/v_swin.npy"
