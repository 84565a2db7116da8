"""Per-class and anomalous/normal breakdown (var_bench.scoring.stats.breakdown)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from var_bench.benchmarks import UCFCRIME_AR
from var_bench.errors import InputError
from var_bench.scoring.stats.breakdown import ANOMALOUS, CLASSES, NORMAL, by_class, group_metrics
from var_bench.tasks.retrieval.counts import RankCounts
from var_bench.tasks.retrieval.names import METRICS, SUMR

#: The retrieval task the counts are scored on.
TASK = UCFCRIME_AR.task()


def make_metadata(spec=UCFCRIME_AR) -> pd.DataFrame:
    """A canonical-order table with the real per-class test counts of ``spec``."""
    classes = [c for c, k in spec.upstream_class_counts["test"].items() for _ in range(k)]
    return pd.DataFrame(
        {
            "video_id": [f"v{i:03d}" for i in range(len(classes))],
            "class": classes,
            "anomalous": [c != spec.normal_class for c in classes],
        }
    )


def brute_force(b: np.ndarray, e: np.ndarray, mask: np.ndarray) -> dict[str, float]:
    """Expected-rule metrics by enumerating every tie position (an independent oracle)."""
    b, e = b[mask], e[mask]
    ranks = [np.arange(bi + 1, bi + ei + 2) for bi, ei in zip(b, e)]  # equally likely positions
    out = {f"R@{k}": 100 * np.mean([np.mean(r <= k) for r in ranks]) for k in (1, 5, 10)}
    means = np.array([r.mean() for r in ranks])
    out["MdR"], out["MnR"] = float(np.median(means)), float(means.mean())
    return out


@pytest.fixture(scope="module")
def counts() -> dict[str, RankCounts]:
    rng = np.random.default_rng(0)
    n = UCFCRIME_AR.test_videos
    return {d: RankCounts(rng.integers(0, 40, n), rng.integers(0, 3, n)) for d in ("t2v", "v2t")}


def test_every_class_and_both_groups(counts):
    meta = make_metadata()
    got = by_class(TASK, counts, meta, "expected", classes=UCFCRIME_AR.classes)
    assert list(got[CLASSES]) == list(UCFCRIME_AR.classes)
    assert sum(g["n"] for g in got[CLASSES].values()) == len(meta)
    assert got[ANOMALOUS]["n"] == int(meta["anomalous"].sum()) == 140
    assert got[NORMAL]["n"] == 150
    assert got[NORMAL]["metrics"] == got[CLASSES]["Normal"]["metrics"]


def test_group_metrics_match_an_enumeration_oracle(counts):
    meta = make_metadata()
    got = by_class(TASK, counts, meta, "expected")
    for cls in ("Explosion", "Normal", "Abuse"):
        mask = (meta["class"] == cls).to_numpy()
        for d, q in counts.items():
            want = brute_force(q.higher, q.tied, mask)
            for m in METRICS:
                assert got[CLASSES][cls]["metrics"][d][m] == pytest.approx(want[m])
        g = got[CLASSES][cls]
        assert g["summary"][SUMR] == pytest.approx(
            sum(g["metrics"][d][m] for d in counts for m in ("R@1", "R@5", "R@10"))
        )


def test_whole_set_group_equals_overall(counts):
    everything = np.ones(len(counts["t2v"]), bool)
    g = group_metrics(TASK, counts, everything, "pessimistic")
    assert g["n"] == len(counts["t2v"])


def test_order_defaults_to_first_appearance_and_skips_absent_classes(counts):
    meta = make_metadata()
    got = by_class(TASK, counts, meta, "optimistic", classes=("Normal", "Nonexistent", "Abuse"))
    assert list(got[CLASSES])[:2] == ["Normal", "Abuse"]
    assert "Nonexistent" not in got[CLASSES]


def test_an_empty_group_is_none():
    q = {"t2v": RankCounts([0, 1], [0, 0])}
    got = by_class(TASK, q, {"class": ["A", "B"], "anomalous": [True, True]}, "expected")
    assert got[NORMAL] is None and got[ANOMALOUS]["n"] == 2


def test_input_does_not_change(counts):
    before = {d: (q.higher.copy(), q.tied.copy()) for d, q in counts.items()}
    by_class(TASK, counts, make_metadata(), "expected")
    for d, q in counts.items():
        np.testing.assert_array_equal(q.higher, before[d][0])
        np.testing.assert_array_equal(q.tied, before[d][1])


def test_bad_metadata_is_one_line(counts):
    with pytest.raises(InputError, match="expected columns 'class' and 'anomalous'"):
        by_class(TASK, counts, pd.DataFrame({"video_id": ["a"]}), "expected")
    with pytest.raises(InputError, match="expected one row per query"):
        by_class(TASK, counts, make_metadata().iloc[:10], "expected")
