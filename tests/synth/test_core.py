import json
import os

import numpy as np
import pytest

from var_bench.errors import InputError, NotBuiltError
from var_bench.synth import SYNTH_MARKER, synthesize
from var_bench.synth.signal import anomaly_direction, snippet_labels

os.environ.setdefault("HF_HUB_OFFLINE", "1")
SMALL = dict(crops=2, snippets=8, snippet_frames=16)


def _npys(root):
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*.npy"))


def test_ucf_crops_layout(built_home, tmp_path):
    fx = built_home["ucfcrime-ar"]
    s = synthesize(tmp_path / "t", "ucfcrime-ar", **SMALL)
    root = s.out_dir
    files = _npys(root)
    assert "Train/RGB/Abuse/Abuse001_x264__1.npy" in files
    assert "Test/RGB/Testing_Normal_Videos_Anomaly/Normal_Videos_003_x264__0.npy" in files
    assert "Train/RGB/Training_Normal_Videos_Anomaly/Normal_Videos001_x264__0.npy" in files
    n_videos = len(fx.expected["train"] + fx.expected["val"] + fx.expected["test"])
    assert len(files) == s.files == 2 * n_videos and not any("Flow" in f for f in files)
    a = np.load(root / "Test/RGB/Abuse/Abuse028_x264__0.npy")
    assert a.dtype == np.float32 and a.shape == (15, 1024)  # ceil(230 frames / 16)
    assert s.bytes == sum((root / f).stat().st_size for f in files)
    assert not list(root.rglob("*.tmp"))
    marker = json.loads((root / SYNTH_MARKER).read_text())
    assert marker == s.marker
    assert {
        k: marker[k]
        for k in ("generator", "benchmark", "seed", "snippet_frames", "crops", "snippets", "videos")
    } == {
        "generator": "var_bench.synth",
        "benchmark": "ucfcrime-ar",
        "seed": 0,
        "snippet_frames": 16,
        "crops": 2,
        "snippets": 8,
        "videos": None,
    }
    assert set(marker["signal"]["amplitudes"]) >= {"signal", "anomaly", "noise", "offset"}


def test_ucf_rtfm_and_flow(built_home, tmp_path):
    s = synthesize(tmp_path / "r", "ucfcrime-ar", layout="ucf-rtfm", crops=3, snippets=4)
    a = np.load(s.out_dir / "UCF_Test_ten_crop_i3d/Abuse028_x264_i3d.npy")
    assert a.shape == (15, 3, 2048) and a.dtype == np.float32
    assert (s.out_dir / "UCF_Train_ten_crop_i3d/Abuse001_x264_i3d.npy").is_file()
    f = synthesize(tmp_path / "f", "ucfcrime-ar", flow=True, videos=1, **SMALL)
    assert _npys(f.out_dir) == sorted(
        f"{sp}/{st}/Abuse/Abuse0{n}_x264__{k}.npy"
        for sp, n in (("Train", "01"), ("Test", "28"))
        for st in ("RGB", "Flow")
        for k in (0, 1)
    )
    with pytest.raises(InputError, match="ucf-rtfm layout has no Flow tree"):
        synthesize(tmp_path / "x", "ucfcrime-ar", layout="ucf-rtfm", flow=True)


def test_any_detectable_rgb_layout_is_written_from_its_declared_tree(built_home, tmp_path):
    """xd-tevad has no code in synth: its folders come from its tree, and the build reads it."""
    from var_bench.features import build_features

    s = synthesize(
        tmp_path / "t", "xdviolence-ar", layout="xd-tevad", flow=False, videos=1, **SMALL
    )
    assert sorted({f.split("/")[0] for f in _npys(s.out_dir)}) == [
        "vggish-features",
        "xd_test_i3d",
        "xd_train_i3d",
    ]
    m = build_features(
        "xdviolence-ar",
        s.paths["features"],
        audio=s.paths["audio"],
        allow_missing=True,
        progress=False,
    )
    assert m.layout == {"rgb": "xd-tevad", "audio": "xd-vggish"} and m.num_crops == 2


