"""var_bench.search.Index on a synthetic UCFCrime-AR store with a small trained model:
search agrees with evaluate, segments land in the annotated anomalies, appends equal one build."""

from __future__ import annotations

import json

import numpy as np
import pytest
from training.tiny import TinyModel

from var_bench.errors import InputError
from var_bench.models.registry import register_model
from var_bench.search import Index
from var_bench.search.segments import overlaps, to_frames

pytestmark = pytest.mark.shared_data


@register_model("tiny-vec")
class TinyVectors(TinyModel):
    """The trainer's tiny test model, declaring its cosine similarity as an inner product."""

    def search_vectors(self, outputs, side):
        return outputs["q" if side == "query" else "v"]


@pytest.fixture(scope="module")
def trained(shared_data, tmp_path_factory):
    """A data home with UCFCrime-AR and a synthetic feature store whose signal sits in the
    annotated segments, and a tiny model trained on it; plus the evaluate matrix on test."""
    from var_bench.data.prepare import download
    from var_bench.features import build_features
    from var_bench.synth import synthesize
    from var_bench.training.evaluate import evaluate
    from var_bench.training.trainer import train

    root = tmp_path_factory.mktemp("search")
    home = root / "home"
    download(["ucfcrime-ar"], home=home, mirror=str(shared_data), progress=False)
    made = synthesize(
        root / "tree",
        "ucfcrime-ar",
        home=home,
        progress=False,
        crops=1,
        snippets=16,
        snippet_frames=64,
    )
    build_features("ucfcrime-ar", made.paths["features"], home=home, progress=False)
    result = train(
        "tiny-vec",
        "ucfcrime-ar",
        out=root / "run",
        home=home,
        device="cpu",
        overrides=(
            "train.epochs=3",
            "train.batch_size=64",
            "train.lr=0.003",
            "model_args.dim=64",
            "model_args.text=frozen",
        ),
        progress=False,
    )
    record = evaluate(
        result.best_checkpoint, "ucfcrime-ar", out=root / "sub.npz", home=home, device="cpu"
    )
    S = np.load(root / "sub.npz")["t2v"]
    return {"home": home, "ckpt": result.best_checkpoint, "S": S, "record": record, "root": root}


@pytest.fixture(scope="module")
def index(trained):
    return Index.build(
        trained["ckpt"],
        "ucfcrime-ar",
        trained["root"] / "index",
        home=trained["home"],
        device="cpu",
        progress=False,
    )


def _expected_rank(row: np.ndarray, j: int) -> float:
    b = int((row > row[j]).sum())
    e = int((row == row[j]).sum()) - 1
    return b + 1 + e / 2


def test_search_rank_equals_the_evaluate_rank_for_every_test_caption(trained, index):
    from var_bench import ids, load_table

    test_ids = ids("ucfcrime-ar", "test", home=trained["home"])
    captions = load_table("ucfcrime-ar", "test", home=trained["home"])["caption_en"].tolist()
    assert index.info.videos == test_ids and len(captions) == 290
    S_search = index.similarities(captions)
    S_eval = trained["S"]
    for i in range(290):
        assert _expected_rank(S_search[i], i) == _expected_rank(S_eval[i], i), i
    hits = index.search_many(captions, top=290)
    for i, h in enumerate(hits):
        rank = next(x.rank for x in h if x.video_id == test_ids[i])
        b = int((S_eval[i] > S_eval[i, i]).sum())
        e = int((S_eval[i] == S_eval[i, i]).sum()) - 1
        assert b + 1 <= rank <= b + 1 + e  # the search order breaks ties by gallery position


def test_scores_recorded_match_the_evaluate_record(trained, index):
    assert index.info.scores["main_score"] == "SumR"
    assert index.info.scores["score"] == pytest.approx(trained["record"].main_value, abs=0.01)
    assert "SumR" in index.summary()


