import json
import os

import datasets
import numpy as np
import pytest
from support.featuretrees import path_of, write_tree

from var_bench.benchmarks import SPLITS, UCFCRIME_AR, XDVIOLENCE_AR
from var_bench.cli import main
from var_bench.data.paths import features_dir
from var_bench.errors import InputError, NotBuiltError
from var_bench.features import build as build_mod
from var_bench.features import build_features, read_split
from var_bench.features.manifest import FeatureManifest
from var_bench.features.store import ShardWriter

UCF = UCFCRIME_AR.name
XD = XDVIOLENCE_AR.name


def _store(spec=UCFCRIME_AR):
    return features_dir(spec)


def _table(split, spec=UCFCRIME_AR):
    return read_split(_store(spec), split)


def _snapshot(folder):
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.fixture
def ucf(built_home, tmp_path):
    fx = built_home[UCF]
    vals = write_tree(tmp_path / "ucf", "ucf-crops", fx.expected)
    return fx, tmp_path / "ucf", vals


def test_ucf_crops_mean(ucf):
    fx, root, vals = ucf
    m = build_features(UCF, root)
    assert m.layout == {"rgb": "ucf-crops"} and m.streams == ["rgb"] and m.num_crops == 10
    assert m.counts == {s: len(fx.expected[s]) for s in SPLITS}
    assert FeatureManifest.read(_store()) == m
    for split in SPLITS:
        t = _table(split)
        assert t.column("video_id").to_pylist() == fx.expected[split]  # canonical order
        ds = datasets.Dataset(t).with_format("numpy")
        for row in ds:
            x = vals[row["video_id"]]
            np.testing.assert_allclose(row["rgb"], x.mean(axis=1), rtol=1e-5, atol=1e-6)
            assert row["num_snippets"] == row["rgb_len"] == len(x)
    test = _table("test").to_pylist()
    assert [r["video_label"] for r in test] == [1, 0, 0]
    # Abuse028: segment [165, 230) -> snippets 10..14 (T = 5 + 0 here: all zero); normals zero.
    assert all(r["snippet_labels"] == [0] * r["num_snippets"] for r in test)
    assert all(r["snippet_labels"] is None for r in _table("train").to_pylist())
    card = (_store() / "README.md").read_text("utf-8")
    assert "## Features" in card and "ucf-crops" in card and "# Metadata card" in card
    assert not _store().with_name(_store().name + ".partial").exists()


def test_snippet_labels_come_from_segments(built_home, tmp_path):
    fx = built_home[UCF]
    lengths = {v: 16 for s in fx.expected.values() for v in s}
    write_tree(tmp_path / "u", "ucf-crops", fx.expected, lengths=lengths)
    build_features(UCF, tmp_path / "u", crops="center")
    row = _table("test").to_pylist()[0]
    assert row["video_id"] == "Abuse028_x264"  # segment [165, 230): snippets 10..13 (>= 8 frames)
    assert row["snippet_labels"] == [0] * 10 + [1, 1, 1, 1] + [0, 0]
    build_features(UCF, tmp_path / "u", crops="center", snippet_frames=64)
    # F = 64: snippet 2 = [128, 192) holds 27 annotated frames, snippet 3 = [192, 256) holds 38.
    assert _table("test").to_pylist()[0]["snippet_labels"][:4] == [0, 0, 0, 1]


def test_rtfm_center_float16(built_home, tmp_path):
    fx = built_home[UCF]
    vals = write_tree(tmp_path / "r", "ucf-rtfm", fx.expected)
    m = build_features(UCF, tmp_path / "r", crops="center", dtype="float16")
    assert m.layout == {"rgb": "ucf-rtfm"} and m.dims == {"rgb": 2048} and m.num_crops == 10
    t = _table("val")
    assert datasets.Dataset(t).features["rgb"] == datasets.Array2D((None, 2048), "float16")
    r = datasets.Dataset(t).with_format("numpy")[0]
    np.testing.assert_array_equal(r["rgb"], vals[r["video_id"]][:, 0].astype(np.float16))


