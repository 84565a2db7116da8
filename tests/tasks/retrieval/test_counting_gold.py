"""The counting kernel on an explicit gold: rectangular Nq x Ng matrices, several positives per
query, checked against a brute-force reference that shares no code with the kernel."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from var_bench.errors import InputError
from var_bench.tasks.gold import Gold, IdList
from var_bench.tasks.retrieval.counting import count_direction, count_ranks


def brute_force(S: np.ndarray, positives: list[list[int]]) -> tuple[np.ndarray, ...]:
    """(b, e) per row query and per column query, by looping over every cell."""
    nq, ng = S.shape
    rb, re_ = np.zeros(nq, int), np.zeros(nq, int)
    for i in range(nq):
        d = max(S[i, j] for j in positives[i])
        for j in range(ng):
            if j in positives[i]:
                continue
            rb[i] += S[i, j] > d
            re_[i] += S[i, j] == d
    owners = [[i for i in range(nq) if j in positives[i]] for j in range(ng)]
    cb, ce = np.zeros(ng, int), np.zeros(ng, int)
    for j in range(ng):
        c = max(S[i, j] for i in owners[j])
        for i in range(nq):
            if i in owners[j]:
                continue
            cb[j] += S[i, j] > c
            ce[j] += S[i, j] == c
    return rb, re_, cb, ce


def gold_of(positives: list[list[int]], ng: int) -> Gold:
    return Gold.from_lists(
        [f"q{i}" for i in range(len(positives))],
        [f"v{j}" for j in range(ng)],
        [[f"v{j}" for j in p] for p in positives],
    )


@st.composite
def problems(draw):
    ng = draw(st.integers(1, 9))
    nq = draw(st.integers(ng, 14))
    # every gallery item answers one query at least: query j < ng owns item j, the rest random
    positives = [
        sorted({j} | set(draw(st.lists(st.integers(0, ng - 1), max_size=2)))) for j in range(ng)
    ]
    positives += [
        sorted(set(draw(st.lists(st.integers(0, ng - 1), min_size=1, max_size=3))))
        for _ in range(nq - ng)
    ]
    order = draw(st.permutations(range(nq)))
    positives = [positives[k] for k in order]
    dtype = draw(st.sampled_from([np.float32, np.float16, np.int8]))
    S = np.asarray(
        draw(st.lists(st.integers(0, 4), min_size=nq * ng, max_size=nq * ng)), dtype=dtype
    ).reshape(nq, ng)
    return S, positives


@settings(max_examples=150, deadline=None)
@given(problems(), st.booleans(), st.sampled_from([1, 64, 1 << 20]))
def test_matches_brute_force(problem, fortran, block_bytes):
    S, positives = problem
    gold = gold_of(positives, S.shape[1])
    M = np.asfortranarray(S) if fortran else S
    rows, cols = count_ranks(M, gold, block_bytes=block_bytes, threads=2)
    rb, re_, cb, ce = brute_force(S, positives)
    assert rows.higher.tolist() == rb.tolist() and rows.tied.tolist() == re_.tolist()
    assert cols.higher.tolist() == cb.tolist() and cols.tied.tolist() == ce.tolist()
    one = count_direction(M, True, gold)
    assert one.higher.tolist() == rb.tolist() and one.tied.tolist() == re_.tolist()


def test_identity_gold_equals_no_gold():
    r = np.random.default_rng(0)
    S = np.round(r.standard_normal((40, 40)), 1).astype(np.float32)
    explicit = gold_of([[i] for i in range(40)], 40)
    for a, b in zip(count_ranks(S), count_ranks(S, explicit)):
        assert a.higher.tolist() == b.higher.tolist() and a.tied.tolist() == b.tied.tolist()
    ids = IdList.of([f"v{i}" for i in range(40)])
    for a, b in zip(count_ranks(S), count_ranks(S, Gold.identity(ids))):
        assert a.higher.tolist() == b.higher.tolist() and a.tied.tolist() == b.tied.tolist()


def test_a_caption_with_two_videos_counts_its_best_positive():
    # caption 0 belongs to videos 0 and 1; video 1 scores highest of all: rank 1, no tie.
    S = np.array([[0.2, 0.9, 0.5], [0.1, 0.3, 0.8]], dtype=np.float32)
    gold = gold_of([[0, 1], [2]], 3)
    rows, cols = count_ranks(S, gold)
    assert rows.higher.tolist() == [0, 0] and rows.tied.tolist() == [0, 0]
    # video 0's only caption is 0 (0.2) and caption 1 scores 0.1 below it: rank 1.
    assert cols.higher.tolist() == [0, 0, 0]


def test_tied_positives_are_not_counted_as_competitors():
    S = np.array([[0.5, 0.5, 0.5]], dtype=np.float32)
    rows, _ = count_ranks(S, gold_of([[0, 1, 2]], 3), check_finite=True)
    assert rows.higher.tolist() == [0] and rows.tied.tolist() == [0]


def test_rectangular_file_source_and_its_transpose(tmp_path):
    r = np.random.default_rng(1)
    S = np.round(r.standard_normal((7, 4)), 1)
    positives = [[i % 4] for i in range(7)]
    gold = gold_of(positives, 4)
    want = brute_force(S, positives)
    for fortran in (False, True):
        path = tmp_path / f"s{fortran}.npy"
        np.save(path, np.asfortranarray(S) if fortran else S)
        m = np.load(path, mmap_mode="r")
        rows, cols = count_ranks(m, gold)
        assert [
            rows.higher.tolist(),
            rows.tied.tolist(),
            cols.higher.tolist(),
            cols.tied.tolist(),
        ] == [w.tolist() for w in want]


def test_wrong_shape_and_unanswered_gallery_items_are_refused():
    gold = gold_of([[0], [1]], 3)
    with pytest.raises(InputError, match="expected a 2 x 3 score matrix .*got 3 x 2"):
        count_ranks(np.zeros((3, 2)), gold)
    with pytest.raises(InputError, match="every gallery item to answer at least one query"):
        count_ranks(np.zeros((2, 3)), gold)
    rows = count_direction(np.zeros((2, 3)), True, gold)  # rows alone need no column positives
    assert rows.tied.tolist() == [2, 2]


def test_non_finite_positive_score_is_refused_with_its_position():
    S = np.zeros((2, 3), np.float32)
    S[1, 2] = np.nan
    with pytest.raises(InputError, match="NaN at row 1, column 2"):
        count_direction(S, True, gold_of([[0], [2]], 3))