def test_segments_hit_the_annotated_anomalies(trained, index):
    """The synthetic signal sits in the annotated segments: the best window of the true video
    must overlap them far more often than a window placed at random would."""
    from var_bench import load_table

    table = load_table("ucfcrime-ar", "test", home=trained["home"])
    anomalous = table[table["segments"].map(len) > 0]
    results = index.search_many(anomalous["caption_en"].tolist(), top=290)
    hits = chance = 0.0
    F = index.info.snippet_frames
    for (_, row), found in zip(anomalous.iterrows(), results):
        own = next(h for h in found if h.video_id == row["video_id"])
        T = index.info.lengths[index.info.videos.index(row["video_id"])]
        hits += overlaps(to_frames(tuple(own.segment_snippets), snippet_frames=F), row["segments"])
        covered = sum(min(e, T * F) - s for s, e in row["segments"]) / (T * F)
        chance += min(1.0, covered + (own.segment_snippets[1] - own.segment_snippets[0]) / T)
        assert 0 <= own.segment_s[0] < own.segment_s[1] <= T * F / index.info.fps + 1e-3
    rate, chance = hits / len(anomalous), chance / len(anomalous)
    print(
        f"segment hit rate {rate:.2f} over {len(anomalous)} anomalous test videos "
        f"(a window at random: about {chance:.2f})"
    )
    assert rate >= chance + 0.3


def test_append_equals_one_build(trained, index, tmp_path, capsys, caplog):
    from var_bench.search import store_gallery

    gallery = store_gallery("ucfcrime-ar", "test", home=trained["home"])
    two = Index.create(trained["ckpt"], "ucfcrime-ar", tmp_path / "two", device="cpu")
    assert two.add(gallery.subset(range(100)), progress=False) == 100
    two = Index.load(tmp_path / "two", device="cpu")  # reopened, then appended to
    with caplog.at_level("INFO", logger="var_bench.progress"):
        assert two.add(gallery) == 190  # the rest only; stderr is no terminal here: plain lines
    assert "\r" not in capsys.readouterr().err  # no tqdm bar on a pipe
    lines = [r.getMessage() for r in caplog.records if r.name == "var_bench.progress"]
    assert lines[-1].startswith("index: 190/190 videos (100%)")
    assert two.info.videos == index.info.videos and len(two.info.chunks) == 2
    q = ["a man breaks a shop window at night", "two cars crash at a crossing"]
    np.testing.assert_array_equal(two.similarities(q), index.similarities(q))
    assert [h.to_json() for h in two.search(q[0], top=5)] == [
        h.to_json() for h in index.search(q[0], top=5)
    ]


def test_approximate_search_and_recall(index):
    from var_bench.search.check import approximate_recall

    pytest.importorskip("usearch")
    exact = index.search("a man steals from a shop", top=10)
    approx = index.search("a man steals from a shop", top=10, exact=False)
    assert len({h.video_id for h in exact} & {h.video_id for h in approx}) >= 8
    check = approximate_recall(index)
    assert check.queries == 290 and check.recall >= 0.9


def test_other_features_are_refused(trained, index):
    from var_bench.search import Gallery, store_gallery

    gallery = store_gallery("ucfcrime-ar", "test", home=trained["home"])
    real = Gallery(gallery.items, {**gallery.identity, "synthetic": False, "source": "real I3D"})
    with pytest.raises(InputError, match="expected features like the indexed ones"):
        index.add(real, progress=False)
    wrong = Gallery([{**gallery.items[0], "rgb": np.zeros((5, 7), np.float32)}], gallery.identity)
    with pytest.raises(InputError, match="the model's feature identity"):
        index.add(wrong, progress=False)


def _copy_videos(tree, stems, dest, marker: bool):
    """The files of ``stems`` copied from the synthetic ``tree`` into ``dest`` (same layout),
    with or without the synth marker."""
    import shutil

    from var_bench.features.layouts import SYNTH_MARKER

    for stem in stems:
        for path in tree.rglob(f"{stem}__*.npy"):
            target = dest / path.relative_to(tree)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target)
    if marker:
        shutil.copyfile(tree / SYNTH_MARKER, dest / SYNTH_MARKER)
    return dest


