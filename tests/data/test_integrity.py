import json

import pytest

from var_bench.benchmarks.kit import Clip
from var_bench.benchmarks.xdviolence_ar.lists import read_xd_list
from var_bench.benchmarks.xdviolence_ar.sources import xd_clip
from var_bench.data.integrity import (
    INTEGRITY_FILE,
    IntegrityFacts,
    caption_duplicates,
    near_pairs,
    seen_mask,
    source_report,
)
from var_bench.data.paths import built_dir
from var_bench.data.prepare import load_integrity
from var_bench.errors import DataError


def _c(vid, source, start=None, end=None, kind="film"):
    return Clip(vid, source, kind, start, end)


def test_source_report_by_hand():
    clips = {
        "train": [_c("t1", "A", 0, 60), _c("t2", "B"), _c("t3", "C", 100, 200)],
        "val": [_c("v1", "D", kind="youtube")],
        "test": [
            _c("q1", "A", 60, 90),  # seen, touches t1's end: no time overlap
            _c("q2", "C", 150, 160),  # seen, inside t3
            _c("q3", "D", kind="youtube"),  # seen through val
            _c("q4", "E", kind="youtube"),
            _c("q5", "E", kind="youtube"),
            _c("q6", "F"),
        ],
    }
    r = source_report(clips)
    assert r.seen == (True, True, True, False, False, False)
    assert [(a.video_id, b.video_id) for a, b in r.time_overlaps] == [("q2", "t3")]
    assert r.groups == {"E": ("q4", "q5")}
    assert r.kinds == {"film": (3, 2), "youtube": (3, 1)}
    assert (r.training_sources, r.split_sources, r.shared_sources) == (4, 5, 3)
    d = r.to_dict()
    assert (d["seen"], d["unseen"], d["videos_in_same_source_groups"]) == (3, 3, 2)


def test_533_of_800_xd_test_videos_have_a_seen_source(shared_data):
    folder = shared_data / "Roc-Ng-XDVioDet"
    clips = {
        "train": [xd_clip(v) for v in read_xd_list(folder / "audio.list")],
        "test": [xd_clip(v) for v in read_xd_list(folder / "audio_test.list")],
    }
    r = source_report(clips)
    assert (r.seen_count, len(r.seen)) == (533, 800)
    assert r.kinds == {"film": (377, 377), "youtube": (423, 156)}
    assert (r.training_sources, r.split_sources, r.shared_sources) == (1630, 447, 184)
    assert (len(r.groups), sum(len(g) for g in r.groups.values())) == (123, 476)
    assert sorted(a.source for a, _ in r.time_overlaps) == ["City.of.God.2002", "Taken.3.2014"]


def test_caption_duplicates_by_hand():
    r = caption_duplicates(
        {
            "train": [("a", "A man runs."), ("b", "A man runs."), ("c", "a man, runs")],
            "val": [("d", "two cars crash on a wet road at night")],
            "test": [("e", "Two cars crash on a wet road at night!"), ("f", "A dog")],
        },
        threshold=0.8,
    )
    assert r["rows"] == {"train": 3, "val": 1, "test": 2}
    assert r["unique"] == {"train": 2, "val": 1, "test": 2}
    assert r["exact"] == [[["train", "a"], ["train", "b"]]]
    assert sorted(map(len, r["normalised"])) == [2, 3]
    assert r["near"] == []
    near = caption_duplicates(
        {"train": [("a", "one two three four five")], "test": [("b", "one two three four six")]},
        threshold=0.6,
    )["near"]
    assert near == [[["train", "a"], ["test", "b"], round(4 / 6, 4)]]


def test_near_pairs_equal_the_brute_force_join():
    """Prefix filtering finds exactly the pairs an all-pairs Jaccard finds, in its order, on small
    vocabularies (many ties and near misses), thresholds at exact fractions and empty sets."""
    import itertools
    import random

    rng = random.Random(0)
    for trial in range(60):
        vocab = [f"w{k}" for k in range(rng.randint(2, 12))]
        sets = [set(rng.sample(vocab, rng.randint(0, len(vocab)))) for _ in range(40)]
        t = rng.choice([0.5, 0.6, 2 / 3, 0.75, 0.8, 0.9, 1.0, rng.uniform(0.05, 1)])
        want = []
        for i, j in itertools.combinations(range(len(sets)), 2):
            a, b = sets[i], sets[j]
            if a | b:
                jac = len(a & b) / len(a | b)
                if jac >= t - 1e-9:
                    want.append((i, j, jac))
        want.sort(key=lambda p: (-p[2], p[0], p[1]))
        assert near_pairs(sets, t) == want, (trial, t)
    with pytest.raises(ValueError, match="0 < t <= 1"):
        near_pairs([{"a"}], 0.0)


def test_build_stores_the_integrity_facts(built_home):
    from var_bench.benchmarks import XDVIOLENCE_AR

    facts = load_integrity("xdviolence-ar", download_missing=False)
    test_ids = built_home["xdviolence-ar"].expected["test"]
    assert [c.video_id for c in facts.clips["test"]] == test_ids
    assert facts.captions is None and "SOURCE" in facts.source_rule
    mask = seen_mask(facts)
    training = {c.source for s in ("train", "val") for c in facts.clips[s]}
    assert mask.tolist() == [c.source in training for c in facts.clips["test"]]
    assert mask.any()  # the fixture's test split holds a Bad.Boys.1995 clip, as its train does
    ucf = load_integrity("ucfcrime-ar", download_missing=False)
    assert ucf.clips is None and seen_mask(ucf) is None
    assert ucf.captions["column"] == "caption_en"
    path = built_dir(XDVIOLENCE_AR) / INTEGRITY_FILE
    raw = json.loads(path.read_text())
    raw["schema"] = 99
    with pytest.raises(DataError, match="integrity schema"):
        IntegrityFacts.from_dict(raw)


def test_real_ucf_test_captions_have_288_distinct_of_290(shared_data, tmp_path):
    facts = load_integrity("ucfcrime-ar", home=tmp_path, mirror=str(shared_data))
    assert facts.captions["unique"]["test"] == 288
    assert facts.captions["rows"]["test"] == 290
