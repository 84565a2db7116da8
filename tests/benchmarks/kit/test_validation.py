import hashlib
import math

from hypothesis import given
from hypothesis import strategies as st

from var_bench.benchmarks.kit import id_digest, validation_mask


def test_digest_is_sha256_hex():
    assert id_digest("Abuse001_x264") == hashlib.sha256(b"Abuse001_x264").hexdigest()


@given(
    st.lists(
        st.tuples(st.text(min_size=1, max_size=8), st.sampled_from("abc")),
        unique_by=lambda t: t[0],
        max_size=60,
    ),
    st.integers(1, 12),
)
def test_ceil_n_over_d_smallest_digests_per_group(items, d):
    ids = [i for i, _ in items]
    groups = [g for _, g in items]
    mask = validation_mask(ids, groups, d)
    for g in set(groups):
        members = [i for i, gg in items if gg == g]
        chosen = {i for i, gg, m in zip(ids, groups, mask) if gg == g and m}
        assert len(chosen) == math.ceil(len(members) / d)
        worst_chosen = max(id_digest(i) for i in chosen)
        assert all(id_digest(i) > worst_chosen for i in set(members) - chosen)


def test_independent_of_input_order():
    ids = [f"v{i}" for i in range(40)]
    groups = ["x" if i % 3 else "y" for i in range(40)]
    a = {i for i, m in zip(ids, validation_mask(ids, groups, 10)) if m}
    b = {i for i, m in zip(ids[::-1], validation_mask(ids[::-1], groups[::-1], 10)) if m}
    assert a == b