def test_xd_streams_trimmed_to_the_shortest_all_crops(built_home, tmp_path):
    fx = built_home[XD]
    ids = [v for s in SPLITS for v in fx.expected[s]]
    root = tmp_path / "x"
    rgb = write_tree(root, "xd-i3d", fx.expected, lengths={v: 6 for v in ids})
    write_tree(root, "xd-i3d", fx.expected, stream="flow", lengths={v: 6 for v in ids})
    aud = write_tree(
        tmp_path / "a",
        "xd-vggish",
        fx.expected,
        lengths={v: 5 if i % 2 else 6 for i, v in enumerate(ids)},
    )
    m = build_features(XD, root, audio=tmp_path / "a", crops="all")
    assert m.streams == ["rgb", "flow", "audio"] and m.num_crops == 5
    assert sum(m.trimmed.values()) == len(ids) // 2
    rows = {
        r["video_id"]: r
        for s in SPLITS
        for r in datasets.Dataset(_table(s, XDVIOLENCE_AR)).with_format("numpy")
    }
    for i, v in enumerate(ids):
        T = 5 if i % 2 else 6
        r = rows[v]
        assert r["num_snippets"] == T and r["rgb_len"] == 6 and r["audio_len"] == T
        assert r["rgb"].shape == (T, 5, 1024) and r["audio"].shape == (T, 128)
        np.testing.assert_array_equal(r["rgb"], rgb[v][:T])
        np.testing.assert_array_equal(r["audio"], aud[v])
    test = _table("test", XDVIOLENCE_AR).to_pylist()
    assert [r["video_label"] for r in test] == [1, 1, 0]
    assert test[0]["snippet_labels"] == [0] * test[0]["num_snippets"]  # segments start at 157
    assert test[2]["snippet_labels"] == [0] * test[2]["num_snippets"]  # normal: [] -> zeros


def test_stream_gap_over_one_snippet(built_home, tmp_path):
    fx = built_home[XD]
    ids = [v for s in SPLITS for v in fx.expected[s]]
    write_tree(tmp_path, "xd-i3d", fx.expected, lengths={v: 6 for v in ids})
    write_tree(tmp_path, "xd-vggish", fx.expected, lengths={v: 4 for v in ids})
    with pytest.raises(
        InputError, match=r"expected stream lengths within 1 snippet .*rgb T = 6, audio T = 4"
    ):
        build_features(XD, tmp_path)


def test_missing_ids_listed_then_allowed(ucf):
    fx, root, _ = ucf
    gone = fx.expected["test"][1]
    for k in range(10):
        path_of(root, "ucf-crops", "test", gone, k).unlink()
    with pytest.raises(InputError, match=rf"1 missing \(test 1\) .*{gone}; pass --allow-missing"):
        build_features(UCF, root)
    m = build_features(UCF, root, allow_missing=True)
    assert m.missing["test"] == [gone] and m.counts["test"] == 2
    assert gone not in _table("test").column("video_id").to_pylist()
    assert gone in (_store() / "README.md").read_text("utf-8")


def _break(root, fx, how):
    vid = fx.expected["train"][0]
    p = path_of(root, "ucf-crops", "train", vid, 4)
    if how == "missing crop":
        p.unlink()
        return r"expected crops 0..9 .*missing .*__4.npy"
    if how == "mismatched T":
        np.save(p, np.zeros((99, 1024), np.float32))
        return r"expected the same T in every crop file"
    if how == "empty":
        np.save(p, np.zeros((0, 1024), np.float32))
        return r"expected T >= 1"
    if how == "wrong dim":
        np.save(p, np.zeros((5, 1000), np.float32))
        return r"expected D = 1024"
    if how == "not an array":
        p.write_text("not numpy")
        return r"expected a .npy array"
    if how == "nan":
        x = np.load(p)
        x[1, 2] = np.nan
        np.save(p, x)
        return rf"video {vid}: expected finite values, found 1 NaN/Inf"
    raise AssertionError(how)


@pytest.mark.parametrize(
    "how", ["missing crop", "mismatched T", "empty", "wrong dim", "not an array", "nan"]
)
def test_broken_tree_fails_clearly_and_keeps_the_previous_build(ucf, how):
    fx, root, _ = ucf
    build_features(UCF, root)
    before = _snapshot(_store())
    pattern = _break(root, fx, how)
    fds = _open_files(root)
    with pytest.raises(InputError, match=pattern) as e:
        build_features(UCF, root)
    assert "\n" not in str(e.value)
    assert _snapshot(_store()) == before
    assert _open_files(root) == fds  # the readers keep files open from header to data: all closed


def _open_files(folder) -> set[str] | None:
    """The files below ``folder`` that this process holds open (None where /proc/self/fd does
    not exist). Only the tree's files: now and then an fd of the built metadata
    (data/test.parquet, read with pyarrow) was still open right after the failed build, which
    says nothing about the feature readers."""
    if not os.path.isdir("/proc/self/fd"):
        return None
    held = set()
    for fd in os.listdir("/proc/self/fd"):
        try:
            held.add(os.readlink(f"/proc/self/fd/{fd}"))
        except OSError:  # closed meanwhile (the listing's own fd)
            pass
    base = os.path.realpath(folder) + os.sep
    return {p for p in held if p.startswith(base)}


