"""``var-bench build`` through main(): summary lines, one-line errors with exit code 2."""

from __future__ import annotations

import pytest
from support.featuretrees import path_of, write_tree

from var_bench.cli import main


def _run(capsys, *args):
    with pytest.raises(SystemExit) as e:
        main(list(args))
    out = capsys.readouterr()
    return e.value.code, out.out, out.err


def test_build_prints_layout_rows_and_folder(built_home, tmp_path, capsys):
    fx = built_home["xdviolence-ar"]
    write_tree(tmp_path / "x", "xd-i3d", fx.expected)
    write_tree(tmp_path / "a", "xd-vggish", fx.expected)
    code, out, _ = _run(
        capsys,
        "build",
        "xdviolence-ar",
        "--features",
        str(tmp_path / "x"),
        "--audio",
        str(tmp_path / "a"),
        "--no-progress",
        "--dtype",
        "float16",
    )
    assert code == 0, out
    assert "rgb: layout xd-i3d, D = 1024" in out and "audio: layout xd-vggish, D = 128" in out
    counts = ", ".join(f"{s} {len(fx.expected[s])}" for s in ("train", "val", "test"))
    assert f"rows: {counts}" in out
    assert out.rstrip().endswith("features/xd-violence (feature store)")  # XD-Violence videos


def test_build_errors_are_one_line_exit_2(built_home, tmp_path, capsys):
    fx = built_home["ucfcrime-ar"]
    write_tree(tmp_path / "u", "ucf-crops", fx.expected)
    path_of(tmp_path / "u", "ucf-crops", "test", fx.expected["test"][0], 0).write_text("oops")
    code, out, err = _run(capsys, "build", "ucfcrime-ar", "--features", str(tmp_path / "u"))
    assert code == 2
    assert out.count("\n") == 1 and "expected a .npy array" in out and "Traceback" not in err
    code, out, _ = _run(
        capsys, "build", "ucfcrime-ar", "--features", str(tmp_path / "u"), "--layout", "xd-i3d"
    )
    assert code == 2 and "expected a layout of ucfcrime-ar" in out
