"""The resource bounds (var_bench.limits): the one refusal line, the variables that raise them,
and docs/security.md listing every one."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from var_bench.errors import InputError
from var_bench.limits import BOUNDS, bound, check, refuse

DOC = Path(__file__).parents[1] / "docs" / "security.md"


def test_docs_security_lists_every_bound_with_its_default_and_variable():
    rows = {
        m.group(1): (int(m.group(2)), m.group(3))
        for m in re.finditer(r"^\| `(\w+)` \| (\d+) \| `(\w+)` \|", DOC.read_text("utf-8"), re.M)
    }
    assert rows == {b.name: (b.default, b.env) for b in BOUNDS.values()}


def test_a_refusal_names_the_bound_and_how_to_raise_it(monkeypatch):
    e = refuse("sweep_seeds", "grid seeds", 10**12)
    assert str(e) == (
        "grid seeds: expected seeds per sweep trial <= 1000, got 1000000000000 (a bound; raise "
        "it with VAR_BENCH_MAX_SEEDS=N)"
    )
    monkeypatch.setenv("VAR_BENCH_MAX_SEEDS", "2_000")
    assert bound("sweep_seeds") == 2000
    check("sweep_seeds", "seeds", 2000)
    with pytest.raises(InputError, match="got 2001"):
        check("sweep_seeds", "seeds", 2001)


@pytest.mark.parametrize("value", ["0", "-3", "lots", "1.5"])
def test_a_bad_variable_is_one_input_line(monkeypatch, value):
    monkeypatch.setenv("VAR_BENCH_MAX_TRIALS", value)
    with pytest.raises(InputError, match="VAR_BENCH_MAX_TRIALS: expected a positive integer"):
        bound("sweep_trials")
