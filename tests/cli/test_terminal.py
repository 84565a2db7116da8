"""On a terminal, a file or a pipe that both streams share, an error line is printed once; on
separate streams it goes to both, since leaderboard users often see only one of them."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_error_is_printed_once_on_a_terminal(tmp_path):
    (tmp_path / "bad.npy").write_bytes(b"not a matrix")
    master, slave = pty.openpty()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    p = subprocess.Popen(
        [sys.executable, "-m", "var_bench", "score", str(tmp_path / "bad.npy")],
        stdin=subprocess.DEVNULL,
        stdout=slave,
        stderr=slave,
        env=env,
    )
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 4096)
        except OSError:  # the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    assert p.wait(timeout=60) == 2
    text = b"".join(chunks).decode()
    assert text.count("var-bench: error: ") == 1, text
    piped = subprocess.run(
        [sys.executable, "-m", "var_bench", "score", str(tmp_path / "bad.npy")],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert piped.returncode == 2
    assert piped.stdout.count("var-bench: error: ") == 1 == piped.stderr.count("var-bench: error: ")


def test_error_is_printed_once_when_both_streams_are_one_file_or_pipe(tmp_path):
    (tmp_path / "bad.npy").write_bytes(b"not a matrix")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    cmd = [sys.executable, "-m", "var_bench", "score", str(tmp_path / "bad.npy")]
    with open(tmp_path / "log.txt", "w") as log:  # > log.txt 2>&1
        assert subprocess.run(cmd, stdout=log, stderr=log, env=env, timeout=60).returncode == 2
    assert (tmp_path / "log.txt").read_text().count("var-bench: error: ") == 1
    piped = subprocess.run(  # 2>&1 | less
        cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env, timeout=60
    )
    assert piped.returncode == 2 and piped.stdout.count("var-bench: error: ") == 1, piped.stdout
