import re

import pytest

from var_bench.benchmarks import BENCHMARKS, all_sources, source
from var_bench.benchmarks.sources import resolve_mirror
from var_bench.errors import InputError

SOURCES = all_sources()


def test_every_benchmark_source_is_pinned():
    for spec in BENCHMARKS.values():
        for key in spec.sources.values():
            s = source(key)
            assert re.fullmatch(r"[0-9a-f]{40}", s.commit) and re.fullmatch(
                r"[0-9a-f]{64}", s.sha256
            )
            assert s.url.startswith(
                f"https://raw.githubusercontent.com/{s.owner}/{s.repo}/{s.commit}/"
            )
    assert len({s.key for s in SOURCES}) == len(SOURCES)


def test_mirror_locations_quote_names():
    s = source("Roc-Ng-XDVioDet/audio.list")
    assert (
        s.mirror_location("http://127.0.0.1:9/m/")
        == "http://127.0.0.1:9/m/Roc-Ng-XDVioDet/audio.list"
    )
    assert s.mirror_location("/srv/m") == "/srv/m/Roc-Ng-XDVioDet/audio.list"
    assert s.mirror_location("file:///srv/m") == "/srv/m/Roc-Ng-XDVioDet/audio.list"
    assert s.url.endswith("/list/audio.list")


def test_resolve_mirror(tmp_path, monkeypatch):
    assert resolve_mirror(None) is None
    monkeypatch.setenv("VAR_BENCH_MIRROR", str(tmp_path))
    assert resolve_mirror(None) == str(tmp_path)
    assert resolve_mirror("https://example.org/m") == "https://example.org/m"
    with pytest.raises(InputError, match="expected an http\\(s\\) URL or a folder"):
        resolve_mirror(str(tmp_path / "nope"))


def test_unknown_source_key():
    with pytest.raises(InputError, match="unknown source file"):
        source("x/y")
