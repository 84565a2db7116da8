"""Fixtures of the extraction tests: tiny synthetic videos for every id of the built fixtures,
and small recipes (short side 20, 16 px crops) so the exact architectures run in seconds."""

from __future__ import annotations

import pytest

from var_bench.extract.recipes import RECIPES

av = pytest.importorskip("av", reason="PyAV (the extract extra) is not installed")
cv2 = pytest.importorskip("cv2", reason="OpenCV (opencv-contrib-python-headless) is not installed")

from support.videos import write_video  # noqa: E402

UCF_SMALL = RECIPES["ucf-crime-release"].with_options(resize=20, crop=16, crops=1)
XD_SMALL = RECIPES["xd-violence-release"].with_options(resize=20, crop=16, crops=1)


def frames_for(i: int) -> int:
    """Video i's frame count (30 fps): 33, 40, 47, ... so T = floor(N / 16) varies
    (2, 2, 2, 3 ...)."""
    return 33 + 7 * (i % 6)


@pytest.fixture
def ucf_videos(built_home, tmp_path):
    """Every UCF fixture id as ``videos/<Class-ish folder>/<id>.mp4`` (30 fps);
    -> (root, {id: N})."""
    fx = built_home["ucfcrime-ar"]
    ids = [v for s in ("train", "val", "test") for v in fx.expected[s]]
    root = tmp_path / "videos"
    counts = {}
    for i, vid in enumerate(ids):
        counts[vid] = frames_for(i)
        write_video(root / ("a" if i % 2 else "b/c") / f"{vid}.mp4", counts[vid], seed=i)
    return root, counts


@pytest.fixture
def xd_videos(built_home, tmp_path):
    """Every XD fixture id at 30 fps with a 440 Hz tone; -> (root, {id: N at 30 fps})."""
    fx = built_home["xdviolence-ar"]
    ids = [v for s in ("train", "val", "test") for v in fx.expected[s]]
    root = tmp_path / "xdvideos"
    counts = {}
    for i, vid in enumerate(ids):
        counts[vid] = 41 + 7 * (i % 3)  # 33 .. 44 frames at 24 fps
        write_video(root / f"{vid}.mp4", counts[vid], seed=i, audio_hz=440.0)
    return root, counts


@pytest.fixture(autouse=True)
def _one_torch_thread():
    """One intra-op thread: on a small shared CI machine, oversubscribed OpenMP threads make the
    tiny convolutions here several times slower (the results do not depend on it)."""
    import torch

    before, cv_before = torch.get_num_threads(), cv2.getNumThreads()
    torch.set_num_threads(1)
    cv2.setNumThreads(1)
    yield
    torch.set_num_threads(before)
    cv2.setNumThreads(cv_before)