def test_a_feature_folder_of_the_other_kind_is_refused(trained, index, tmp_path):
    """The index holds synthetic features: a folder of them (the synth marker copied along) is
    accepted, the same files without the marker count as real ones and are refused."""
    from var_bench.benchmarks import UCFCRIME_AR
    from var_bench.search import FolderGallery, Gallery

    stems = index.info.videos[:3]  # indexed already: accepted means nothing to add
    synthetic = FolderGallery(
        UCFCRIME_AR,
        _copy_videos(trained["root"] / "tree", stems, tmp_path / "synthetic", marker=True),
    )
    assert synthetic.identity["synthetic"] is True
    assert index.add(Gallery(synthetic, synthetic.identity), progress=False) == 0
    real = FolderGallery(
        UCFCRIME_AR, _copy_videos(trained["root"] / "tree", stems, tmp_path / "real", marker=False)
    )
    assert real.identity["synthetic"] is False
    with pytest.raises(InputError, match="expected features like the indexed ones"):
        index.add(Gallery(real, real.identity), progress=False)


def test_index_of_another_model_is_refused(trained, index, tmp_path):
    import shutil

    other = tmp_path / "other"
    shutil.copytree(trained["ckpt"], other)
    from safetensors.torch import load_file, save_file

    w = load_file(other / "model.safetensors")
    w = {k: v + 1.0 for k, v in w.items()}
    save_file(w, other / "model.safetensors")
    with pytest.raises(InputError, match="expected the model the index was built with"):
        Index.load(index.folder, checkpoint=other, device="cpu")


def test_cli_search_json_and_html(trained, index, tmp_path, capsys):
    from var_bench.cli import main

    page = tmp_path / "r.html"
    with pytest.raises(SystemExit) as e:
        main(
            [
                "search",
                str(index.folder),
                "a fire in a building",
                "--top",
                "3",
                "--json",
                "--html",
                str(page),
            ]
        )
    out, err = capsys.readouterr()
    assert e.value.code == 0, out
    hits = json.loads(out)  # stdout is the JSON alone; what was written is said on stderr
    assert f"wrote {page}" in err
    assert [h["rank"] for h in hits] == [1, 2, 3]
    assert all({"rank", "video_id", "score", "segment_s"} <= set(h) for h in hits)
    text = page.read_text()
    assert "a fire in a building" in text and "timeline" in text and "<script" not in text
    with pytest.raises(SystemExit) as e:
        main(["search", str(index.folder)])
    assert e.value.code == 2 and "expected one of a text QUERY" in capsys.readouterr().out


def test_cli_index_of_a_relative_feature_folder(trained, index, tmp_path, capsys, monkeypatch):
    """IX10 / IX11: ``index --features rawx`` with a relative folder once read rawx/rawx/...
    and failed with exit 3; it indexes the folder, and search finds its videos."""
    from var_bench.cli import main

    stems = index.info.videos[:3]
    _copy_videos(trained["root"] / "tree", stems, tmp_path / "rawx", marker=True)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as e:
        main(["index", str(trained["ckpt"]), "--benchmark", "ucfcrime-ar", "--features", "rawx",
              "--out", "idx", "--device", "cpu"])  # fmt: skip
    out = capsys.readouterr().out
    assert e.value.code == 0, out
    assert "3 videos indexed" in out
    with pytest.raises(SystemExit) as e:
        main(["search", "idx", "a man is shot", "--json", "--device", "cpu"])
    out = capsys.readouterr().out
    assert e.value.code == 0, out
    assert sorted(h["video_id"] for h in json.loads(out)) == sorted(stems)


@pytest.fixture(scope="module")
def uca_index(shared_data, trained):
    """UCA's test videos indexed from the same (ucf-crime) store by the UCFCrime-AR model."""
    from var_bench.data.prepare import download

    download(["uca"], home=trained["home"], mirror=str(shared_data), progress=False)
    return Index.build(
        trained["ckpt"],
        "uca",
        trained["root"] / "uca-index",
        home=trained["home"],
        device="cpu",
        progress=False,
    )


