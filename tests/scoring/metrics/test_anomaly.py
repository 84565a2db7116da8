"""Frame-level detection metrics: hand-computed cases, sklearn cross-checks, the VAD pipeline."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from var_bench.errors import InputError
from var_bench.scoring.metrics.anomaly import (
    evaluate_detector,
    frame_ap,
    frame_auc,
    frame_labels,
    snippet_scores_to_frames,
)


def _auc_pairs(s, y) -> float:
    """Literal Mann-Whitney definition: loop over all positive-negative pairs."""
    pos = [a for a, b in zip(s, y) if b]
    neg = [a for a, b in zip(s, y) if not b]
    wins = sum(1.0 if p > q else 0.5 if p == q else 0.0 for p, q in itertools.product(pos, neg))
    return wins / (len(pos) * len(neg))


def _ap_thresholds(s, y) -> float:
    """Step-wise AP from its definition: one threshold per distinct score, decreasing."""
    s, y = np.asarray(s, float), np.asarray(y, bool)
    ap, prev_recall = 0.0, 0.0
    for t in sorted(set(s.tolist()), reverse=True):
        sel = s >= t
        tp = (sel & y).sum()
        recall = tp / y.sum()
        ap += (recall - prev_recall) * tp / sel.sum()
        prev_recall = recall
    return ap


def test_hand_computed_cases() -> None:
    assert frame_auc([0, 1], [0, 1]) == 1.0
    assert frame_auc([1, 0], [0, 1]) == 0.0
    assert frame_auc([3, 3, 3, 3], [0, 1, 0, 1]) == 0.5  # constant scores are chance
    # positives 2, 5; negatives 1, 2, 4: 2 beats 1, ties 2 (half), loses 4; 5 beats all.
    assert frame_auc([2, 5, 1, 2, 4], [1, 1, 0, 0, 0]) == pytest.approx((1 + 0.5 + 3) / 6)
    assert frame_ap([1, 1, 1, 1], [1, 0, 0, 0]) == 0.25  # one threshold: precision 1/4
    assert frame_ap([4, 3, 2, 1], [1, 0, 1, 0]) == pytest.approx(0.5 * 1 + 0.5 * (2 / 3))
    assert frame_ap([9, 1], [1, 0]) == 1.0


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 4), st.booleans()), min_size=2, max_size=30))
def test_matches_definitions(pairs) -> None:
    s = [float(a) for a, _ in pairs]  # few distinct values: many ties
    y = [int(b) for _, b in pairs]
    if 0 < sum(y) < len(y):
        assert frame_auc(s, y) == pytest.approx(_auc_pairs(s, y))
    if sum(y):
        assert frame_ap(s, y) == pytest.approx(_ap_thresholds(s, y))


def test_matches_sklearn() -> None:
    metrics = pytest.importorskip("sklearn.metrics")
    rng = np.random.default_rng(0)
    for trial in range(5):
        y = rng.random(5000) < 0.2
        s = rng.random(5000) + y * 0.3
        if trial % 2:
            s = np.round(s, 1)  # heavy ties
        assert frame_auc(s, y) == pytest.approx(metrics.roc_auc_score(y, s), abs=1e-12)
        assert frame_ap(s, y) == pytest.approx(metrics.average_precision_score(y, s), abs=1e-12)


def test_bad_input_is_one_line() -> None:
    with pytest.raises(InputError, match="both anomalous and normal frames, got 0 anomalous"):
        frame_auc([0.1, 0.2], [0, 0])
    with pytest.raises(InputError, match="at least one anomalous frame"):
        frame_ap([0.1, 0.2], [0, 0])
    with pytest.raises(InputError, match="NaN or Inf"):
        frame_auc([np.nan, 0.2], [0, 1])
    with pytest.raises(InputError, match="expected 2 labels"):
        frame_ap([0.1, 0.2], [0, 1, 1])
    with pytest.raises(InputError, match="labels 0 .* or 1"):
        frame_ap([0.1, 0.2], [0, 2])
    with pytest.raises(InputError, match="got null"):
        frame_labels(None, 10)


def test_frames_from_snippets() -> None:
    assert snippet_scores_to_frames([1, 2], 3).tolist() == [1, 1, 1, 2, 2, 2]
    assert snippet_scores_to_frames([1, 2], 3, num_frames=4).tolist() == [1, 1, 1, 2]
    assert snippet_scores_to_frames([1, 2], 2, num_frames=6).tolist() == [1, 1, 2, 2, 2, 2]
    assert frame_labels([[0, 2], [5, 99]], 7).tolist() == [1, 1, 0, 0, 0, 1, 1]
    assert frame_labels([], 3).tolist() == [0, 0, 0]


def _table():
    return {
        "video_id": ["a", "b", "c"],
        "segments": [[[16, 48]], [], [[0, 8]]],
        "num_frames": [64, None, 20],
    }


def test_evaluate_detector_concatenates_frames_in_table_order() -> None:
    scores = {"a": [0.1, 0.9, 0.8, 0.2], "b": [0.3, 0.3], "c": [0.7, 0.1]}
    m = evaluate_detector(scores, _table(), snippet_frames=16)
    # a: 64 frames, c: its 20 known frames, b: no count known -> 2 * 16 frames.
    frames = np.concatenate([np.repeat(scores["a"], 16), np.repeat(scores["b"], 16),
                             np.repeat(scores["c"], 16)[:20]])
    labels = np.concatenate([frame_labels([[16, 48]], 64), np.zeros(32, np.int8),
                             frame_labels([[0, 8]], 20)])
    assert (m.frames, m.anomalous_frames, m.videos) == (116, 40, 3)
    assert m.auc == pytest.approx(_auc_pairs(frames, labels))
    assert m.ap == pytest.approx(_ap_thresholds(frames, labels))
    # The same through a DataFrame (NaN for unknown num_frames) and a pyarrow Table.
    assert evaluate_detector(scores, pd.DataFrame(_table())) == m
    assert evaluate_detector(scores, pa.table(_table())) == m


def test_evaluate_detector_refuses_missing_unknown_or_unannotated() -> None:
    with pytest.raises(InputError, match="expected scores for all 3 videos, 1 missing .*'c'"):
        evaluate_detector({"a": [1.0], "b": [0.0]}, _table())
    with pytest.raises(InputError, match="1 ids not in the table .*'zz'"):
        evaluate_detector({"a": [1.0], "b": [0.0], "c": [0.0], "zz": [1.0]}, _table())
    t = _table() | {"segments": [None, None, None]}
    with pytest.raises(InputError, match="no temporal annotation"):
        evaluate_detector({"a": [1.0], "b": [0.0], "c": [0.0]}, t)