def test_interrupted_build_resumes_and_matches(ucf, monkeypatch):
    fx, root, _ = ucf
    kw = dict(row_group_bytes=1, shard_bytes=30_000)
    build_features(UCF, root, **kw)
    reference = {s: _table(s) for s in SPLITS}
    shards_ref = FeatureManifest.read(_store()).shards
    assert len(shards_ref["train"]) >= 2
    staging = _store().with_name(_store().name + ".partial")

    class Boom(RuntimeError):
        pass

    class Interrupted(ShardWriter):
        def _close_shard(self):
            super()._close_shard()
            raise Boom

    monkeypatch.setattr(build_mod, "ShardWriter", Interrupted)
    with pytest.raises(Boom):
        build_features(UCF, root, **kw)
    first = staging / shards_ref["train"][0]
    stamp = (first.stat().st_ino, first.stat().st_mtime_ns)
    assert json.loads((staging / "progress.json").read_text())["splits"]["train"]["shards"]
    monkeypatch.setattr(build_mod, "ShardWriter", ShardWriter)
    (staging / "data" / "train" / "junk.arrow.part").write_bytes(b"half")
    m = build_features(UCF, root, **kw)
    done = _store() / shards_ref["train"][0]
    assert (done.stat().st_ino, done.stat().st_mtime_ns) == stamp  # not rewritten
    assert m.shards == shards_ref
    for s in SPLITS:
        assert _table(s).equals(reference[s])
    assert not staging.exists() and not list(_store().rglob("*.part"))


def test_different_parameters_restart_the_staging_folder(ucf, monkeypatch):
    fx, root, _ = ucf
    kw = dict(row_group_bytes=1, shard_bytes=30_000)

    class Stop(RuntimeError):
        pass

    class Interrupted(ShardWriter):
        def _close_shard(self):
            super()._close_shard()
            raise Stop

    monkeypatch.setattr(build_mod, "ShardWriter", Interrupted)
    with pytest.raises(Stop):
        build_features(UCF, root, crops="center", **kw)
    staging = _store().with_name(_store().name + ".partial")
    old = json.loads((staging / "progress.json").read_text())["params"]
    monkeypatch.setattr(build_mod, "ShardWriter", ShardWriter)
    m = build_features(UCF, root, crops="mean", **kw)
    assert m.crops_mode == "mean" and not staging.exists()
    for s in SPLITS:  # nothing of the center-crop attempt survives
        for row in datasets.Dataset(_table(s)).with_format("numpy"):
            np.testing.assert_allclose(
                row["rgb"], ucf[2][row["video_id"]].mean(axis=1), rtol=1e-5, atol=1e-6
            )
    assert old


def test_a_full_disk_is_exit_3_and_leaves_no_partial_shard(ucf, capsys, monkeypatch):
    """F21 (issue 11): a full disk while a shard is written is exit 3, one line, and no partial
    shard stays in the staging folder."""
    import errno

    from var_bench.features import store

    _, raw, _ = ucf
    real = store.ShardWriter._flush

    def full(self):
        real(self)
        raise OSError(errno.ENOSPC, "No space left on device", str(self.out_dir))

    monkeypatch.setattr(store.ShardWriter, "_flush", full)
    with pytest.raises(SystemExit) as e:
        main(["build", UCF, "--features", str(raw), "--dtype", "float16"])
    out = capsys.readouterr().out
    assert e.value.code == 3 and "No space left on device" in out and out.count("\n") == 1
    folder = _store()
    staging = folder.with_name(folder.name + ".partial")
    assert not [p for p in staging.rglob("*.part")]


def test_synthetic_marker_sets_snippet_frames_and_flags(ucf):
    fx, root, _ = ucf
    (root / "VAR_BENCH_SYNTHETIC.json").write_text(
        json.dumps({"generator": "var_bench.synth", "seed": 3, "snippet_frames": 8})
    )
    m = build_features(UCF, root)
    assert m.snippet_frames == 8 and m.synthetic["seed"] == 3
    assert "Synthetic features" in (_store() / "README.md").read_text("utf-8")
    (root / "VAR_BENCH_SYNTHETIC.json").write_text("{not json")
    with pytest.raises(InputError, match="expected the JSON marker"):
        build_features(UCF, root)


