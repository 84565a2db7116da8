"""The frame index rule, decoding, pooling and the embedding cache (no model)."""

from __future__ import annotations

import os

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from var_bench.errors import InputError
from var_bench.zeroshot.cache import EmbeddingCache, model_key
from var_bench.zeroshot.pooling import pool
from var_bench.zeroshot.sampling import frame_indices, thin


@given(st.integers(1, 500), st.integers(1, 40))
def test_thinning_keeps_ends_order_and_count(m, k):
    kept = thin(m, k)
    assert len(kept) == min(m, k)
    assert kept == sorted(set(kept))
    if m > k > 1:
        assert kept[0] == 0 and kept[-1] == m - 1


def test_index_rule_at_one_fps_of_a_30_fps_video():
    assert frame_indices(95, 30, 1.0, 32) == [0, 30, 60, 90]
    assert frame_indices(3000, 30, 1.0, 3) == [0, 1500, 2970]
    with pytest.raises(InputError, match="max_frames"):
        thin(3, 0)


def test_pooling_rules():
    e = np.array([[2.0, 0.0], [0.0, 1.0], [0.0, 3.0]])
    np.testing.assert_allclose(pool(e), np.array([1, 2]) / np.sqrt(5), rtol=1e-6)
    np.testing.assert_allclose(pool(e, "max"), np.array([1, 1]) / np.sqrt(2), rtol=1e-6)
    with pytest.raises(InputError, match="pooling: expected one of mean, max"):
        pool(e, "median")


def test_decode_video_follows_the_rule(tmp_path):
    pytest.importorskip("av", reason="PyAV (the extract extra) is not installed")
    from support.videos import frames, write_video

    from var_bench.zeroshot.sampling import decode_video

    path = write_video(tmp_path / "v.mp4", 65, fps=30)
    got = decode_video(path, 1.0, 32)
    assert got.shape == (3, 48, 64, 3) and got.dtype == np.uint8
    want = frames(65)[[0, 30, 60]].astype(int)
    assert np.abs(got.astype(int) - want).mean() < 8  # H.264 crf 0, yuv420p
    assert decode_video(path, None, 4).shape[0] == 4


def _key(**kw):
    base = {"model_id": "m", "weights": "w", "fps": 1.0}
    return model_key({**base, **kw}, toolkit="0.1.0")


def test_cache_hits_misses_and_keys(tmp_path):
    videos = [tmp_path / f"{i}.mp4" for i in range(3)]
    for i, v in enumerate(videos):
        v.write_bytes(bytes([i]) * 10)
    emb = np.ones((2, 4), np.float32)
    cache = EmbeddingCache(tmp_path / "c", _key())
    assert [cache.get(v) for v in videos] == [None] * 3
    for v in videos:
        cache.put(v, emb)
    again = EmbeddingCache(tmp_path / "c", _key())
    assert all(np.array_equal(again.get(v), emb) for v in videos)
    assert (again.hits, again.misses) == (3, 0)
    # one video changed (mtime): only it misses
    st_ = videos[1].stat()
    os.utime(videos[1], ns=(st_.st_atime_ns, st_.st_mtime_ns + 10**9))
    third = EmbeddingCache(tmp_path / "c", _key())
    assert [third.get(v) is None for v in videos] == [False, True, False]
    # any key field changed: everything misses
    for changed in (_key(fps=2.0), _key(weights="w2"), _key(model_id="m2")):
        other = EmbeddingCache(tmp_path / "c", changed)
        assert all(other.get(v) is None for v in videos)
    assert model_key({"model_id": "m", "weights": "w"}, "0.1.0") != model_key(
        {"model_id": "m", "weights": "w"}, "0.2.0"
    )


def test_sha256_identity_survives_a_touch_and_a_corrupt_entry_is_a_miss(tmp_path):
    v = tmp_path / "a.mp4"
    v.write_bytes(b"video")
    cache = EmbeddingCache(tmp_path / "c", _key(), identity="sha256")
    cache.put(v, np.zeros((1, 2), np.float32))
    os.utime(v, ns=(1, 1))
    assert EmbeddingCache(tmp_path / "c", _key(), identity="sha256").get(v) is not None
    cache.entry(v).write_bytes(b"not npy")
    assert cache.get(v) is None
    assert EmbeddingCache(None, _key()).get(v) is None  # no root: stores nothing
    with pytest.raises(InputError, match="cache identity"):
        EmbeddingCache(tmp_path, _key(), identity="mtime")
