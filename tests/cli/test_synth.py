import os

from click.testing import CliRunner
from support.cli import one_line_exit

from var_bench.cli import cli

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def test_synth_command_writes_and_reports(built_home, tmp_path, caplog):
    out = tmp_path / "xd"
    caplog.set_level("INFO", logger="var_bench")
    r = CliRunner().invoke(
        cli,
        [
            "synth",
            str(out),
            "--benchmark",
            "xdviolence-ar",
            "--crops",
            "1",
            "--snippets",
            "4",
            "--no-flow",
            "--noise",
            "0.5",
        ],
    )
    assert r.exit_code == 0, r.output
    # a first line before the work (which is silent for a minute on UCF's captions) ...
    assert (
        caplog.records[0]
        .getMessage()
        .startswith(f"writing a synthetic xdviolence-ar feature tree into {out}: the videos")
    )
    # ... and the last lines say what was written and what comes next
    assert f"wrote {out} (synthetic raw features)\nnext: var-bench build" in r.output
    assert "train 6, test 3 videos, streams rgb+audio, 18 files" in r.output
    assert (
        f"var-bench build xdviolence-ar --features {out} --audio {out / 'vggish-features'}"
        in r.output
    )
    assert (out / "VAR_BENCH_SYNTHETIC.json").is_file()
    assert '"noise": 0.5' in (out / "VAR_BENCH_SYNTHETIC.json").read_text()


def test_synth_refuses_a_nan_amplitude(capsys, tmp_path):
    """X1 (issue 11): a NaN amplitude is exit 2, one line, and no tree is written."""
    code, out = one_line_exit(
        capsys, "synth", str(tmp_path / "t"), "-b", "ucfcrime-ar", "--videos", "2", "--noise", "nan"
    )
    assert code == 2 and "expected a finite number" in out
    assert not (tmp_path / "t").exists() or not any((tmp_path / "t").rglob("*.npy"))
