"""Long commands report progress on a pipe (log lines on stderr), and nothing with --quiet."""

from __future__ import annotations

import os

import pytest

from var_bench.cli import main

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def run(capsys, *args):
    with pytest.raises(SystemExit) as info:
        main([str(a) for a in args])
    out, err = capsys.readouterr()
    return info.value.code, out, err


def test_synth_on_a_pipe_logs_progress_and_quiet_silences_it(built_home, tmp_path, capsys):
    args = ["synth", "--benchmark", "xdviolence-ar", "--crops", "1", "--snippets", "4", "--no-flow"]
    code, out, err = run(capsys, *args[:1], tmp_path / "a", *args[1:])
    assert code == 0, out + err
    assert "synth xdviolence-ar: 9/9 videos (100%)" in err  # capsys: not a terminal
    code, out, err = run(capsys, "--quiet", *args[:1], tmp_path / "b", *args[1:])
    assert code == 0, out + err
    assert "synth xdviolence-ar:" not in err and "videos (" not in err
    assert "files" in out  # the command's own summary still prints
