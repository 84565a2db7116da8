import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from var_bench.features.labels import snippet_labels


def test_half_rule_at_the_boundary():
    # Snippet 0 = frames [0, 16): 8 frames inside -> 1; 7 -> 0.
    assert snippet_labels([[8, 39]], 3).tolist() == [1, 1, 0]  # snippet 2: frames 32..38 = 7
    assert snippet_labels([[9, 40]], 3).tolist() == [0, 1, 1]  # snippet 2: frames 32..39 = 8


def test_empty_segments_are_all_zero_and_dtype_int8():
    out = snippet_labels([], 5)
    assert out.dtype == np.int8 and out.tolist() == [0] * 5


def test_segment_split_over_two_snippets_and_union_of_overlaps():
    assert snippet_labels([[12, 20]], 2).tolist() == [0, 0]  # 4 + 4 frames: neither half
    assert snippet_labels([[0, 6], [4, 8]], 1).tolist() == [1]  # union 0..8 = 8 frames
    assert snippet_labels([[0, 4], [4, 8]], 1).tolist() == [1]  # touching segments merge


def test_segments_past_the_end_and_custom_f():
    assert snippet_labels([[30, 10_000]], 2, snippet_frames=10).tolist() == [0, 0]
    assert snippet_labels([[5, 10]], 2, snippet_frames=10).tolist() == [1, 0]
    with pytest.raises(ValueError):
        snippet_labels([], 2, snippet_frames=0)


@given(
    st.lists(st.tuples(st.integers(0, 200), st.integers(0, 60)), max_size=4),
    st.integers(1, 15),
    st.integers(1, 20),
)
def test_matches_a_frame_mask(segs, T, F):
    segments = [[s, s + n] for s, n in segs]
    mask = np.zeros(T * F + 300, bool)
    for s, e in segments:
        mask[s:e] = True
    want = [int(2 * mask[i * F : (i + 1) * F].sum() >= F) for i in range(T)]
    assert snippet_labels(segments, T, F).tolist() == want
