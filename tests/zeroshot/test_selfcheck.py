"""The frame-layout self-check: the pattern, and each planted fault refused in one line."""

from __future__ import annotations

import numpy as np
import pytest
from support.zeroshot import FakeEncoder

from var_bench.errors import InputError
from var_bench.zeroshot.selfcheck import check_frames, pattern_frames, self_check


def test_a_correct_pipeline_passes():
    self_check(FakeEncoder())


@pytest.mark.parametrize(
    ("fault", "words"),
    [
        ("bgr", "got BGR"),
        ("hwc", "channels in the wrong place"),
        ("scale", "wrong value scale"),
        ("reverse", "frames in time order"),
    ],
)
def test_each_fault_is_refused_in_one_line(fault, words):
    with pytest.raises(InputError) as e:
        self_check(FakeEncoder(fault))
    assert words in str(e.value) and "\n" not in str(e.value)


def test_channels_first_frames_are_refused_at_the_door():
    frames = pattern_frames().transpose(0, 3, 1, 2)
    with pytest.raises(InputError, match=r"channels-first"):
        check_frames(frames)
    with pytest.raises(InputError, match="dtype float32"):
        check_frames(pattern_frames().astype(np.float32))


def test_a_decoder_that_swaps_channels_is_caught_before_the_model():
    with pytest.raises(InputError, match=r"\(decode\).*BGR"):
        self_check(FakeEncoder(), decode=lambda f: np.ascontiguousarray(f[..., ::-1]))
    with pytest.raises(InputError, match=r"\(decode\).*time order"):
        self_check(FakeEncoder(), decode=lambda f: f[::-1])


def test_the_real_decoder_round_trip_passes():
    pytest.importorskip("av", reason="PyAV (the extract extra) is not installed")
    from var_bench.zeroshot.run import run_self_check

    run_self_check(FakeEncoder(fps=1.0, max_frames=8))