@pytest.mark.slow
def test_uca_test_videos_indexed_by_a_ucfcrime_ar_model(trained, uca_index):
    """The gallery is UCA's 310 test videos, once each, read by video id from the collection's
    store; their features equal the UCFCrime-AR rows of the same ids; a sentence query returns
    videos with segments inside the videos."""
    from var_bench import load_table
    from var_bench.search import store_gallery

    videos = load_table("uca", "test", home=trained["home"], videos=True)
    assert sorted(uca_index.info.videos) == sorted(videos["video_id"]) and len(videos) == 310
    assert uca_index.info.benchmark == "uca" and uca_index.info.scores is None
    assert set(uca_index.info.captions) == {None}
    ar = store_gallery("ucfcrime-ar", "train+val+test", home=trained["home"])
    where = {it: i for i, it in enumerate(ar.items._ids)}
    uca = store_gallery("uca", "test", home=trained["home"])
    for k in (0, 137, 309):
        item = uca.items[k]
        np.testing.assert_array_equal(item["rgb"], ar.items[where[item["video_id"]]]["rgb"])
    hits = uca_index.search("a man breaks a window", top=5)
    assert len(hits) == 5 and len({h.video_id for h in hits}) == 5
    lengths = dict(zip(uca_index.info.videos, uca_index.info.lengths))
    sec = uca_index.info.snippet_frames / uca_index.info.fps
    for h in hits:
        assert 0 <= h.segment_s[0] < h.segment_s[1] <= lengths[h.video_id] * sec + 1e-3
    # moments agree with search: same ranking and scores, each video's best window
    found = uca_index.moments(["a man breaks a window"], top=5)[0]
    assert [p[0] for p in found] == [h.video_id for h in hits]
    assert [p[1:3] for p in found] == [h.segment_s for h in hits]
    np.testing.assert_allclose([p[3] for p in found], [h.score for h in hits], rtol=1e-6)


def test_a_checkpoint_of_another_collection_is_refused(trained, tmp_path):
    with pytest.raises(InputError, match="or on a benchmark over its videos"):
        Index.create(trained["ckpt"], "xdviolence-ar", tmp_path / "x", device="cpu")


@pytest.mark.slow
def test_cli_index_uca_and_moment_submission_scored(trained, uca_index, tmp_path, capsys):
    """``var-bench index --benchmark uca`` then ``search --moments`` writes a submission that
    ``var-bench score --benchmark uca`` reads; the UCFCrime-AR model retrieves UCA's videos
    far above chance (the synthetic signal follows the video's class)."""
    from var_bench.cli import main

    home = str(trained["home"])
    out = uca_index.folder  # built by the fixture: the CLI resumes it (nothing left to add)
    with pytest.raises(SystemExit) as e:
        main(
            ["index", str(trained["ckpt"]), "--benchmark", "uca", "--out", str(out)]
            + ["--home", home, "--device", "cpu"]
        )
    assert e.value.code == 0, capsys.readouterr().out
    assert "310 videos indexed" in capsys.readouterr().out
    preds = tmp_path / "preds.jsonl"
    with pytest.raises(SystemExit) as e:
        main(["search", str(out), "--moments", str(preds), "--top", "20", "--home", home])
    assert e.value.code == 0, capsys.readouterr().out
    assert "4331 queries x 20" in capsys.readouterr().out
    lines = preds.read_text().splitlines()
    assert json.loads(lines[0])["benchmark"] == "uca" and len(lines) == 4332
    from var_bench import score

    record = score(preds, "uca", home=trained["home"])
    video_r10 = next(m["R@10"] for m in record.metrics.values())
    print(f"UCA test, window similarity of a UCFCrime-AR tiny model: video R@10 {video_r10}")
    assert video_r10 > 2 * 100 * 10 / 310  # chance: 10 of 310 videos
    # the checkpoint's training data travels in the header: UCFCrime-AR holds UCA test videos
    assert record.disclosure["training_data"] == "ucfcrime-ar" and record.contamination
    with pytest.raises(SystemExit) as e:
        main(["search", str(uca_index.folder), "--moments", str(preds), "--top", "101"])
    assert e.value.code == 2 and "1 to 100 predictions" in capsys.readouterr().out
