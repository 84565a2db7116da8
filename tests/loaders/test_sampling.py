"""Snippet sampling: the formulas of uniform/random indices and average pooling."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from var_bench.errors import InputError
from var_bench.loaders.sampling import (
    bin_edges,
    pool_labels,
    pool_to,
    random_indices,
    uniform_indices,
)


@settings(max_examples=80, deadline=None)
@given(st.integers(1, 300), st.integers(1, 64))
def test_uniform_formula_and_range(T, n) -> None:
    idx = uniform_indices(T, n)
    assert idx.tolist() == [int(np.floor((k + 0.5) * T / n)) for k in range(n)]
    assert idx.min() >= 0 and idx.max() < T and (np.diff(idx) >= 0).all()
    if T >= n:
        assert len(set(idx.tolist())) == n  # no repeats when there are enough snippets


@settings(max_examples=80, deadline=None)
@given(st.integers(1, 300), st.integers(1, 64), st.integers(0, 2**32 - 1))
def test_random_one_per_bin_or_covering(T, n, seed) -> None:
    idx = random_indices(T, n, np.random.default_rng(seed))
    assert idx.shape == (n,) and (np.diff(idx) >= 0).all()
    assert idx.min() >= 0 and idx.max() < T
    if n <= T:
        edges = bin_edges(T, n)
        assert ((idx >= edges[:-1]) & (idx < edges[1:])).all()
    else:
        assert set(idx.tolist()) == set(range(T))  # every snippet at least once


def test_random_is_seeded_and_varies() -> None:
    a = random_indices(100, 8, np.random.default_rng(1))
    assert a.tolist() == random_indices(100, 8, np.random.default_rng(1)).tolist()
    draws = {tuple(random_indices(100, 8, np.random.default_rng(s))) for s in range(20)}
    assert len(draws) > 1


def test_pool_to_groups() -> None:
    x = np.arange(10, dtype=np.float32).reshape(5, 2)
    assert pool_to(x, 5) is x and pool_to(x, 9) is x
    # T = 5, n = 2: edges 0, 2, 5 -> rows {0, 1} and {2, 3, 4}.
    assert pool_to(x, 2).tolist() == [[1.0, 2.0], [6.0, 7.0]]
    assert pool_to(x, 1).tolist() == [[4.0, 5.0]]
    h = np.ones((7, 3, 4), np.float16)  # [T, C, D] and float16 inputs: float32 out
    assert pool_to(h, 3).shape == (3, 3, 4) and pool_to(h, 3).dtype == np.float32


@settings(max_examples=50, deadline=None)
@given(st.integers(2, 200), st.integers(1, 50))
def test_pool_preserves_the_mean_of_each_group(T, n) -> None:
    x = np.random.default_rng(T).normal(size=(T, 3)).astype(np.float32)
    out = pool_to(x, n)
    assert out.shape == (min(T, n), 3)
    if T > n:
        e = bin_edges(T, n)
        ref = np.stack([x[e[k] : e[k + 1]].mean(0) for k in range(n)])
        np.testing.assert_allclose(out, ref, rtol=1e-5, atol=1e-6)


def test_pool_labels_half_rule() -> None:
    y = np.array([1, 0, 1, 1, 0, 0], np.int8)  # n = 3: groups {1,0} {1,1} {0,0}
    assert pool_labels(y, 3).tolist() == [1, 1, 0]
    assert pool_labels(np.array([1, 0, 0]), 1).tolist() == [0]
    assert pool_labels(np.full(6, -1), 2).tolist() == [-1, -1]


@pytest.mark.parametrize("T, n", [(0, 3), (5, 0), (-1, 1), (2.5, 1)])
def test_bad_sizes(T, n) -> None:
    with pytest.raises(InputError, match="snippet sampling: expected"):
        uniform_indices(T, n)
