"""The moment metrics against a plain-Python reference (every tie order enumerated) on random
predictions with ties and the edge cases: zero-length gold, predictions past the duration,
several gold segments, a gold video missing from the predictions."""

from __future__ import annotations

import numpy as np
import pytest

from tests.tasks.moments import reference
from var_bench.tasks import Gold, IdList
from var_bench.tasks.moments import Grounding, MomentRetrieval, moment_metric, read_moments
from var_bench.tasks.moments.kernel import RULES, credit

GALLERY = [f"v{j}" for j in range(6)]
DURATION = 10.0


def make_case(seed: int, n: int = 40, grounding: bool = False):
    """Random queries: 1-2 gold segments (one zero-length now and then; a second gold video in
    the corpus case), 0-6 predictions with coarse scores (ties) and times past the duration."""
    r = np.random.default_rng(seed)
    golds, preds = [], []
    for _ in range(n):
        v = int(r.integers(len(GALLERY)))
        segs = []
        for _ in range(int(r.integers(1, 3))):
            s = float(np.round(r.uniform(0, 8), 1))
            e = s if r.random() < 0.15 else float(np.round(s + r.uniform(0.5, 2), 1))
            segs.append((v, s, e))
        if not grounding and r.random() < 0.2:
            w = (v + 1) % len(GALLERY)
            segs.append((w, 1.0, 3.0))
        golds.append(segs)
        ps, seen = [], set()
        for _ in range(int(r.integers(0, 7))):
            vid = v if grounding or r.random() < 0.5 else int(r.integers(len(GALLERY)))
            if r.random() < 0.3 and segs:  # near a gold segment
                g = segs[int(r.integers(len(segs)))]
                vid = g[0] if not grounding else v
                s = max(0.0, g[1] + float(np.round(r.uniform(-0.5, 0.5), 1)))
                e = max(s, g[2] + float(np.round(r.uniform(-0.5, 0.5), 1)))
            else:
                s = float(np.round(r.uniform(0, 9), 1))
                e = float(np.round(s + r.uniform(0, 4), 1))  # may pass the duration
            if (vid, s, e) in seen:
                continue
            seen.add((vid, s, e))
            ps.append((vid, s, e, float(r.choice([0.0, 0.5, 1.0]))))
        preds.append(ps)
    indptr = np.cumsum([0] + [len(g) for g in golds])
    gold = Gold(
        IdList.of([f"q{i}" for i in range(n)]),
        IdList.of(GALLERY),
        (indptr, np.array([v for g in golds for v, _, _ in g])),
        gallery_meta={"duration_s": np.full(len(GALLERY), DURATION)},
        segments=np.array([(s, e) for g in golds for _, s, e in g]).reshape(-1, 2),
    )
    entries = [
        {"query_id": f"q{i}", "predictions": [[GALLERY[v], s, e, sc] for v, s, e, sc in ps]}
        for i, ps in enumerate(preds)
    ]
    return gold, golds, preds, entries


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_corpus_metrics_equal_the_reference_under_every_rule(seed):
    task = MomentRetrieval("moments")
    gold, golds, preds, entries = make_case(seed)
    assert any(not p for p in preds) and any(len(g) > 1 for g in golds)
    with task.read(entries, gold, benchmark="b") as sub:
        per_query = task.score(sub, gold)["vcmr"]
    for rule in RULES:
        values = task.values(per_query, rule)
        for k in (1, 5, 10):
            want = [
                reference.video_recall(p, g, len(GALLERY), k)[rule] for p, g in zip(preds, golds)
            ]
            np.testing.assert_allclose(values[f"R@{k}"], 100 * np.array(want), atol=1e-9)
            for m in (0.3, 0.5, 0.7):
                want = [reference.moment_recall(p, g, k, m)[rule] for p, g in zip(preds, golds)]
                got = values[moment_metric(k, m)]
                np.testing.assert_allclose(got, 100 * np.array(want), atol=1e-9)
        summary = task.summarise(per_query, rule)
        assert summary["R@1,IoU=0.5"] == pytest.approx(values["R@1,IoU=0.5"].mean())


@pytest.mark.parametrize("seed", [3, 4])
def test_grounding_metrics_equal_the_reference_under_every_rule(seed):
    task = Grounding("grounding")
    gold, golds, preds, entries = make_case(seed, grounding=True)
    for e in entries[::2]:  # the video may be left out: [start_s, end_s, score]
        e["predictions"] = [p[1:] for p in e["predictions"]]
    with task.read(entries, gold, benchmark="b") as sub:
        per_query = task.score(sub, gold)["tsg"]
    for rule in RULES:
        values = task.values(per_query, rule)
        for k in (1, 5):
            for m in (0.3, 0.5, 0.7):
                want = [reference.moment_recall(p, g, k, m)[rule] for p, g in zip(preds, golds)]
                np.testing.assert_allclose(values[moment_metric(k, m)], 100 * np.array(want))
        want = [reference.top_iou(p, g)[rule] for p, g in zip(preds, golds)]
        np.testing.assert_allclose(values["mIoU"], 100 * np.array(want), atol=1e-9)


