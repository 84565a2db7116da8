"""The real CLI (subprocess) for download, ids and info; against ../shared/data served over HTTP."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from support.cli import one_line_exit
from support.httpserver import Fault, serve_folder

from var_bench.benchmarks import BENCHMARKS
from var_bench.data.splits import expected_ids_sha256

XLSX = "Roc-Ng-VAR/ucf_crime_test.xlsx"
LIST = "Roc-Ng-XDVioDet/audio.list"


def run(*args: str, home: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    e = {**os.environ, "VAR_BENCH_HOME": str(home), **(env or {})}
    e.pop("VAR_BENCH_MIRROR", None) if "VAR_BENCH_MIRROR" not in (env or {}) else None
    return subprocess.run(
        [sys.executable, "-m", "var_bench", *args],
        capture_output=True,
        text=True,
        env=e,
        timeout=300,
    )


def assert_one_line_error(p: subprocess.CompletedProcess, code: int, *needles: str) -> str:
    assert p.returncode == code, (p.stdout, p.stderr)
    assert "Traceback" not in p.stdout + p.stderr
    out = p.stdout.strip().splitlines()
    assert len(out) == 1 and out[0] in p.stderr, (p.stdout, p.stderr)
    for n in needles:
        assert n in out[0], out[0]
    return out[0]


def test_unknown_benchmark_and_bad_mirror_are_one_line(tmp_path):
    p = run("download", "ucf", home=tmp_path)
    assert_one_line_error(p, 2, "'ucf'", "ucfcrime-ar")
    p = run("download", "ucfcrime-ar", "--mirror", str(tmp_path / "missing"), home=tmp_path)
    assert_one_line_error(p, 2, "expected an http(s) URL or a folder", "missing")


def test_home_that_is_not_a_folder_is_one_line(capsys):
    """C43 (issue 11): a data home that is not a folder is one line, never an internal error."""
    code, out = one_line_exit(
        capsys, "download", "ucfcrime-ar", "--home", "/dev/null", "--mirror", "/nonexistent-mirror"
    )
    assert code in (2, 3)


def test_home_under_a_file_is_exit_3(tmp_path, capsys):
    """C43 (issue 11): a data home below a file is exit 3, one line naming the OS error."""
    f = tmp_path / "file"
    f.write_text("x")
    code, out = one_line_exit(capsys, "download", "ucfcrime-ar", "--home", str(f / "home"))
    assert code == 3 and "Not a directory" in out


@pytest.mark.network
def test_download_build_ids_info_over_http(shared_data, tmp_path):
    home = tmp_path / "home"
    with serve_folder(shared_data) as server:
        p = run("download", "--mirror", server.url, home=home)
        assert p.returncode == 0, p.stderr
        assert "ucfcrime-ar 1.0.0: train 1444, val 166, test 290" in p.stdout
        assert "xdviolence-ar 1.0.0: train 3555, val 399, test 800" in p.stdout
        first = server.total_hits()
        assert first >= 8
        again = run("download", "--mirror", server.url, home=home)
        assert again.returncode == 0 and server.total_hits() == first  # no network work at all
    for name in ("ucfcrime-ar", "xdviolence-ar"):
        for split in ("train", "val", "test"):
            p = run("ids", name, "--split", split, home=home)
            assert hashlib.sha256(p.stdout.encode()).hexdigest() == expected_ids_sha256(
                BENCHMARKS[name], split
            )
    p = run("ids", "ucfcrime-ar", home=home)
    assert p.stdout.splitlines()[:2] == ["Abuse028_x264", "Abuse030_x264"]
    info = json.loads(run("info", "ucfcrime-ar", "--json", home=home).stdout)
    assert info["counts"] == {"train": 1444, "val": 166, "test": 290}
    assert round(info["caption_lengths"]["caption_en"]["mean"], 1) == 16.3
    assert sum(1 for n in info["notes"] if "clipped" in n) == 5
    text = run("info", "xdviolence-ar", home=home).stdout
    assert "Car accident" in text and "@inproceedings{wu2020not" in text


@pytest.mark.network
def test_corrupted_file_fails_naming_it_and_keeps_verified_files(shared_data, tmp_path):
    home = tmp_path / "home"
    with serve_folder(shared_data, faults={XLSX: Fault.corrupt()}) as server:
        p = run("download", "ucfcrime-ar", "--mirror", server.url, home=home)
    line = assert_one_line_error(p, 1, XLSX, "sha256", "86638212e509b8ba")
    assert "expected" in line and "got" in line
    raw = home / "raw"
    assert (raw / "Roc-Ng-VAR/ucf_crime_train.xlsx").is_file()  # fetched before: kept
    assert not (raw / XLSX).exists()
    assert not list(raw.rglob("*.part")) and not (home / "built").exists()


@pytest.mark.network
def test_dropped_connection_and_500s_recover(shared_data, tmp_path):
    home = tmp_path / "home"
    # the list (390 kB) is dropped half-way once, then resumed; the xlsx answers 500 twice
    faults = {LIST: Fault.drop(times=1), XLSX: [Fault.error(500, times=2)]}
    with serve_folder(shared_data, faults=faults) as server:
        p = run("download", "--mirror", server.url, home=home)
        assert p.returncode == 0, p.stderr
        assert server.hits[XLSX] == 3
        ranges = server.ranges(LIST)
        assert len(ranges) == 2 and ranges[0] is None and ranges[1].startswith("bytes=")
        assert int(ranges[1][len("bytes=") :].rstrip("-")) > 0
    assert hashlib.sha256((home / "raw" / LIST).read_bytes()).hexdigest().startswith("8cf66678")


@pytest.mark.network
def test_404_is_one_line(shared_data, tmp_path):
    with serve_folder(shared_data, faults={LIST: Fault.error(404)}) as server:
        p = run("download", "xdviolence-ar", "--mirror", server.url, home=tmp_path / "h")
    assert_one_line_error(p, 1, LIST, "404")


@pytest.mark.shared_data
def test_folder_mirror_from_environment(shared_data, tmp_path):
    p = run("download", home=tmp_path / "h", env={"VAR_BENCH_MIRROR": str(shared_data)})
    assert p.returncode == 0, p.stderr
    import var_bench

    ds = var_bench.load_dataset("xdviolence-ar", split="test", home=tmp_path / "h", download=False)
    assert len(ds) == 800 and sum(ds["anomalous"]) == 500
    assert ds[0]["labels"] == ["G", "B2", "B6"]
