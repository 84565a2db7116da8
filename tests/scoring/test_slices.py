import numpy as np
import pytest

from var_bench.benchmarks import XDVIOLENCE_AR
from var_bench.errors import InputError
from var_bench.scoring.record import ResultRecord
from var_bench.scoring.render import render_record
from var_bench.scoring.score import compare, score
from var_bench.scoring.slices import SOURCE_SEEN, SOURCE_UNSEEN, record_slices, slice_figures
from var_bench.tasks.retrieval import RankCounts


def test_slice_figures_by_hand():
    task = XDVIOLENCE_AR.task()
    # b (items above the true one), e (items tied with it) for 4 queries
    q = RankCounts([0, 4, 0, 20], [0, 0, 2, 0])
    f = slice_figures(task, {"a2v": q, "v2a": q}, np.array([1, 2]), "expected")
    # query 1: rank 5; query 2: expected rank 1 + 2/3*... -> R@1 = 1/3 (one of 3 tied places)
    assert f["queries"] == 2 and f["index"] == [1, 2]
    assert f["metrics"]["a2v"]["R@1"] == pytest.approx(100 * (0 + 1 / 3) / 2)
    assert f["metrics"]["a2v"]["R@5"] == pytest.approx(100.0)
    assert f["bounds"]["optimistic"]["metrics"]["a2v"]["R@1"] == pytest.approx(50.0)
    assert f["bounds"]["pessimistic"]["metrics"]["a2v"]["R@1"] == pytest.approx(0.0)
    assert f["summary"]["SumR"] == pytest.approx(2 * (100 / 6 + 100 + 100))
    out = record_slices(
        task, {"a2v": q}, {"x": np.array([1, 0, 0, 1], bool), "y": np.zeros(4, bool)}, "expected"
    )
    assert list(out) == ["x"] and out["x"]["queries"] == 2


@pytest.fixture
def xd_home(shared_data, tmp_path):
    from var_bench.data.prepare import download

    download("xdviolence-ar", home=tmp_path, mirror=str(shared_data), progress=False)
    return tmp_path


def _split_matrix(seen):
    """Unseen-source queries rank their video first; seen-source ones rank it last."""
    n = len(seen)
    S = np.eye(n, dtype=np.float32)
    S[seen] = 1.0 - np.eye(n, dtype=np.float32)[seen] - 0.5 * np.eye(n, dtype=np.float32)[seen]
    return S


def test_source_slices_of_a_real_xd_build(xd_home, tmp_path):
    from var_bench.data.integrity import seen_mask
    from var_bench.data.prepare import load_integrity

    seen = seen_mask(load_integrity("xdviolence-ar", home=xd_home))
    S = _split_matrix(seen)
    r = score({"a2v": S, "v2a": S}, "xdviolence-ar", home=xd_home)
    unseen, seen_sl = r.slices[SOURCE_UNSEEN], r.slices[SOURCE_SEEN]
    assert (unseen["queries"], seen_sl["queries"]) == (267, 533)
    assert unseen["metrics"]["a2v"]["R@1"] == 100.0 and unseen["metrics"]["a2v"]["MdR"] == 1.0
    assert seen_sl["metrics"]["a2v"]["R@10"] == 0.0 and seen_sl["metrics"]["a2v"]["MdR"] == 800.0
    # the whole: 267 of 800 queries first
    assert r.metrics["a2v"]["R@1"] == pytest.approx(100 * 267 / 800)
    text = render_record(r)
    assert "unseen source  267" in text and "seen source    533" in text
    path = tmp_path / "r.json"
    r.save(path)
    back = ResultRecord.load(path)
    assert back.slices[SOURCE_UNSEEN]["index"] == unseen["index"]

    other = score({"a2v": np.eye(800), "v2a": np.eye(800)}, "xdviolence-ar", home=xd_home)
    c = compare(r, other, slice=SOURCE_UNSEEN, replicates=200)
    sumr = c.rows[-1]
    assert (sumr.a, sumr.b) == (600.0, 600.0)  # identical on the unseen slice
    c = compare(r, other, slice=SOURCE_SEEN, replicates=200)
    assert c.rows[-1].a == 0.0 and c.rows[-1].better == "b"
    with pytest.raises(InputError, match="expected one of the record's slices"):
        compare(r, other, slice="nope", replicates=10)


def test_no_slices_without_a_build_or_sources(built_home):
    r = score(np.eye(800), "xdviolence-ar")  # the synthetic build's ids are not the real ones
    assert r.slices is None
    assert score(np.eye(290), "ucfcrime-ar").slices is None
    with pytest.raises(InputError, match="none"):
        compare(r, r, slice=SOURCE_UNSEEN, replicates=10)


def test_a_malformed_slice_is_refused():
    r = score(np.eye(290), "ucfcrime-ar")
    d = r.to_dict()
    d["slices"] = {"x": {"queries": 2, "index": [3, 1], "metrics": {}, "summary": {}}}
    with pytest.raises(InputError, match="slices.x.index"):
        ResultRecord.from_dict(d)
