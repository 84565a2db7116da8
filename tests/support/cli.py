"""Run ``var-bench`` in this process and check that it ended in one line."""

from __future__ import annotations

import pytest

from var_bench.cli import main


def one_line_exit(capsys, *args: str) -> tuple[int, str]:
    """``var-bench ARGS``: (exit code, stdout), after checking that stdout is one line with no
    traceback and no internal error."""
    with pytest.raises(SystemExit) as e:
        main(list(args))
    out, err = capsys.readouterr()
    assert out.count("\n") == 1 and "Traceback" not in out + err and "internal error" not in out
    return e.value.code, out