def test_the_edge_cases_by_hand():
    """Zero-length gold hit only by the same point; a prediction past the duration keeps its
    overshoot in the union; the better of two gold segments counts; a missing gold video ties
    with the unlisted videos."""
    gold = Gold(
        IdList.of(["zero", "past", "two", "absent"]),
        IdList.of(GALLERY),
        (np.array([0, 1, 2, 4, 5]), np.array([0, 1, 2, 2, 3])),
        segments=np.array([[4.0, 4.0], [8.0, 10.0], [0.0, 2.0], [5.0, 9.0], [1.0, 2.0]]),
    )
    entries = [
        {"query_id": "zero", "predictions": [["v0", 4.0, 4.0, 1.0], ["v0", 3.0, 5.0, 2.0]]},
        {"query_id": "past", "predictions": [["v1", 8.0, 12.0, 1.0]]},
        {"query_id": "two", "predictions": [["v2", 5.0, 8.0, 1.0]]},
        {"query_id": "absent", "predictions": [["v0", 1.0, 2.0, 1.0], ["v4", 1.0, 2.0, 0.5]]},
    ]
    task = MomentRetrieval("moments")
    with task.read(entries, gold, benchmark="b") as sub:
        v = task.values(task.score(sub, gold)["vcmr"], "expected")
    assert v["R@1,IoU=0.7"].tolist() == [0.0, 0.0, 100.0, 0.0]  # zero: the point is 2nd
    assert v["R@5,IoU=0.7"].tolist() == [100.0, 0.0, 100.0, 0.0]  # past: IoU 2/4 only
    assert v["R@1,IoU=0.5"].tolist() == [0.0, 100.0, 100.0, 0.0]
    gold = Gold(**{**gold.__dict__, "gallery_meta": {"duration_s": np.full(6, DURATION)}})
    with task.read(entries, gold, benchmark="b") as sub:
        lines = task.query_details(sub, gold)["vcmr"]
        best = task.query_scores(sub)["vcmr"]
    assert lines[1] == "gold 8.0-10.0 s; top 8.0-12.0 s (tIoU 0.50) |" + "." * 32 + "#" * 8 + "|"
    assert lines[3].startswith("gold 1.0-2.0 s; top 1.0-2.0 s on v0 (tIoU 0.00)")
    assert best[3, 0] == 1.0 and best[3, 4] == 0.5 and best[3, 3] == -np.inf
    # absent: 2 listed videos above, 3 unlisted (v1, v2, v5) tied with v3 -> R@5 = 3/4
    assert v["R@5"][3] == pytest.approx(75.0)
    assert credit(np.array([2]), np.array([3]), np.array([1]), 5, "expected")[0] == 0.75


@pytest.mark.parametrize(
    ("entries", "message"),
    [
        ([{"query_id": "q0", "predictions": []}], "1 missing"),
        (
            [{"query_id": "q0", "predictions": []}, {"query_id": "zz", "predictions": []}],
            "unknown query id 'zz'",
        ),
        ([{"query_id": "q0", "predictions": [["v9", 0, 1, 1]]}] * 1, "unknown video 'v9'"),
        ([{"query_id": "q0", "predictions": [["v0", 2, 1, 1]]}], "start_s <= end_s"),
        ([{"query_id": "q0", "predictions": [["v0", -1, 1, 1]]}], "times >= 0"),
        ([{"query_id": "q0", "predictions": [["v0", float("nan"), 1, 1]]}], "finite start_s"),
        ([{"query_id": "q0", "predictions": [["v0", 0, 1, float("inf")]]}], "finite score"),
        ([{"query_id": "q0", "predictions": [["v0", 0, 1, 1], ["v0", 0, 1, 2]]}], "repeated"),
        ([{"query_id": "q0", "predictions": [["v0", 0, i, 1] for i in range(101)]}], "at most 100"),
        ([{"query_id": "q0", "predictions": [["v0", "0", 1, 1]]}], "expected numbers"),
        ([{"query_id": "q0", "predictions": [[0, 1, 1]]}], "expected predictions"),
        ({"benchmark": "ucfcrime-ar", "results": []}, "got benchmark 'ucfcrime-ar'"),
        ({"preds": []}, "with 'results'"),
        ({"split": "val", "results": []}, "got split 'val'"),
        ({"disclosure": "uca", "results": []}, "header disclosure: expected an object"),
        ({"disclosure": {"training_data": 3}, "results": []}, "object of strings"),
    ],
)
def test_bad_submissions_are_refused_in_one_line(entries, message):
    from var_bench.errors import InputError

    if isinstance(entries, list) and len(entries) == 1 and "missing" not in message:
        entries = entries + [{"query_id": "q1", "predictions": []}]
    with pytest.raises(InputError, match=message) as e:
        read_moments(
            entries,
            query_ids=["q0", "q1"],
            gallery_ids=GALLERY,
            query_video=None,
            benchmark="b",
            task="moments",
            group="vcmr",
        )
    assert "\n" not in str(e.value)


def test_grounding_refuses_another_video_and_jsonl_files_read(tmp_path):
    import json

    from var_bench.errors import InputError

    gold, _, _, entries = make_case(5, n=3, grounding=True)
    task = Grounding("grounding")
    path = tmp_path / "g.jsonl"
    header = {
        "benchmark": "b",
        "task": "grounding",
        "name": "h",
        "disclosure": {"training_data": "x"},
    }
    path.write_text("\n".join(json.dumps(e) for e in [header, *entries]))
    with task.read(path, gold, benchmark="b") as sub:
        assert sub.path == str(path) and sub.valid.sum() == sum(
            len(e["predictions"]) for e in entries
        )
        assert sub.provenance == {"name": "h", "disclosure": {"training_data": "x"}}
    other = gold.positive_lists()[0][0] + 1
    entries[0]["predictions"] = [[GALLERY[other % len(GALLERY)], 0.0, 1.0, 1.0]]
    with pytest.raises(InputError, match="query's own video"):
        task.read(entries, gold, benchmark="b")
