"""Red-team CLI cases (issue 11, report C12, X1, F20, F22): bad values are exit 2, a read-only or
full disk is exit 3, always one line and nothing half-written."""

from __future__ import annotations

import errno

import numpy as np
import pytest

from var_bench.cli import main


def _run(capsys, *args):
    with pytest.raises(SystemExit) as e:
        main(list(args))
    out, err = capsys.readouterr()
    assert out.count("\n") == 1 and "Traceback" not in out + err and "internal error" not in out
    return e.value.code, out


@pytest.fixture
def good(tmp_path):
    r = np.random.default_rng(0)
    p = tmp_path / "good.npy"
    np.save(p, (r.standard_normal((290, 290)) + 2 * np.eye(290)).astype("f4"))
    return p


def test_C12_negative_seed_is_exit_2(capsys, good) -> None:
    code, out = _run(capsys, "score", str(good), "--seed", "-1", "--ci", "--replicates", "10")
    assert code == 2 and "--seed" in out


def test_X1_synth_refuses_a_nan_amplitude(capsys, tmp_path) -> None:
    code, out = _run(capsys, "synth", str(tmp_path / "t"), "-b", "ucfcrime-ar", "--videos", "2",
                     "--noise", "nan")
    assert code == 2 and "expected a finite number" in out
    assert not (tmp_path / "t").exists() or not any((tmp_path / "t").rglob("*.npy"))


@pytest.mark.parametrize(("err", "text"), [(errno.EROFS, "Read-only file system"),    # F20
                                           (errno.ENOSPC, "No space left on device")])  # F22
def test_F20_F22_unwritable_outputs_are_exit_3(capsys, good, tmp_path, monkeypatch, err, text) -> None:
    import os

    real = os.replace

    def refuse(src, dst, *a, **k):
        raise OSError(err, text, str(dst))

    monkeypatch.setattr(os, "replace", refuse)
    code, out = _run(capsys, "score", str(good), "--json", str(tmp_path / "r.json"))
    monkeypatch.setattr(os, "replace", real)
    assert code == 3 and text in out
    assert sorted(p.name for p in tmp_path.iterdir()) == ["good.npy"]  # the temp file is gone
