"""Upstream raw feature layouts that ``var-bench synth`` writes: names, dimensions, file paths.

The layouts are those of docs/interfaces (UCF crops per file, RTFM one file per video, XD-Violence
I3D crops per file, VGGish per video). ``split`` here is the *upstream* split: ``"train"`` (the
built train + val) or ``"test"``.
"""

from __future__ import annotations

from pathlib import Path

# Names, dimensions and the crop structure of each layout live in features.layouts (the reader);
# the writer derives its tables from them.
from var_bench.features.layouts import UCF_CROPS, UCF_RTFM, XD_I3D, XD_VGGISH, all_layouts

LAYOUTS = all_layouts()

#: The video layouts synth writes (the ``--layout`` choices of ``var-bench synth``); the feature
#: stage reads more (CLIP, PEL4VAD, TEVAD), which synth does not generate.
VIDEO_LAYOUT_NAMES: tuple[str, ...] = (UCF_CROPS, UCF_RTFM, XD_I3D)
#: Feature dimension D per layout.
DIMS: dict[str, int] = {n: lay.dim for n, lay in LAYOUTS.items()}
#: Layouts storing one file per crop (``<Stem>__<k>.npy``) rather than ``[T, C, D]`` per video.
PER_CROP_FILES = frozenset(n for n, lay in LAYOUTS.items() if lay.per_crop)
#: Layouts with a Flow tree beside the RGB one.
FLOW_LAYOUTS = frozenset(n for n, lay in LAYOUTS.items() if lay.flow)

_UCF_NORMAL_FOLDER = {"train": "Training_Normal_Videos_Anomaly",
                      "test": "Testing_Normal_Videos_Anomaly"}
_XD_FOLDER = {("rgb", "train"): "RGB", ("rgb", "test"): "RGBTest",
              ("flow", "train"): "Flow", ("flow", "test"): "FlowTest"}


def top_folders(layout: str) -> tuple[str, ...]:
    """The folders a layout creates directly under the tree root."""
    return {UCF_CROPS: ("Train", "Test"),
            UCF_RTFM: ("UCF_Train_ten_crop_i3d", "UCF_Test_ten_crop_i3d"),
            XD_I3D: tuple(_XD_FOLDER.values()),
            XD_VGGISH: ("vggish-features",)}[layout]


def ucf_class_folder(video_path: str, split: str) -> str:
    """Class folder of a UCFCrime-AR video from its metadata ``video_path`` (``Abuse/x.mp4``)."""
    folder = Path(video_path).parent.name
    return folder or _UCF_NORMAL_FOLDER[split]


def video_files(layout: str, stream: str, split: str, stem: str, crops: int,
                class_folder: str = "") -> list[Path]:
    """Relative paths of one video's files: one per crop (``PER_CROP_FILES``) or one in all."""
    if layout == UCF_CROPS:
        base = Path("Train" if split == "train" else "Test", "RGB" if stream == "rgb" else "Flow",
                    class_folder)
        return [base / f"{stem}__{k}.npy" for k in range(crops)]
    if layout == UCF_RTFM:
        return [Path(f"UCF_{split.capitalize()}_ten_crop_i3d", f"{stem}_i3d.npy")]
    if layout == XD_I3D:
        return [Path(_XD_FOLDER[stream, split], f"{stem}__{k}.npy") for k in range(crops)]
    if layout == XD_VGGISH:
        return [Path("vggish-features", split, f"{stem}__vggish.npy")]
    raise ValueError(f"unknown layout {layout!r}")
