import pytest

from var_bench.benchmarks.xdviolence_ar.annotations import read_xd_annotations
from var_bench.errors import DataError


def test_xd_annotations_strip_mp4_and_refuse_repeats(tmp_path):
    p = tmp_path / "a.txt"
    p.write_text("v=U6MC8JJJZSY__#1_label_G-0-0.mp4 150 779\nA__#1_label_B1-0-0 1 2 3 4\n")
    a = read_xd_annotations(p)
    assert a.segments == {
        "v=U6MC8JJJZSY__#1_label_G-0-0": [[150, 779]],
        "A__#1_label_B1-0-0": [[1, 2], [3, 4]],
    }
    assert a.stripped_mp4 == 1
    p.write_text("a 1 2\na.mp4 3 4\n")
    with pytest.raises(DataError, match="each video once"):
        read_xd_annotations(p)
