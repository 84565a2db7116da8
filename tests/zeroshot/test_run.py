"""``var-bench zeroshot`` end to end with a numpy encoder (no torch model): the submission, its
manifest in the record, the cache on reruns, a2v on XDViolence-AR, the CLIP-feature path, the
leaderboard track, ``compare``'s sampling note and the command's one-line refusals."""

from __future__ import annotations

import json
import os
from dataclasses import replace

import numpy as np
import pytest
from support.cli import one_line_exit
from support.zeroshot import FakeEncoder

from var_bench.errors import InputError, NotBuiltError
from var_bench.scoring.score import compare, score
from var_bench.zeroshot import ENCODERS
from var_bench.zeroshot.run import RAW_VIDEO_TRACK, zeroshot, zeroshot_features

pytest.importorskip("av", reason="PyAV (the extract extra) is not installed")
from support.videos import write_video  # noqa: E402


@pytest.fixture
def ucf(built_home, tmp_path):
    """The UCF fixture's val videos (30 fps, 2-3 s) -> (videos folder, ids). The val split: the
    test split's size is fixed at 290 (the 290-video run is in test_openclip.py)."""
    ids = built_home["ucfcrime-ar"].expected["val"]
    root = tmp_path / "videos"
    for i, vid in enumerate(ids):
        write_video(root / "sub" / f"{vid}.mp4", 60 + 15 * i, seed=i)
    return root, ids


@pytest.fixture
def fake_model():
    ENCODERS.register("fake-zs", lambda weights=None, device="cpu", **kw: FakeEncoder(**kw))
    yield "fake-zs"
    ENCODERS.unregister("fake-zs")


def test_run_writes_a_scored_submission_with_its_manifest(ucf, tmp_path):
    root, ids = ucf
    enc = FakeEncoder()
    res = zeroshot(
        "fake", "ucfcrime-ar", root, tmp_path / "s.npz", encoder=enc, cache=False, split="val"
    )
    with np.load(res.out) as z:
        assert z["t2v"].shape == (len(ids), len(ids))
        np.testing.assert_allclose(z["v2t"], z["t2v"].T)
        assert list(z["video_ids"]) == ids
    rec = res.record
    from var_bench.zeroshot.sampling import decoder_name

    # the pipeline decodes, so the manifest names its decoder
    assert rec.provenance["sampling"] == {**enc.sampling.to_json(), "decoder": decoder_name()}
    assert rec.provenance["feature_set"] == RAW_VIDEO_TRACK
    assert rec.disclosure["training_data"] == "none (zero-shot)"
    assert set(rec.metrics) == {"t2v", "v2t"}
    # the file scores the same again, manifest and all
    again = score(res.out, "ucfcrime-ar", split="val")
    assert again.summary == rec.summary and again.provenance["sampling"]["fps"] == 2.0
    assert (res.encoded, res.cached) == (len(ids), 0)


def test_rerun_encodes_nothing_and_a_changed_key_only_what_it_affects(ucf, tmp_path):
    root, ids = ucf
    cache = tmp_path / "cache"
    enc = FakeEncoder()
    first = zeroshot(
        "fake", "ucfcrime-ar", root, tmp_path / "a.npz", encoder=enc, cache=cache, split="val"
    )
    frames_first = enc.calls
    second = zeroshot(
        "fake", "ucfcrime-ar", root, tmp_path / "b.npz", encoder=enc, cache=cache, split="val"
    )
    assert (second.encoded, second.cached, enc.calls) == (0, len(ids), frames_first)
    assert second.record.summary == first.record.summary
    # one video touched: one re-encoded
    path = next(root.rglob(f"{ids[0]}.mp4"))
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
    third = zeroshot(
        "fake", "ucfcrime-ar", root, tmp_path / "c.npz", encoder=enc, cache=cache, split="val"
    )
    assert (third.encoded, third.cached) == (1, len(ids) - 1)
    # the manifest changed (fps): everything again
    other = FakeEncoder(fps=1.0)
    fourth = zeroshot(
        "fake", "ucfcrime-ar", root, tmp_path / "d.npz", encoder=other, cache=cache, split="val"
    )
    assert (fourth.encoded, fourth.cached) == (len(ids), 0)
    note = compare(first.record, fourth.record, replicates=50).notes
    assert note == ["sampling differs: fps 2.0 (A) vs 1.0 (B)"]
    assert compare(first.record, second.record, replicates=50).notes == []


