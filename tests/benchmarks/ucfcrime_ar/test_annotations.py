import pytest

from var_bench.benchmarks.ucfcrime_ar.annotations import (
    clip_segments,
    read_ucf_frames,
    read_ucf_temporal,
)
from var_bench.errors import DataError


def test_ucf_temporal_runs_of_spaces_and_tabs(tmp_path):
    p = tmp_path / "t.txt"
    p.write_text(
        "Abuse028_x264.mp4  Abuse  165  240  -1  -1  \n"
        "Arson011_x264.mp4\tArson\t150\t420\t680\t1267\n"
    )
    t = read_ucf_temporal(p)
    assert t["Abuse028_x264"].segments == [[165, 240]]
    assert t["Arson011_x264"].label == "Arson"
    assert t["Arson011_x264"].segments == [[150, 420], [680, 1267]]


def test_ucf_frames(tmp_path):
    p = tmp_path / "u.txt"
    p.write_text("Arson/Arson011_x264.mp4 1266 Arson 150 420 680 1267 \n")
    f = read_ucf_frames(p)["Arson011_x264"]
    assert (f.num_frames, f.label, f.segments) == (1266, "Arson", [[150, 420], [680, 1267]])
    p.write_text("Arson/Arson011_x264.mp4 many Arson 1 2 -1 -1\n")
    with pytest.raises(DataError, match="7 fields"):
        read_ucf_frames(p)


def test_clip_segments_end_past_frame_count():
    assert clip_segments([[150, 420], [680, 1267]], 1266) == ([[150, 420], [680, 1266]], True)
    assert clip_segments([[1, 5]], 10) == ([[1, 5]], False)
    with pytest.raises(DataError):
        clip_segments([[20, 30]], 20)