def test_xd_layout_ragged_and_first_n(built_home, tmp_path):
    fx = built_home["xdviolence-ar"]
    s = synthesize(tmp_path / "x", "xdviolence-ar", videos=2, **SMALL)
    train_first = [v for v in fx.expected["train"] + fx.expected["val"]]
    files = _npys(s.out_dir)
    stems = {f.split("/")[-1].rsplit("__", 1)[0] for f in files}
    assert s.videos == {"train": 2, "test": 2} and len(stems) == 4
    assert set(fx.expected["test"][:2]) <= stems
    assert len(stems & set(train_first)) == 2
    vid = fx.expected["test"][0]
    rgb = np.load(s.out_dir / "RGBTest" / f"{vid}__1.npy")
    flow = np.load(s.out_dir / "FlowTest" / f"{vid}__0.npy")
    audio = np.load(s.out_dir / "vggish-features/test" / f"{vid}__vggish.npy")
    assert rgb.shape[1] == flow.shape[1] == 1024 and audio.shape[1] == 128
    assert rgb.shape[0] >= 16 and {flow.shape[0], audio.shape[0]} <= {
        rgb.shape[0],
        rgb.shape[0] - 1,
    }
    assert {d for f in files for d in [f.split("/")[0]]} == {
        "RGB",
        "RGBTest",
        "Flow",
        "FlowTest",
        "vggish-features",
    }
    assert s.paths["audio"] == s.out_dir / "vggish-features"


def test_ragged_happens_and_can_be_off(built_home, tmp_path):
    s = synthesize(tmp_path / "x", "xdviolence-ar", **SMALL)
    lengths = [
        (np.load(p).shape[0], np.load(str(p).replace("RGB", "Flow")).shape[0])
        for p in s.out_dir.glob("RGB*/*__0.npy")
    ]
    assert any(r != f for r, f in lengths)
    s = synthesize(tmp_path / "y", "xdviolence-ar", ragged=False, flow=False, **SMALL)
    for p in s.out_dir.glob("RGB*/*__0.npy"):
        a = np.load(
            s.out_dir
            / "vggish-features"
            / ("test" if "Test" in p.parent.name else "train")
            / p.name.replace("__0.npy", "__vggish.npy")
        )
        assert a.shape[0] == np.load(p).shape[0]
    assert not (s.out_dir / "Flow").exists()


def test_deterministic_and_independent_of_videos(built_home, tmp_path):
    a = synthesize(tmp_path / "a", "xdviolence-ar", seed=7, **SMALL)
    b = synthesize(tmp_path / "b", "xdviolence-ar", seed=7, videos=1, **SMALL)
    c = synthesize(tmp_path / "c", "xdviolence-ar", seed=8, videos=1, **SMALL)
    common = _npys(b.out_dir)
    assert common and set(common) <= set(_npys(a.out_dir))
    for f in common:
        assert (a.out_dir / f).read_bytes() == (b.out_dir / f).read_bytes()
        assert (c.out_dir / f).read_bytes() != (b.out_dir / f).read_bytes()
    u1 = synthesize(tmp_path / "u1", "ucfcrime-ar", videos=1, **SMALL)
    u2 = synthesize(tmp_path / "u2", "ucfcrime-ar", videos=1, **SMALL)
    assert [(u1.out_dir / f).read_bytes() for f in _npys(u1.out_dir)] == [
        (u2.out_dir / f).read_bytes() for f in _npys(u2.out_dir)
    ]