def test_a_faulty_layout_stops_the_run_before_encoding(ucf, tmp_path):
    root, _ = ucf
    enc = FakeEncoder("bgr")
    with pytest.raises(InputError, match="BGR"):
        zeroshot(
            "fake", "ucfcrime-ar", root, tmp_path / "s.npz", encoder=enc, cache=False, split="val"
        )
    assert enc.calls == 0 and not (tmp_path / "s.npz").exists()


def test_audio_to_video_on_xdviolence(built_home, tmp_path):
    ids = built_home["xdviolence-ar"].expected["val"]
    root = tmp_path / "xd"
    for i, vid in enumerate(ids):
        write_video(root / f"{vid}.mp4", 40, seed=i, audio_hz=440.0)
    res = zeroshot(
        "fake", "xdviolence-ar", root, tmp_path / "x.npz", encoder=FakeEncoder(), split="val"
    )
    assert set(res.record.metrics) == {"a2v", "v2a"}
    assert res.record.provenance["sampling"]["audio_rate"] == 16000
    assert res.encoded == 2 * len(ids)  # frames and audio of every video


def _vadclip_tree(root, ids, classes, dim=512, crops=10):
    rng = np.random.default_rng(0)
    for vid, cls in zip(ids, classes):
        for k in range(crops):
            (root / cls).mkdir(parents=True, exist_ok=True)
            np.save(root / cls / f"{vid}__{k}.npy", rng.standard_normal((5, dim)).astype("f4"))


def test_text_tower_against_a_clip_feature_tree_and_the_built_store(built_home, tmp_path):
    from var_bench.data.prepare import load_table
    from var_bench.features import build_features

    tree = tmp_path / "vadclip"
    for split in ("train", "val", "test"):  # a store is built for every split
        table = load_table("ucfcrime-ar", split)
        _vadclip_tree(tree, list(table["video_id"]), list(table["class"]))
    enc = FakeEncoder(dim=512)
    res = zeroshot_features(
        "fake", "ucfcrime-ar", tmp_path / "f.npz", features=tree, encoder=enc, split="val"
    )
    assert res.record.provenance["feature_set"] == "zero-shot, CLIP frame features"
    assert "vadclip-ucf" in res.record.provenance["sampling"]["decoder"]
    with pytest.raises(NotBuiltError, match="run 'var-bench build ucfcrime-ar"):
        zeroshot_features("fake", "ucfcrime-ar", tmp_path / "g.npz", encoder=enc, split="val")
    build_features("ucfcrime-ar", tree, progress=False)
    built = zeroshot_features("fake", "ucfcrime-ar", tmp_path / "g.npz", encoder=enc, split="val")
    assert built.record.summary == res.record.summary  # same features, same crops mean
    with pytest.raises(InputError, match="expected 16-d CLIP features"):
        zeroshot_features(
            "fake", "ucfcrime-ar", tmp_path / "h.npz", encoder=FakeEncoder(), split="val"
        )


def test_leaderboard_shows_a_zero_shot_track():
    from var_bench.leaderboard.board import build_leaderboard

    rng = np.random.default_rng(0)
    base = score(rng.standard_normal((290, 290)) + 2 * np.eye(290), "ucfcrime-ar")
    prov = {"feature_set": RAW_VIDEO_TRACK, "sampling": FakeEncoder().sampling.to_json()}
    zs = replace(base, provenance=prov, name="fake zero-shot", submission_sha256="a" * 64)
    i3d = replace(
        base, provenance={"feature_set": "real features (rgb, flow)"}, name="m",
        submission_sha256="b" * 64,
    )  # fmt: skip
    board = build_leaderboard("ucfcrime-ar", records=[("zs.json", zs), ("m.json", i3d)])
    assert RAW_VIDEO_TRACK in board.tracks and "I3D RGB+Flow" in board.tracks
    only = build_leaderboard("ucfcrime-ar", records=[("zs.json", zs)], track=RAW_VIDEO_TRACK)
    assert [e.method for e in only.entries if not e.is_published] == ["fake zero-shot"]


