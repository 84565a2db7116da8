"""``extract`` end to end on synthetic videos with random-weight models of the exact
architectures."""

import json

import datasets
import numpy as np
import pytest

from var_bench.benchmarks import SPLITS
from var_bench.data.paths import features_dir
from var_bench.errors import InputError
from var_bench.extract import extract
from var_bench.extract import pipeline as P
from var_bench.extract import recipes as R
from var_bench.features import build_features, read_split

from .conftest import UCF_SMALL, XD_SMALL

UCF, XD = "ucfcrime-ar", "xdviolence-ar"


def _files(root):
    return {p.relative_to(root).as_posix(): np.load(p) for p in sorted(root.rglob("*.npy"))}


def test_ucf_rgb_layout_lengths_build_and_card(ucf_videos, tmp_path):
    root, counts = ucf_videos
    out = tmp_path / "out"
    res = extract(UCF, root, out, "i3d-rgb", recipe=UCF_SMALL, weights="random", workers=2)
    assert sorted(res.done) == sorted(counts) and not res.skipped and not res.missing
    files = _files(out)
    summary = json.loads((out / "extraction.json").read_text())
    ident = summary["identity"]
    assert ident["random_weights"] is True and ident["model"] == "i3d-rgb"
    assert ident["recipe"]["name"] == "ucf-crime-release" and ident["crops"] == 1
    assert ident["snippet_frames"] == 16 and ident["decoder"]["name"] == "pyav"
    from var_bench.data.prepare import load_table

    cls = dict(
        zip(*(load_table(UCF, "+".join(SPLITS), download=False)[c] for c in ("video_id", "class")))
    )
    for vid, n in counts.items():
        x = files[f"{cls[vid]}/{vid}__0.npy"]  # <Class>/<Stem>__<k>.npy
        assert x.shape == (n // 16, 1024) and x.dtype == np.float32  # T = floor(N / 16)
        assert (
            summary["videos"][vid]["shape"] == [n // 16, 1024]
            and summary["videos"][vid]["frames"] == n
        )
        assert np.isfinite(x).all()

    m = build_features(UCF, out)
    assert m.synthetic is not None and "random weights" in m.synthetic["generator"]
    store = features_dir(m.benchmark and __import__("var_bench").get_benchmark(UCF))
    for split in SPLITS:
        for row in datasets.Dataset(read_split(store, split)).with_format("numpy"):
            vid = row["video_id"]
            np.testing.assert_array_equal(row["rgb"], files[f"{cls[vid]}/{vid}__0.npy"])
    card = (store / "README.md").read_text()
    assert "Synthetic features" in card and "extracted by var-bench extract" in card
    assert "model i3d-rgb" in card and "random-initialised weights" in card
    assert json.loads((store / "extraction.json").read_text())["rgb"] == ident

    # A second run does nothing (a finished video is never redone) ...
    again = extract(UCF, root, out, "i3d-rgb", recipe=UCF_SMALL, weights="random", workers=0)
    assert not again.done and sorted(again.skipped) == sorted(counts)
    # ... and another identity in the same folder is refused.
    with pytest.raises(InputError, match="identity"):
        extract(
            UCF, root, out, "i3d-rgb", recipe=UCF_SMALL.with_options(resize=24), weights="random"
        )


def test_bit_identical_runs_and_workers(ucf_videos, tmp_path):
    root, counts = ucf_videos
    some = sorted(counts)[:3]
    a = extract(
        UCF,
        root,
        tmp_path / "a",
        "i3d-rgb",
        recipe=UCF_SMALL,
        weights="random",
        workers=0,
        ids=some,
    )
    b = extract(
        UCF,
        root,
        tmp_path / "b",
        "i3d-rgb",
        recipe=UCF_SMALL,
        weights="random",
        workers=3,
        ids=some,
    )
    fa, fb = _files(a.out), _files(b.out)
    assert fa.keys() == fb.keys() and len(fa) == 3
    for k in fa:
        assert fa[k].tobytes() == fb[k].tobytes()  # same settings: the same bits
    # Another batch size may pick other convolution kernels: equal up to float rounding only.
    c = extract(
        UCF, root, tmp_path / "c", "i3d-rgb", recipe=UCF_SMALL, weights="random", batch=1, ids=some
    )
    for k, v in _files(c.out).items():
        np.testing.assert_allclose(v, fa[k], rtol=1e-4, atol=1e-5)


def test_resume_after_a_kill_leaves_no_partial_file(ucf_videos, tmp_path, monkeypatch):
    root, counts = ucf_videos
    some = sorted(counts)[:3]
    out = tmp_path / "out"
    real = P.write_video
    calls = []

    def dying(state, out, stem, files, feats, counts):
        if len(calls) == 1:  # killed in the middle of writing the second video
            with open(files[0].parent / f".{files[0].name}.x.tmp", "wb") as f:
                f.write(b"half")
            raise KeyboardInterrupt
        calls.append(stem)
        return real(state, out, stem, files, feats, counts)

    monkeypatch.setattr(P, "write_video", dying)
    with pytest.raises(KeyboardInterrupt):
        extract(UCF, root, out, "i3d-rgb", recipe=UCF_SMALL, weights="random", ids=some)
    assert (
        len(list(out.rglob("*.npy"))) == 1
        and len(list((out / ".extraction/videos").glob("*.json"))) == 1
    )
    monkeypatch.setattr(P, "write_video", real)
    res = extract(UCF, root, out, "i3d-rgb", recipe=UCF_SMALL, weights="random", ids=some)
    assert res.skipped == calls and sorted(res.done + res.skipped) == some
    assert not list(out.rglob("*.tmp"))
    fresh = extract(
        UCF, root, tmp_path / "fresh", "i3d-rgb", recipe=UCF_SMALL, weights="random", ids=some
    )
    fr, got = _files(fresh.out), _files(out)
    assert fr.keys() == got.keys() and all(np.array_equal(fr[k], got[k]) for k in fr)
    assert sorted(json.loads((out / "extraction.json").read_text())["videos"]) == some


def test_shards_share_one_folder(ucf_videos, tmp_path):
    root, counts = ucf_videos
    some = sorted(counts)[:5]
    out = tmp_path / "out"
    done = []
    for k in range(3):
        res = extract(
            UCF, root, out, "i3d-rgb", recipe=UCF_SMALL, weights="random", shard=f"{k}/3", ids=some
        )
        done.append(res.done)
    flat = [v for d in done for v in d]
    assert sorted(flat) == some and len(set(flat)) == len(flat)
    assert sorted(json.loads((out / "extraction.json").read_text())["videos"]) == some


def test_ten_crops_files(ucf_videos, tmp_path):
    root, counts = ucf_videos
    vid = sorted(counts)[0]
    res = extract(
        UCF,
        root,
        tmp_path / "o",
        "i3d-rgb",
        recipe=UCF_SMALL.with_options(crops=10),
        weights="random",
        ids=[vid],
        batch=7,
    )
    files = _files(res.out)
    assert len(files) == 10 and {k.rsplit("__", 1)[1] for k in files} == {
        f"{i}.npy" for i in range(10)
    }
    arrays = list(files.values())
    assert all(a.shape == (counts[vid] // 16, 1024) for a in arrays)
    assert not np.array_equal(arrays[0], arrays[5])  # crop 5 is the mirrored centre, not the centre


def test_xd_flow_and_audio_length_rules_and_build(xd_videos, tmp_path):
    root, counts = xd_videos
    some = sorted(counts)[:4]
    counts = {v: counts[v] for v in some}
    out = tmp_path / "xd"
    extract(XD, root, out, "i3d-rgb", recipe=XD_SMALL, weights="random", ids=some)
    flow = extract(
        XD, root, out, "i3d-flow", recipe=XD_SMALL, weights="random", flow="tvl1", ids=some
    )
    audio = extract(XD, root, out, "vggish", recipe=XD_SMALL, weights="random", batch=4, ids=some)
    assert flow.identity["flow"]["method"] == "tvl1" and flow.out == out / "Flow"
    assert audio.identity["feature"].startswith("VGGish embedding after PCA")
    srgb = json.loads((out / "extraction.json").read_text())["videos"]
    sflow = json.loads((out / "Flow" / "extraction.json").read_text())["videos"]
    saud = json.loads((out / "VGGish" / "extraction.json").read_text())["videos"]
    for vid, n30 in counts.items():
        n24 = len(range(0, n30 * 24 // 30 + (1 if (n30 * 24) % 30 else 0)))  # ceil(N * 24 / 30)
        assert srgb[vid]["frames"] == n24 and srgb[vid]["shape"][0] == R.rgb_snippets(n24)
        assert sflow[vid]["shape"][0] == R.flow_snippets(n24)
        T, Ta = srgb[vid]["shape"][0], saud[vid]["shape"][0]
        assert Ta == R.audio_snippets(saud[vid]["samples"], 24.0) and Ta in (T, T - 1)
        assert saud[vid]["shape"][1] == 128
        a = np.load(out / "VGGish" / f"{vid}__vggish.npy")
        assert ((a >= 0) & (a <= 255) & (a == np.round(a))).all()  # 8-bit quantised PCA output
        fl = np.load(out / "Flow" / f"{vid}__0.npy")
        assert fl.shape == (sflow[vid]["shape"][0], 1024)
    m = build_features(XD, out, allow_missing=True)
    assert set(m.streams) == {"rgb", "flow", "audio"} and m.synthetic is not None
    store = features_dir(__import__("var_bench").get_benchmark(XD))
    rows = [r for s in SPLITS for r in read_split(store, s).to_pylist()]
    assert sorted(r["video_id"] for r in rows) == some
    for row in rows:
        vid, T = row["video_id"], row["num_snippets"]
        for stream, path in (
            ("audio", f"VGGish/{vid}__vggish.npy"),
            ("flow", f"Flow/{vid}__0.npy"),
            ("rgb", f"{vid}__0.npy"),
        ):
            np.testing.assert_array_equal(
                np.asarray(row[stream], np.float32), np.load(out / path)[:T]
            )


def test_missing_videos_one_line(ucf_videos, tmp_path):
    root, counts = ucf_videos
    victim = next(root.rglob("*.mp4"))
    victim.unlink()
    with pytest.raises(InputError, match=r"1 missing .*--allow-missing") as info:
        extract(UCF, root, tmp_path / "o", "i3d-rgb", recipe=UCF_SMALL, weights="random")
    assert "\n" not in str(info.value) and victim.stem in str(info.value)
    assert not (tmp_path / "o").exists()
    res = extract(
        UCF,
        root,
        tmp_path / "o",
        "i3d-rgb",
        recipe=UCF_SMALL,
        weights="random",
        allow_missing=True,
        ids=[victim.stem, sorted(counts)[1]],
    )
    assert res.missing == [victim.stem] and len(res.done) == 1
