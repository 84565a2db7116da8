import openpyxl
import pytest
from support.rawdata import UCF_TEST, make_ucf

from var_bench.benchmarks.ucfcrime_ar.captions import read_captions
from var_bench.errors import DataError


def test_strips_newline_suffixed_names_and_reads_first_sheet_by_index(tmp_path):
    fx = make_ucf(tmp_path)
    train = read_captions(fx.raw["captions_train"])  # sheet "sheet1"
    test = read_captions(fx.raw["captions_test"])  # sheet "Sheet1" + 2 empty columns
    assert list(test["video_id"]) == [
        "Abuse028_x264",
        "Normal_Videos_003_x264",
        "Normal_Videos_006_x264",
    ]
    assert all("\n" not in p for p in train["video_path"])
    assert train["folder"].iloc[-1] == "Training_Normal_Videos_Anomaly"
    assert list(test["upstream_index"]) == [0, 1, 2]
    assert len(test) == len(UCF_TEST)


def test_folds_whitespace_in_captions_and_keeps_duplicates(tmp_path):
    train = read_captions(make_ucf(tmp_path).raw["captions_train"])
    assert train["caption_en"].iloc[1] == "Two men fought in the street."
    assert (train["caption_en"] == "An empty street.").sum() == 2


def _book(path, header, rows):
    wb = openpyxl.Workbook()
    wb.active.append(header)
    for r in rows:
        wb.active.append(r)
    wb.save(path)


def test_missing_column_is_one_line_error(tmp_path):
    _book(tmp_path / "x.xlsx", ["Video", "Chinese Text", "English Text"], [["a.mp4", "z", "e"]])
    with pytest.raises(DataError, match=r"expected columns 'Video Name'.*got header") as e:
        read_captions(tmp_path / "x.xlsx")
    assert "\n" not in str(e.value)


def test_repeated_video_and_empty_caption_refused(tmp_path):
    h = ["Video Name", "Chinese Text", "English Text"]
    _book(tmp_path / "d.xlsx", h, [["A/a.mp4", "z", "e"], ["A/a.mp4\n", "z", "f"]])
    with pytest.raises(DataError, match="each video once"):
        read_captions(tmp_path / "d.xlsx")
    _book(tmp_path / "e.xlsx", h, [["A/a.mp4", "z", None]])
    with pytest.raises(DataError, match="two captions"):
        read_captions(tmp_path / "e.xlsx")


def test_not_a_workbook(tmp_path):
    (tmp_path / "n.xlsx").write_text("hello")
    with pytest.raises(DataError, match="expected an .xlsx workbook"):
        read_captions(tmp_path / "n.xlsx")