def test_cli_runs_and_refuses_in_one_line(ucf, tmp_path, capsys, fake_model):
    from var_bench.cli import main

    root, ids = ucf
    out = tmp_path / "s.npz"
    with pytest.raises(SystemExit) as e:
        main(["zeroshot", fake_model, "--benchmark", "ucfcrime-ar", "--videos", str(root),
              "--out", str(out), "--fps", "1", "--split", "val",
              "--cache", str(tmp_path / "c"), "--json", str(tmp_path / "r.json")])  # fmt: skip
    text = capsys.readouterr().out
    assert e.value.code == 0 and "sampling: fake/numpy" in text and f"{len(ids)} encoded" in text
    assert score(out, "ucfcrime-ar", split="val").provenance["sampling"]["fps"] == 1.0
    saved = json.loads((tmp_path / "r.json").read_text())
    assert saved["provenance"]["sampling"]["fps"] == 1.0 and saved["name"] == "fake-zs zero-shot"
    bad = [
        (["--out", str(out)], "exactly one of --videos DIR or --features"),
        (["--videos", str(root), "--features", "--out", str(out)], "got both"),
        (["--videos", str(root), "--out", str(tmp_path / "s.txt")], "ending in .npz"),
        (["--features", "--fps", "2", "--out", str(out)], "expected no frame options"),
        (["--features", "--ray", "--out", str(out)], "--ray: expected --videos"),
        (["--videos", str(root), "--out", str(out), "--fpss", "2"], "No such option"),
        (["--videos", str(tmp_path / "none"), "--out", str(out)], "is not a folder"),
        (["--videos", str(tmp_path), "--out", str(out)], f"{len(ids)} missing under"),
    ]
    for args, words in bad:
        code, line = one_line_exit(
            capsys, "zeroshot", fake_model, "--benchmark", "ucfcrime-ar", *args
        )
        assert code == 2 and words in line, (args, line)
    code, line = one_line_exit(
        capsys, "zeroshot", "no-such-model", "--benchmark", "ucfcrime-ar", "--videos", str(root),
        "--out", str(out), "--split", "val",
    )  # fmt: skip
    assert code == 2 and "unknown zero-shot model" in line and "clip-vit-b16" in line


def test_a_worker_builds_its_own_encoder_from_the_registry(ucf, fake_model):
    """What a Ray encoding worker runs, in this process: the registered model rebuilt from its
    name and recipe, then decode -> encode records equal to the pipeline's own steps."""
    from functools import partial

    from var_bench.zeroshot.run import (
        _step,
        decode_entry,
        encode_entry,
        encode_video,
        worker_factory,
    )

    root, ids = ucf
    path = next(root.rglob(f"{ids[0]}.mp4"))
    factory = worker_factory(fake_model, None, "cpu", {"fps": 1.0, "max_frames": 3})
    assert factory().sampling.fps == 1.0 and factory().sampling.max_frames == 3
    item = decode_entry(path, 1.0, 3)
    got = _step(factory, encode_entry)(item)
    np.testing.assert_array_equal(got["emb"], encode_video(factory(), item["frames"]))
    assert got["edges"].tolist() == [*item["times"].tolist(), item["times"][-1] + 1.0]
    assert partial(_step, factory, encode_entry)()(item)["emb"].shape == (len(item["times"]), 16)


def test_ray_without_the_extra_says_what_to_install(ucf, tmp_path, capsys, fake_model):
    try:
        import ray  # noqa: F401

        pytest.skip("Ray is installed here (the Ray run is tests/zeroshot/test_run_ray.py)")
    except ImportError:
        pass
    root, _ = ucf
    code, line = one_line_exit(
        capsys, "zeroshot", fake_model, "--benchmark", "ucfcrime-ar", "--videos", str(root),
        "--out", str(tmp_path / "s.npz"), "--split", "val", "--ray", "--no-cache",
    )  # fmt: skip
    assert code == 3 and "ray" in line and not (tmp_path / "s.npz").exists(), line
