"""``--list`` files and ``--layout-file`` YAMLs read back strictly (red-team round 2: Y2, Y3,
Y5, Y8, Y14, Y16, LS1, LS2, LS7): one InputError line, exit 2, never an internal error; listed
paths outside the stream's folder are never used."""

from __future__ import annotations

import os

import numpy as np
import pytest

from var_bench.benchmarks import UCFCRIME_AR
from var_bench.errors import InputError
from var_bench.features.layouts import index_streams, load_layout_file
from var_bench.features.listfiles import read_list

STEM = "Arrest001_x264"


def _layout(tmp_path, text: str | bytes):
    path = tmp_path / "lay.yaml"
    path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    return path


@pytest.mark.parametrize(
    "case, text, match",
    [
        ("Y2", "name: x\nfile: '{stem}_{stem}__{crop}.npy'\n", "{stem} once"),
        ("Y3", "name: x\nfile: '{stem}__{crop}_{crop}.npy'\n", "{crop} at most once"),
        (
            "Y5",
            "name: x\nfile: '{stem}__{crop}.npy'\ndim: true\n",
            "field dim: expected a valid int",
        ),
        (
            "Y8",
            "name: x\nfile: '{stem}__{crop}.npy'\nflow: 'no'\n",
            "field flow: expected a valid bool",
        ),
        ("Y8b", "name: x\nfile: '{stem}__{crop}.npy'\naudio: 'false'\n", "field audio"),
        ("Y16", "name: null\nfile: '{stem}__{crop}.npy'\n", "field name: expected a valid str"),
        ("Y16b", "name: [1, 2]\nfile: '{stem}__{crop}.npy'\n", "field name: expected a valid str"),
        ("missing", "name: x\n", "field file: expected a value, got none"),
        ("Y14", b"\xff\xfename: x\n", "expected UTF-8 text, got byte 0xff at offset 0"),
    ],
)
def test_bad_layout_files_are_one_line(tmp_path, case, text, match):
    with pytest.raises(InputError, match=match) as info:
        load_layout_file(_layout(tmp_path, text))
    assert "\n" not in str(info.value) and "lay.yaml" in str(info.value)


def test_a_layout_file_that_is_a_fifo_is_refused_before_it_is_opened(tmp_path):
    os.mkfifo(tmp_path / "lay.yaml")
    with pytest.raises(InputError, match="is a FIFO"):
        load_layout_file(tmp_path / "lay.yaml")


def _tree(root, folder="Arrest"):
    d = root / folder
    d.mkdir(parents=True, exist_ok=True)
    for k in range(2):
        np.save(d / f"{STEM}__{k}.npy", np.zeros((3, 1024), np.float32))
    return d


@pytest.mark.parametrize("case", ["LS1", "LS2"])
def test_listed_paths_outside_the_folder_are_refused_naming_the_line(tmp_path, case):
    feat = tmp_path / "feat"
    feat.mkdir()
    outside = _tree(tmp_path / "outside")
    text = str(outside / f"{STEM}__0.npy") if case == "LS1" else f"../outside/Arrest/{STEM}__0.npy"
    lst = tmp_path / "lists" / "test.list"
    lst.parent.mkdir()
    lst.write_text(text + "\n", "utf-8")
    with pytest.raises(InputError, match=r"line 1: expected a path under the stream's folder"):
        index_streams(UCFCRIME_AR, feat, lists={"rgb": lst})


def test_a_listed_path_outside_is_re_rooted_when_the_file_is_inside(tmp_path):
    feat = tmp_path / "feat"
    inside = _tree(feat)
    _tree(tmp_path / "outside")
    lst = tmp_path / "test.list"
    lst.write_text(str(tmp_path / "outside" / "Arrest" / f"{STEM}__0.npy") + "\n", "utf-8")
    idx = index_streams(UCFCRIME_AR, feat, lists={"rgb": lst})
    assert idx["rgb"].files[STEM][0] == inside / f"{STEM}__0.npy"


def test_ls7_a_huge_line_is_bad_input_not_the_environment(tmp_path):
    lst = tmp_path / "test.list"
    lst.write_text("A" * 5_000_000 + "\n", "utf-8")
    with pytest.raises(InputError, match=r"line 1: expected characters of one path .* <= 4096"):
        read_list(lst)


def test_a_list_that_is_not_utf8_or_a_fifo(tmp_path):
    lst = tmp_path / "test.list"
    lst.write_bytes(b"\xff\xfe/x/a__0.npy\n")
    with pytest.raises(InputError, match="expected UTF-8 text"):
        read_list(lst)
    lst.unlink()
    os.mkfifo(lst)
    with pytest.raises(InputError, match="is a FIFO"):
        read_list(lst)


def test_a_fifo_beside_listed_files_is_never_opened(tmp_path):
    feat = tmp_path / "feat"
    d = _tree(feat)
    os.mkfifo(d / f"{STEM}__2.npy")
    lst = tmp_path / "test.list"
    lst.write_text(f"Arrest/{STEM}__0.npy\n", "utf-8")
    idx = index_streams(UCFCRIME_AR, feat, lists={"rgb": lst})
    assert [p.name for p in idx["rgb"].files[STEM]] == [f"{STEM}__0.npy", f"{STEM}__1.npy"]


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("/x/a\x00b__0.npy\n", r"line 1: field path: expected a string matching"),
        ("# c\n/x/a\x1b[31m__0.npy\n", r"line 2: field path: expected a string matching"),
        ('"",Abuse\n', r"line 1: field path: expected a string with at least 1 character"),
    ],
    ids=["nul", "escape", "empty-csv-path"],
)
def test_each_row_is_validated_against_the_row_schema(tmp_path, text, needle):
    """A list file's rows are validated against ListRow: one line naming the file, the line and
    the field."""
    lst = tmp_path / "test.list"
    lst.write_text(text, "utf-8")
    with pytest.raises(InputError, match=needle) as info:
        read_list(lst)
    assert str(info.value).startswith(f"--list {lst} line ") and "\n" not in str(info.value)


def test_csv_rows_keep_their_path_and_skip_the_header(tmp_path):
    lst = tmp_path / "test.csv"
    lst.write_text("path,label\n/x/Abuse028_x264__0.npy,Abuse\n", "utf-8")
    assert read_list(lst) == [(2, "/x/Abuse028_x264__0.npy")]
