"""Red-team round 2 cases of ``extract`` (redteam2.md E8-E15): resource bounds decided before
decoding, non-regular files refused before they are opened, short videos skipped, bad shard
variables one line."""

from __future__ import annotations

import os
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from var_bench.errors import InputError
from var_bench.extract import extract
from var_bench.extract.pipeline import _Job, check_run_snippets
from var_bench.extract.shards import parse_shard
from var_bench.extract.state import STATE_DIR
from var_bench.extract.video import check_bounds, decode_frames, index_videos, probe_frames

from .conftest import UCF_SMALL

av = pytest.importorskip("av")
from support.videos import write_video  # noqa: E402


def _ffv1(path, n, rate, height=48, width=64):
    with av.open(str(path), "w") as c:
        vs = c.add_stream("ffv1", rate=rate)
        vs.width, vs.height, vs.pix_fmt = width, height, "bgr0"
        for _ in range(n):
            for p in vs.encode(
                av.VideoFrame.from_ndarray(np.zeros((height, width, 3), np.uint8), format="rgb24")
            ):
                c.mux(p)
        for p in vs.encode():
            c.mux(p)
    return path


def test_e9_e10_an_extreme_aspect_ratio_is_refused_before_decoding(tmp_path):
    path = write_video(tmp_path / "Arson011_x264.mp4", 2, height=2, width=4096)
    with pytest.raises(InputError, match=r"VAR_BENCH_MAX_FRAME_PIXELS=N") as info:
        next(decode_frames(path, None, resize=256))
    assert "256 x 524288" in str(info.value)


def test_e9_the_pixel_bound_is_raised_by_its_variable(tmp_path, monkeypatch):
    path = write_video(tmp_path / "v.mp4", 2, height=48, width=64)
    monkeypatch.setenv("VAR_BENCH_MAX_FRAME_PIXELS", "100")
    with pytest.raises(InputError, match="frame_pixels|pixels per frame"):
        next(decode_frames(path, None, resize=20))
    monkeypatch.setenv("VAR_BENCH_MAX_FRAME_PIXELS", "1000")
    assert len(list(decode_frames(path, None, resize=20))) == 2


def test_e11_one_frame_per_hour_is_refused_as_an_up_conversion(tmp_path, monkeypatch):
    path = _ffv1(tmp_path / "Arson016_x264.mkv", 3, Fraction(1, 3600))
    with pytest.raises(
        InputError, match=r"up-conversion .* <= 16, got 8.64e\+04 .*MAX_FRAME_REPEAT"
    ):
        next(decode_frames(path, 24, resize=20))
    # raised, the frame bound still stops it before 259 200 frames are made
    monkeypatch.setenv("VAR_BENCH_MAX_FRAME_REPEAT", "1000000")
    monkeypatch.setenv("VAR_BENCH_MAX_VIDEO_FRAMES", "1000")
    with pytest.raises(InputError, match="VAR_BENCH_MAX_VIDEO_FRAMES"):
        list(decode_frames(path, 24, resize=20))


def test_frames_from_the_container_duration_are_bounded():
    with pytest.raises(InputError, match=r"frames per video .* <= 2000000, got 2592000 "):
        check_bounds("v.mp4", 48, 64, Fraction(30), Fraction(24), 256, 30 * 3600.0)
    check_bounds("v.mp4", 48, 64, Fraction(30), Fraction(24), 256, 3600.0)  # an hour is fine


def test_e12_a_fifo_is_refused_before_it_is_opened(tmp_path):
    (tmp_path / "v").mkdir()
    os.mkfifo(tmp_path / "v" / "Abuse028_x264.mp4")
    with pytest.raises(InputError, match="expected a regular file, .* is a FIFO"):
        index_videos(tmp_path / "v")


def test_e13_a_dangling_link_is_no_video(tmp_path):
    (tmp_path / "v").mkdir()
    (tmp_path / "v" / "Abuse028_x264.mp4").symlink_to(tmp_path / "nowhere")
    assert index_videos(tmp_path / "v") == {}