@pytest.mark.parametrize(
    "marker",
    [
        {"snippet_frames": "abc"},
        {"snippet_frames": -5},
        {"snippet_frames": 10**12},
        {"snippet_frames": 1.5},
        {"generator": "<script>x</script>"},
    ],
)
def test_synthetic_marker_values_are_checked(ucf, capsys, marker):
    """F24 (issue 11): the synth marker's values are checked (exit 2), never an internal error."""
    _, raw, _ = ucf
    (raw / "VAR_BENCH_SYNTHETIC.json").write_text(json.dumps(marker))
    with pytest.raises(SystemExit) as e:
        main(["build", UCF, "--features", str(raw)])
    assert e.value.code == 2 and "internal error" not in capsys.readouterr().out


def test_needs_the_metadata_build(tmp_path):
    write_tree(tmp_path / "u", "ucf-crops", {"test": ["Abuse028_x264"]}, T=2)
    with pytest.raises(NotBuiltError, match="var-bench download"):
        build_features(UCF, tmp_path / "u", home=tmp_path / "empty-home")


def test_bad_options(ucf):
    _, root, _ = ucf
    with pytest.raises(InputError, match="dtype: expected one of float32, float16"):
        build_features(UCF, root, dtype="int8")
    with pytest.raises(InputError, match="crops: expected"):
        build_features(UCF, root, crops="max")


_VIDEO_LAYOUTS = [
    (spec, lay) for spec in (UCFCRIME_AR, XDVIOLENCE_AR) for lay in spec.layouts if not lay.audio
]


@pytest.mark.parametrize("spec,layout", _VIDEO_LAYOUTS, ids=[lay.name for _, lay in _VIDEO_LAYOUTS])
def test_every_built_in_layout_builds_and_reads_back_its_values(built_home, tmp_path, spec, layout):
    """Each layout's tree (support.featuretrees, upstream names) -> a store whose rows hold the
    written values: the crop mean on train/val, every crop ([T, C, D]) on test; [T, D] as is for
    layouts without crops. XDViolence-AR gets its VGGish queries beside it."""
    from support.featuretrees import CROPS, DIMS

    fx = built_home[spec.name]
    ids = [v for s in SPLITS for v in fx.expected[s]]
    lengths = {v: 6 for v in ids}
    vals = write_tree(
        tmp_path / "f", layout.name, fx.expected, stream=layout.stream, lengths=lengths
    )
    audio = None
    if spec is XDVIOLENCE_AR:
        audio = tmp_path / "a"
        write_tree(audio, "xd-vggish", fx.expected, lengths=lengths)
    # PEL4VAD's plain <Stem>.npy is a catch-all name: never guessed, named with --layout.
    forced = layout.name if layout.crop0_file else "auto"
    m = build_features(
        spec.name, tmp_path / "f", audio=audio, layout=forced, crops="train=mean,val=mean,test=all"
    )
    s = layout.stream
    assert m.layout[s] == layout.name and m.dims[s] == DIMS[layout.name]
    assert m.counts == {split: len(fx.expected[split]) for split in SPLITS}
    crops = CROPS[layout.name] > 1
    for split in SPLITS:
        rows = datasets.Dataset(read_split(features_dir(spec), split)).with_format("numpy")
        for r in rows:
            x = vals[r["video_id"]]
            want = x if not crops or split == "test" else x.mean(axis=1)
            assert r[s].shape == want.shape, (split, r[s].shape)
            np.testing.assert_allclose(r[s], want, rtol=1e-5, atol=1e-6)


def test_a_user_yaml_layout_builds_and_reads_back(built_home, tmp_path):
    fx = built_home[UCF]
    (tmp_path / "lay.yaml").write_text(
        "layouts:\n  - name: my-swin\n    file: '{stem}_swin_{crop}.npy'\n    crops: files\n"
        "    num_crops: 3\n    stream: swin\n",
        "utf-8",
    )
    written = {}
    for split in SPLITS:
        for i, vid in enumerate(fx.expected[split]):
            x = np.random.default_rng(i).standard_normal((4 + i % 2, 3, 96)).astype(np.float32)
            (tmp_path / "f" / split).mkdir(parents=True, exist_ok=True)
            for k in range(3):
                np.save(tmp_path / "f" / split / f"{vid}_swin_{k}.npy", x[:, k])
            written[vid] = x
    m = build_features(UCF, tmp_path / "f", layout_file=tmp_path / "lay.yaml", crops="center")
    assert (m.streams, m.layout, m.dims) == (["swin"], {"swin": "my-swin"}, {"swin": 96})
    for split in SPLITS:
        for r in datasets.Dataset(_table(split)).with_format("numpy"):
            np.testing.assert_array_equal(r["swin"], written[r["video_id"]][:, 0])
