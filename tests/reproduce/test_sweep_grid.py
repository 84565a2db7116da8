"""Sweep grid files read back through their schema (red-team round 2: SW2, SW3, SW4): sizes are
bounded before anything is expanded, types are strict, and a non-UTF-8 file is one line."""

from __future__ import annotations

import os
import time

import pytest

from var_bench.errors import InputError
from var_bench.reproduce.sweep import grid_from_dict, load_grid

BASE = {"model": "alan", "benchmark": "ucfcrime-ar"}


def test_sw2_a_huge_grid_is_refused_before_it_is_expanded(tmp_path):
    grid = "\n".join(f"  train.k{i}: [{', '.join(map(str, range(100)))}]" for i in range(5))
    path = tmp_path / "huge.yaml"
    path.write_text(f"model: alan\nbenchmark: ucfcrime-ar\ngrid:\n{grid}\n", "utf-8")
    t0 = time.perf_counter()
    with pytest.raises(InputError, match=r"<= 10000, got 10000000000 .*VAR_BENCH_MAX_TRIALS=N"):
        load_grid(path)
    assert time.perf_counter() - t0 < 5


def test_the_trial_bound_is_raised_by_its_variable(monkeypatch):
    raw = {**BASE, "grid": {"train.lr": [0.1, 0.2, 0.3]}}
    monkeypatch.setenv("VAR_BENCH_MAX_TRIALS", "2")
    with pytest.raises(InputError, match="got 3"):
        grid_from_dict(raw)
    monkeypatch.setenv("VAR_BENCH_MAX_TRIALS", "3")
    assert len(grid_from_dict(raw).trials) == 3
    monkeypatch.setenv("VAR_BENCH_MAX_TRIALS", "lots")
    with pytest.raises(InputError, match="VAR_BENCH_MAX_TRIALS: expected a positive integer"):
        grid_from_dict(raw)


@pytest.mark.parametrize("seeds", [10**12, list(range(1001))])
def test_sw3_a_huge_seed_count_is_refused(seeds):
    with pytest.raises(InputError, match=r"trial <= 1000, got .*VAR_BENCH_MAX_SEEDS"):
        grid_from_dict({**BASE, "seeds": seeds})


def test_sw4_a_grid_that_is_not_utf8(tmp_path):
    path = tmp_path / "g.yaml"
    path.write_bytes(b"\xff\xfemodel: alan\n")
    with pytest.raises(InputError, match="expected UTF-8 text"):
        load_grid(path)


def test_a_grid_that_is_a_fifo(tmp_path):
    os.mkfifo(tmp_path / "g.yaml")
    with pytest.raises(InputError, match="is a FIFO"):
        load_grid(tmp_path / "g.yaml")


@pytest.mark.parametrize(
    "changes, match",
    [
        ({"seeds": True}, "field seeds"),
        ({"model": ["a"]}, "field model: expected a valid string"),
        ({"strict": "no"}, "field strict"),
        ({"config": 3}, "field config"),
        ({"trials": "abc"}, "field trials"),
    ],
)
def test_grid_fields_have_strict_types(changes, match):
    with pytest.raises(InputError, match=match):
        grid_from_dict({**BASE, **changes})
