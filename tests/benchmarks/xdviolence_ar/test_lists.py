import pytest

from var_bench.benchmarks.xdviolence_ar.lists import read_xd_list, xd_label_codes
from var_bench.errors import DataError


@pytest.mark.parametrize(
    "vid, codes",
    [
        ("Bad.Boys.1995__#01-11-55_01-12-40_label_G-B2-B6", ["G", "B2", "B6"]),
        ("Bad.Boys.1995__#01-33-51_01-34-37_label_B2-0-0", ["B2"]),
        ("wangted.2008__#01-26-25_01-27-00_label_A", ["A"]),
    ],
)
def test_label_codes(vid, codes):
    assert xd_label_codes(vid) == codes


def test_label_codes_missing():
    with pytest.raises(DataError, match="_label_"):
        xd_label_codes("no_label_here.x")


def test_xd_list_keeps_order_and_refuses_other_paths(tmp_path):
    p = tmp_path / "audio.list"
    p.write_text("/a/b/X__#1_label_A__vggish.npy\r\n\nG:\\c\\Y__#2_label_B1-0-0__vggish.npy\n")
    assert read_xd_list(p) == ["X__#1_label_A", "Y__#2_label_B1-0-0"]
    p.write_text("/a/X__0.npy\n")
    with pytest.raises(DataError, match="__vggish.npy"):
        read_xd_list(p)
