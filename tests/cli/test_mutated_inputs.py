"""Property-based tests (hypothesis) of every command that reads user files: a mutated valid
input (truncated, wrong types, huge numbers, unicode, path escapes, unknown or missing fields,
bytes that are not UTF-8) ends with exit 0, 2 or 3: never an internal error, never a traceback.

Cheap by design (:data:`support.mutations.CHEAP`: a dozen derandomised examples per command);
the red-team cases themselves are tests beside the code they exercise."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from support.featuretrees import write_tree
from support.mutations import CHEAP, dump, mutated, run_cli
from support.searchindex import INDEX_INFO

IDS = {"test": ["Abuse028_x264", "Arrest001_x264"]}
INDEX = {**INDEX_INFO, "checkpoint": "/nonexistent/run/best"}
LAYOUT = {"name": "my-i3d", "file": "{stem}__{crop}.npy", "crops": "files", "stream": "mine"}
GRID = {"model": "alan", "benchmark": "ucfcrime-ar", "seeds": 2, "grid": {"train.lr": [0.1]}}


@pytest.fixture(scope="module")
def tree(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("tree")
    write_tree(root, "ucf-crops", IDS, T=3)
    return root


@CHEAP
@given(data=mutated(INDEX, "json"))
def test_search_reads_a_mutated_index_json(tmp_path, data):
    (tmp_path / "idx").mkdir(exist_ok=True)
    (tmp_path / "idx" / "index.json").write_bytes(data)
    run_cli("search", str(tmp_path / "idx"), "a man is shot", "--device", "cpu")


@CHEAP
@given(data=mutated(LAYOUT, "yaml"))
def test_fingerprint_reads_a_mutated_layout_file(tree, tmp_path, data):
    (tmp_path / "lay.yaml").write_bytes(data)
    run_cli(
        "fingerprint", str(tree), "--benchmark", "ucfcrime-ar", "--layout-file",
        str(tmp_path / "lay.yaml"),
    )  # fmt: skip


LINES = st.lists(
    st.sampled_from(
        [
            "Test/RGB/Abuse/Abuse028_x264__0.npy",
            "/media/peng/Test/RGB/Arrest/Arrest001_x264__3.npy",
            "../../etc/passwd",
            "/etc/passwd",
            "C:\\Users\\x\\Abuse028_x264__0.npy",
            '=HYPERLINK("http://x")',
            "path,label",
            "A" * 5000,
            "a\x00b.npy",
            "\u202e\U0001f600.npy",
            "# comment",
            "",
        ]
    ),
    max_size=6,
)


@CHEAP
@given(lines=LINES, cut=st.integers(0, 40))
def test_fingerprint_reads_a_mutated_list_file(tree, tmp_path, lines, cut):
    text = "\n".join(lines)
    (tmp_path / "test.list").write_text(text[: len(text) - cut] if cut < len(text) else text)
    run_cli(
        "fingerprint", str(tree), "--benchmark", "ucfcrime-ar", "--list",
        f"rgb={tmp_path / 'test.list'}",
    )  # fmt: skip


@CHEAP
@given(data=mutated(LAYOUT, "yaml"))
def test_build_reads_a_mutated_layout_file(built_home, tree, tmp_path, data):
    (tmp_path / "lay.yaml").write_bytes(data)
    run_cli(
        "build", "ucfcrime-ar", "--features", str(tree), "--layout-file",
        str(tmp_path / "lay.yaml"), "--allow-missing", "--no-progress",
    )  # fmt: skip


@CHEAP
@given(data=mutated(GRID, "yaml"))
def test_sweep_reads_a_mutated_grid(tmp_path, monkeypatch, data):
    monkeypatch.setenv("VAR_BENCH_HOME", str(tmp_path / "home"))  # no store: a valid grid stops
    (tmp_path / "grid.yaml").write_bytes(data)
    run_cli("sweep", str(tmp_path / "grid.yaml"), "--out", str(tmp_path / "o"), "--runner",
            "sequential")  # fmt: skip


RECORD = json.loads(
    (Path(__file__).parents[1] / "golden" / "score-ucf-dirs.record.json").read_text("utf-8")
)


@CHEAP
@given(data=mutated(RECORD, "json"))
def test_export_reads_a_mutated_record(tmp_path, data):
    (tmp_path / "rec.json").write_bytes(data)
    run_cli("export", str(tmp_path / "rec.json"), "--to", "codalab", "--output",
            str(tmp_path / "scores.txt"))  # fmt: skip


@CHEAP
@given(data=mutated({"identity": {"model": "i3d-rgb", "stream": "rgb", "snippet_frames": 16,
                                  "random_weights": False}, "videos": {}}, "json"))  # fmt: skip
def test_build_reads_a_mutated_extraction_json(built_home, tree, tmp_path, data):
    root = tmp_path / "t"
    if not root.exists():
        shutil.copytree(tree, root)
    (root / "extraction.json").write_bytes(data)
    run_cli("build", "ucfcrime-ar", "--features", str(root), "--allow-missing", "--no-progress")


def test_the_mutations_reach_every_kind():
    """The strategy is not vacuous: it truncates, retypes and escapes."""
    from hypothesis import find

    find(mutated(LAYOUT, "yaml"), lambda b: b"../" in b)
    find(mutated(LAYOUT, "yaml"), lambda b: len(b) < len(dump(LAYOUT, "yaml")) // 2)
    find(mutated(INDEX, "json"), lambda b: b"1e+30" in b or b"10000000000" in b)


@CHEAP
@given(data=mutated(RECORD, "json"))
def test_leaderboard_reads_a_mutated_record(tmp_path, data):
    (tmp_path / "results").mkdir(exist_ok=True)
    (tmp_path / "results" / "rec.json").write_bytes(data)
    run_cli("leaderboard", "ucfcrime-ar", "--results", str(tmp_path / "results"), "--output",
            str(tmp_path / "board.md"))  # fmt: skip


@CHEAP
@given(data=mutated(RECORD, "json"))
def test_report_reads_a_mutated_record(tmp_path, data):
    """The record is read the same way for every format; Markdown skips drawing the page's
    plots (matplotlib: 7 of this test's 9 s), which tests/report covers for records."""
    (tmp_path / "rec.json").write_bytes(data)
    run_cli("report", str(tmp_path / "rec.json"), "-b", "ucfcrime-ar", "--format", "md",
            "--output", str(tmp_path / "r.md"))  # fmt: skip


def test_red_team_cases_end_in_one_line_exit_2(tmp_path, capsys, monkeypatch):
    """SR1, SW2, Y14, LS7 through the command line: one ``var-bench: error:`` line, exit 2."""
    from support.cli import one_line_exit

    (tmp_path / "idx").mkdir()
    index = {**INDEX, "chunks": ["../ok/chunk-00000.safetensors", "/etc/passwd"]}
    (tmp_path / "idx" / "index.json").write_text(json.dumps(index), "utf-8")
    code, out = one_line_exit(capsys, "search", str(tmp_path / "idx"), "a man is shot")
    assert code == 2 and "field chunks.0" in out
    grid = {**GRID, "grid": {f"train.k{i}": list(range(100)) for i in range(5)}}
    (tmp_path / "huge.yaml").write_text(dump(grid, "yaml"), "utf-8")
    code, out = one_line_exit(capsys, "sweep", str(tmp_path / "huge.yaml"), "--out",
                              str(tmp_path / "o"), "--runner", "sequential")  # fmt: skip
    assert code == 2 and "VAR_BENCH_MAX_TRIALS" in out
    (tmp_path / "lay.yaml").write_bytes(b"\xff\xfename: x\n")
    code, out = one_line_exit(capsys, "fingerprint", str(tmp_path), "--benchmark", "ucfcrime-ar",
                              "--layout-file", str(tmp_path / "lay.yaml"))  # fmt: skip
    assert code == 2 and "expected UTF-8 text" in out
    (tmp_path / "t.list").write_text("A" * 5_000_000 + "\n", "utf-8")
    code, out = one_line_exit(capsys, "fingerprint", str(tmp_path), "--benchmark", "ucfcrime-ar",
                              "--list", f"rgb={tmp_path / 't.list'}")  # fmt: skip
    assert code == 2 and "line 1" in out and "VAR_BENCH_MAX_LIST_LINE" in out