def test_anomaly_direction_exactly_in_labelled_snippets(built_home, tmp_path):
    s = synthesize(tmp_path / "x", "xdviolence-ar", crops=5, snippet_frames=16)
    u = anomaly_direction(0, "rgb", 1024) / np.sqrt(1024)
    vid = built_home["xdviolence-ar"].expected["test"][0]  # segments [157,180) [185,244)
    x = np.mean([np.load(s.out_dir / "RGBTest" / f"{vid}__{k}.npy") for k in range(5)], axis=0)
    labels = snippet_labels([(157, 180), (185, 244)], x.shape[0], 16)
    assert labels.sum() == 5
    assert np.array_equal(x @ u > 0.5 * np.sqrt(1024) / 2, labels)
    normal = built_home["xdviolence-ar"].expected["test"][2]
    y = np.load(s.out_dir / "RGBTest" / f"{normal}__0.npy")
    assert np.all(y @ u < 0.5 * np.sqrt(1024) / 2)


def test_refuses_foreign_folder_and_rewrites_own(built_home, tmp_path):
    (tmp_path / "real").mkdir()
    (tmp_path / "real" / "keep.txt").write_text("x")
    with pytest.raises(InputError, match="expected an empty folder or an earlier synthetic tree"):
        synthesize(tmp_path / "real", "ucfcrime-ar", **SMALL)
    s = synthesize(tmp_path / "t", "xdviolence-ar", **SMALL)
    s2 = synthesize(tmp_path / "t", "xdviolence-ar", videos=1, flow=False, **SMALL)
    assert len(_npys(s2.out_dir)) == s2.files < s.files


@pytest.mark.parametrize(
    "kw, msg",
    [
        ({"videos": 0}, "videos: expected a positive integer, got 0"),
        ({"crops": 1.5}, "crops: expected a positive integer"),
        ({"layout": "xd-i3d"}, "layout: expected one of ucf-crops, ucf-rtfm"),
        ({"loudness": 1.0}, "amplitudes: expected any of"),
    ],
)
def test_bad_input_is_one_line(built_home, tmp_path, kw, msg):
    with pytest.raises(InputError, match=msg):
        synthesize(tmp_path / "t", "ucfcrime-ar", **kw)
    assert not (tmp_path / "t").exists()


def test_needs_built_metadata(tmp_path):
    with pytest.raises(NotBuiltError):
        synthesize(tmp_path / "t", "ucfcrime-ar")
    assert not (tmp_path / "t").exists()


def test_uca_sentences_sit_in_their_own_segments(shared_data, tmp_path):
    """UCA (a benchmark of sentences): one file per video, T from its duration, and each
    sentence's projected embedding in exactly the snippets its own segment marks (no noise, no
    offset, no anomaly direction: the features are the signal alone)."""
    from support.tinytext import tiny_text_model

    from var_bench.data.prepare import download, load_table
    from var_bench.models.text import sentence_embeddings
    from var_bench.synth.signal import annotated_mask, projection

    home = tmp_path / "home"
    download(["uca"], home=home, mirror=str(shared_data), progress=False)
    text = str(tiny_text_model(tmp_path / "text"))
    s = synthesize(
        tmp_path / "t", "uca", videos=2, crops=1, snippet_frames=240, text_model=text,
        home=home, noise=0.0, offset=0.0, anomaly=0.0, progress=False,
    )  # fmt: skip
    assert s.videos == {"train": 2, "test": 2} and "per sentence in its span" in str(s.marker)
    rows = load_table("uca", "test", home=home)
    vid = rows["video_id"].iloc[0]
    mine = rows[rows["video_id"] == vid]
    (path,) = (tmp_path / "t").rglob(f"{vid}__0.npy")
    x = np.load(path)
    t = -(-round(mine["duration_s"].iloc[0] * 30) // 240)
    assert x.shape == (t, 1024)
    emb = sentence_embeddings(list(mine["sentence"]), model_dir=text).astype(np.float64)
    marks = np.stack(
        [
            annotated_mask([(round(a * 30), round(b * 30))], t, 240)
            for a, b in zip(mine["start_s"], mine["end_s"])
        ]
    )
    want = 0.35 * (marks.T.astype(np.float64) @ emb) @ projection(0, "rgb", emb.shape[1], 1024)
    np.testing.assert_allclose(x, want, rtol=1e-4, atol=1e-4)
    assert (marks.any(0) == (np.abs(x).sum(1) > 0)).all()
