import numpy as np
import pytest

from var_bench.synth.check import ridge_similarity
from var_bench.synth.signal import (
    Amplitudes,
    annotated_mask,
    anomaly_direction,
    projection,
    random_mask,
    rng_for,
    snippet_labels,
    stream_features,
    unit_latent,
)
from var_bench.tasks.retrieval import count_direction, summarise


def test_label_rule_half_open_and_union():
    # F = 16: [157,180) + [185,244): snippet 11 = [176,192) holds 4 + 7 = 11 >= 8 frames.
    labels = snippet_labels([(157, 180), (185, 244)], 17, 16)
    assert np.flatnonzero(labels).tolist() == [10, 11, 12, 13, 14]
    assert snippet_labels([(0, 8)], 2, 16).tolist() == [True, False]  # exactly half counts
    assert snippet_labels([(0, 7)], 2, 16).tolist() == [False, False]
    assert snippet_labels([(20, 500)], 3, 16).tolist() == [False, True, True]  # past T ignored


def test_short_segment_keeps_its_best_snippet():
    mask = annotated_mask([(20, 26), (100, 160)], 12, 16)
    assert np.flatnonzero(mask).tolist() == [1, 6, 7, 8, 9]
    assert not snippet_labels([(20, 26)], 12, 16).any()


@pytest.mark.parametrize("t", [1, 2, 7, 40])
def test_random_mask_is_one_run(t):
    m = random_mask(np.random.default_rng(t), t)
    idx = np.flatnonzero(m)
    assert 1 <= idx.size <= max(1, round(0.3 * t)) and np.all(np.diff(idx) == 1)


def test_fixed_parts_depend_on_seed_and_stream_only():
    assert np.array_equal(projection(3, "rgb", 4, 8), projection(3, "rgb", 4, 8))
    assert not np.array_equal(projection(3, "rgb", 4, 8), projection(3, "flow", 4, 8))
    u = anomaly_direction(0, "audio", 128)
    assert np.isclose(np.linalg.norm(u), np.sqrt(128))
    assert np.isclose(np.linalg.norm(unit_latent(rng_for(0, "v"), 64)), 1.0)


def test_stream_features_shape_and_placement():
    amp = Amplitudes()
    mask = np.zeros(20, bool)
    mask[5:9] = True
    u = anomaly_direction(0, "rgb", 1024)
    c = unit_latent(rng_for(0, "c"), 64) @ projection(0, "rgb", 64, 1024)
    x = stream_features(rng_for(0, "x"), mask, 3, c, u, amp, amp.signal)
    assert x.shape == (20, 3, 1024) and x.dtype == np.float32
    proj = x.mean(1) @ (u / np.linalg.norm(u))
    assert np.array_equal(proj > amp.anomaly * np.sqrt(1024) / 2, mask)
    normal = stream_features(rng_for(0, "x"), mask, 3, c, None, amp, amp.signal)
    assert np.all(normal.mean(1) @ (u / np.linalg.norm(u)) < amp.anomaly * np.sqrt(1024) / 2)


def test_signal_is_learnable_but_not_trivial():
    """Ridge from the content vector to mean-pooled video features, 300 test pairs."""
    amp, d, n_train, n_test = Amplitudes(), 1024, 600, 300
    p, u = projection(0, "rgb", 64, d), anomaly_direction(0, "rgb", d)
    content = np.stack([unit_latent(rng_for(0, i), 64) for i in range(n_train + n_test)])
    pooled = []
    for i, c in enumerate(content):
        rng = rng_for(0, "video", i)
        mask = random_mask(rng, int(rng.integers(8, 17)))
        pooled.append(
            stream_features(rng, mask, 1, c @ p, u if i % 2 else None, amp, amp.signal).mean((0, 1))
        )
    pooled = np.array(pooled, dtype=np.float64)
    sim = ridge_similarity(content[:n_train], pooled[:n_train], content[n_train:], pooled[n_train:])
    m = summarise(count_direction(sim, True))
    assert m["R@10"] > 5 * 100 * 10 / n_test  # five times chance (R@10 chance = 3.3 %)
    assert m["R@1"] < 90
