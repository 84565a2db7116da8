"""Red-team cases of the download cache (issue 11, report D10, D14, D20, D23, C43): small files
resume after a dropped connection, a trickling server hits the per-file deadline, a planted
symlink in the cache is never followed, an edited built table is detected, a data home that is
not a folder is one line (exit 3)."""

from __future__ import annotations

import hashlib
import random

import pytest
from support.httpserver import Fault, serve_folder

from var_bench.cli import main
from var_bench.data.fetch import RetryPolicy, cached_path, fetch, partial_path
from var_bench.errors import DownloadError, InputError

from var_bench.benchmarks.sources import SourceFile

FAST = RetryPolicy(attempts=6, backoff=0.001)


def make_source(mirror, name: str = "file.bin", *, size: int = 300_000):
    """Random bytes at ``mirror/acme-data/<name>``, pinned in a SourceFile."""
    data = random.Random(0).randbytes(size)
    (mirror / "acme-data").mkdir(parents=True, exist_ok=True)
    (mirror / "acme-data" / name).write_bytes(data)
    return SourceFile("acme", "data", "0" * 40, f"lists/{name}", len(data),
                      hashlib.sha256(data).hexdigest(), "MIT", "test file"), data


def leftovers(raw):
    return sorted(p for p in raw.rglob("*") if p.is_file()) if raw.exists() else []


@pytest.fixture
def mirror(tmp_path):
    return tmp_path / "mirror"


@pytest.fixture
def raw(tmp_path):
    return tmp_path / "home" / "raw"


@pytest.mark.network
@pytest.mark.parametrize("size", [42_880, 1_000, 65_535])
def test_D10_files_under_one_chunk_resume_after_drops(mirror, raw, size) -> None:
    src, data = make_source(mirror, size=size)
    with serve_folder(mirror, {src.key: Fault.drop(times=3, fraction=0.4)}) as server:
        fetch(src, raw, server.url, retry=FAST)
        ranges = server.ranges(src.key)
    assert cached_path(src, raw).read_bytes() == data
    assert any(r is not None for r in ranges)  # received bytes were kept and resumed


@pytest.mark.network
def test_D14_a_trickling_server_hits_the_deadline(mirror, raw) -> None:
    src, _ = make_source(mirror, size=5_000)
    with serve_folder(mirror, {src.key: Fault.trickle(0.05)}) as server:
        with pytest.raises(DownloadError, match="did not finish within the download deadline"):
            fetch(src, raw, server.url, retry=RetryPolicy(attempts=2, backoff=0.001, deadline=1.0))
    assert leftovers(raw) == []


def test_D14_the_deadline_is_configurable(monkeypatch) -> None:
    monkeypatch.setenv("VAR_BENCH_DOWNLOAD_DEADLINE", "12.5")
    assert RetryPolicy().seconds() == 12.5
    monkeypatch.setenv("VAR_BENCH_DOWNLOAD_DEADLINE", "soon")
    with pytest.raises(InputError):
        RetryPolicy().seconds()
    with pytest.raises(InputError):
        RetryPolicy(deadline=float("nan"))


@pytest.mark.parametrize("what", ["part", "cached"])
@pytest.mark.parametrize("via", ["folder", "http"])
def test_D23_a_planted_symlink_in_the_cache_is_never_followed(mirror, raw, tmp_path, what, via) -> None:
    src, data = make_source(mirror)
    precious = tmp_path / "precious.txt"
    precious.write_text("precious")
    link = partial_path(src, raw) if what == "part" else cached_path(src, raw)
    link.parent.mkdir(parents=True)
    link.symlink_to(precious)
    if via == "http":
        with serve_folder(mirror) as server:
            fetch(src, raw, server.url, retry=FAST)
    else:
        fetch(src, raw, str(mirror))
    assert precious.read_text() == "precious"
    dest = cached_path(src, raw)
    assert not dest.is_symlink() and dest.read_bytes() == data


def test_C43_home_that_is_not_a_folder_is_exit_3(capsys) -> None:
    with pytest.raises(SystemExit) as e:
        main(["download", "ucfcrime-ar", "--home", "/dev/null", "--mirror", "/nonexistent-mirror"])
    out = capsys.readouterr().out
    assert e.value.code in (2, 3) and out.count("\n") == 1 and "internal error" not in out


def test_C43_home_under_a_file_is_exit_3(tmp_path, capsys) -> None:
    f = tmp_path / "file"
    f.write_text("x")
    with pytest.raises(SystemExit) as e:
        main(["download", "ucfcrime-ar", "--home", str(f / "home")])
    out = capsys.readouterr().out
    assert e.value.code == 3 and "Not a directory" in out and out.count("\n") == 1


def test_D20_an_edited_built_table_is_detected(built_home, capsys) -> None:
    import pyarrow.parquet as pq

    import var_bench
    from var_bench.benchmarks import get_benchmark
    from var_bench.data.assembly.manifest import DATA_FILE
    from var_bench.data.paths import built_dir

    path = built_dir(get_benchmark("ucfcrime-ar")) / DATA_FILE.format(split="test")
    t = pq.read_table(path)
    order = list(range(t.num_rows))
    order[0], order[1] = order[1], order[0]  # two ids swapped
    pq.write_table(t.take(order), path)
    for call in (lambda: var_bench.ids("ucfcrime-ar", "test", download=False),
                 lambda: var_bench.load_dataset("ucfcrime-ar", "test", download=False)):
        with pytest.raises(var_bench.errors.DataError, match="edited or is corrupt"):
            call()
    with pytest.raises(SystemExit) as e:
        main(["ids", "ucfcrime-ar"])
    assert e.value.code == 1 and "edited or is corrupt" in capsys.readouterr().out