@pytest.mark.parametrize(
    "env",
    [
        {"RANK": "abc", "WORLD_SIZE": "2"},
        {"RANK": "0", "WORLD_SIZE": "two"},
        {"SLURM_ARRAY_TASK_ID": "1", "SLURM_ARRAY_TASK_COUNT": "2", "SLURM_ARRAY_TASK_MIN": "x"},
    ],
)
def test_e15_a_non_integer_shard_variable_is_one_line(env):
    with pytest.raises(InputError, match="--shard auto: expected integer"):
        parse_shard("auto", env)


def test_e8_a_video_shorter_than_one_snippet_is_skipped_and_not_done(built_home, tmp_path):
    vid = built_home["ucfcrime-ar"].expected["test"][0]
    write_video(tmp_path / "videos" / f"{vid}.mp4", 5)
    out = tmp_path / "o"
    res = extract(
        "ucfcrime-ar",
        tmp_path / "videos",
        out,
        "i3d-rgb",
        recipe=UCF_SMALL,
        weights="random",
        allow_missing=True,
        ids=[vid],
        workers=0,
    )
    assert res.too_short == [vid] and res.done == [] and res.snippets == 0
    assert not list(out.rglob("*.npy"))
    assert not (out / STATE_DIR).exists() or not any((out / STATE_DIR).rglob(f"{vid}*"))


@given(
    cut=st.integers(0, 4000),
    flips=st.lists(st.tuples(st.integers(0, 4000), st.integers(0, 255)), max_size=8),
)
@example(cut=454, flips=[])  # the stream's decoder is lost: codec_context is None
@settings(max_examples=12, deadline=None, derandomize=True)
def test_a_mutated_video_decodes_or_is_one_input_error(cut, flips):
    """What ``extract`` reads from a user's video: truncated or corrupted bytes decode, or end
    in one InputError line (never another exception)."""
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        path = write_video(Path(d) / "v.mp4", 20)
        data = bytearray(path.read_bytes())
        for pos, byte in flips:
            data[pos % len(data)] = byte
        path.write_bytes(bytes(data[: max(len(data) - cut, 0)]))
        try:
            index_videos(d)
            frames = list(decode_frames(path, 24, resize=20))
        except InputError as e:
            assert "\n" not in str(e)
        else:
            assert all(f.ndim == 3 for f in frames)


def test_the_snippets_of_a_run_are_bounded_before_any_work(built_home, tmp_path, monkeypatch):
    """'snippets per run': each video's header (duration x recipe fps / F) is probed before the
    model runs; over the bound the run is refused in one line and nothing is written; the
    variable raises it (checked on the same jobs, without running the model)."""
    fx = built_home["ucfcrime-ar"]
    ids = fx.expected["test"][:2]
    for i, vid in enumerate(ids):
        write_video(tmp_path / "videos" / f"{vid}.mp4", 48, seed=i)  # 1.6 s at 30 fps
    out = tmp_path / "o"
    monkeypatch.setenv("VAR_BENCH_MAX_RUN_SNIPPETS", "5")
    with pytest.raises(InputError) as info:
        extract("ucfcrime-ar", tmp_path / "videos", out, "i3d-rgb", recipe=UCF_SMALL,
                weights="random", allow_missing=True, ids=ids, workers=0)  # fmt: skip
    msg = str(info.value)
    assert "\n" not in msg and "VAR_BENCH_MAX_RUN_SNIPPETS=N" in msg and "<= 5, got 6 " in msg
    assert not list(out.rglob("*.npy"))
    jobs = [_Job(v, tmp_path / "videos" / f"{v}.mp4", [], None) for v in ids]
    monkeypatch.setenv("VAR_BENCH_MAX_RUN_SNIPPETS", "6")
    assert check_run_snippets(jobs, UCF_SMALL) == 6  # 2 videos x floor(48 / 16)


def test_probing_reads_the_header_only(tmp_path):
    path = write_video(tmp_path / "v.mp4", 60)
    assert probe_frames(path, 30.0) == pytest.approx(60, abs=2)
    assert probe_frames(path, 15.0) == pytest.approx(30, abs=1)
    assert probe_frames(tmp_path / "nothing.mp4") == 0.0
    (tmp_path / "junk.mp4").write_bytes(b"not a video")
    assert probe_frames(tmp_path / "junk.mp4") == 0.0
