import json

import numpy as np
import pytest
from support.manifests import feature_manifest

from var_bench.cli import main
from var_bench.features.store import ShardWriter, store_features, store_schema
from var_bench.integrity import audit, near_duplicate_videos, render_audit
from var_bench.integrity.neardup import near_pairs, pooled


def _store(folder, vectors):
    """A feature store with one ``rgb`` row per video: ``vectors[split] = {id: [T, D] array}``."""
    schema = store_schema(store_features({"rgb": 3}, "float32", None))
    shards = {}
    for split, rows in vectors.items():
        w = ShardWriter(folder, split, schema)
        w.write(
            [
                {
                    "video_id": vid,
                    "rgb": np.asarray(x, np.float32),
                    "num_snippets": len(x),
                    "rgb_len": len(x),
                    "video_label": 0,
                    "snippet_labels": None,
                }
                for vid, x in rows.items()
            ]
        )
        shards[split] = w.close()
    feature_manifest(
        shards=shards,
        streams=["rgb"],
        dims={"rgb": 3},
        counts={s: len(r) for s, r in vectors.items()},
    ).write(folder)
    return folder


def test_pooled_and_pairs_by_hand():
    v = pooled([np.array([[2.0, 0.0], [0.0, 0.0]]), np.array([[1.0, 1.0]])])
    np.testing.assert_allclose(v, [[1.0, 0.0], [2**-0.5, 2**-0.5]])
    test = (["q1", "q2"], v)
    training = {"train": (["a"], np.array([[1.0, 0.0]])), "val": (["b"], v[1:])}
    assert near_pairs(test, training, 0.99) == (
        2,
        2,
        [("q1", "train", "a", 1.0), ("q2", "val", "b", pytest.approx(1.0))],
    )
    assert near_pairs(test, training, 0.99, top=1)[:2] == (2, 2)
    # cos(q2, a) = cos(q1, b) = 0.707: pairs only under a lower threshold
    assert near_pairs(test, training, 0.7)[1] == 4


def test_near_duplicate_videos_in_a_store(tmp_path):
    store = _store(
        tmp_path / "store",
        {
            "train": {"t1": [[1, 0, 0], [1, 0, 0]], "t2": [[0, 1, 0]]},
            "val": {"v1": [[0, 0, 1]]},
            "test": {"q1": [[2, 0, 0.01]], "q2": [[0, 1, 1]]},
        },
    )
    r = near_duplicate_videos(store, threshold=0.99)
    assert (r.stream, r.videos, r.videos_with_pair, r.count) == ("rgb", 2, 1, 1)
    assert r.pairs[0][:3] == ("q1", "train", "t1")
    assert r.to_dict()["top_pairs"][0]["training_video"] == "t1"
    with pytest.raises(Exception, match="expected one of rgb"):
        near_duplicate_videos(store, stream="flow")


def test_audit_of_the_synthetic_build(built_home, tmp_path):
    store = _store(
        tmp_path / "store",
        {"train": {"t": [[1, 0, 0]]}, "test": {"q": [[1, 0, 0]]}},
    )
    r = audit("xdviolence-ar", features=store)
    assert r.sources is not None and r.captions is None
    assert r.videos.count == 1
    text = render_audit(r)
    assert "Test videos whose source has training clips" in text
    assert "Near-duplicate videos (rgb" in text
    ucf = render_audit(audit("ucfcrime-ar"))
    assert "carry no source" in ucf and "distinct of" in ucf


def test_audit_cli_on_the_real_lists(shared_data, tmp_path, capsys):
    home = ["--home", str(tmp_path), "--mirror", str(shared_data)]
    with pytest.raises(SystemExit) as e:
        main(["audit", "xdviolence-ar", "--json", *home])
    assert e.value.code == 0
    out = json.loads(capsys.readouterr().out)
    assert (out["sources"]["seen"], out["sources"]["videos"], out["sources"]["unseen"]) == (
        533,
        800,
        267,
    )
    assert len(out["sources"]["time_overlaps"]) == 2
    with pytest.raises(SystemExit) as e:
        main(["audit", "xdviolence-ar", *home])
    assert "533/800 (66.6%)" in capsys.readouterr().out


def test_audit_cli_refuses_a_folder_without_a_store(built_home, tmp_path, capsys):
    with pytest.raises(SystemExit) as e:
        main(["audit", "ucfcrime-ar", "--features", str(tmp_path)])
    assert e.value.code == 2
    assert "expected a feature store" in capsys.readouterr().err
