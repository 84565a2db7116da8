"""Red-team cases of the feature store (issue 11, report F-2, F-3, F9, F10, F21, F24-F26, H2-H8,
P1): import-h5 runs the build's validators and leaves a good store untouched, sizes are bounded
before allocation, failed runs leave no debris, files honour the umask."""

from __future__ import annotations

import json
import os
import stat

import h5py
import numpy as np
import pytest

import var_bench
from support.featuretrees import path_of, write_tree
from var_bench.cli import main
from var_bench.data.paths import features_dir
from var_bench.errors import InputError
from var_bench.features import FeatureManifest, build_features
from var_bench.features.hdf5 import export_h5, import_h5
from var_bench.benchmarks import get_benchmark

UCF = "ucfcrime-ar"


@pytest.fixture
def ucf_store(built_home, tmp_path):
    ids = built_home[UCF].expected
    raw = tmp_path / "ucf"
    write_tree(raw, "ucf-crops", {"train": ids["train"] + ids["val"], "test": ids["test"]})
    build_features(UCF, raw)
    h5 = export_h5(UCF, tmp_path / "good.h5")
    return ids, raw, h5


def _store_state():
    folder = features_dir(get_benchmark(UCF))
    return (folder / "manifest.json").read_text(), sorted(p.name for p in folder.parent.iterdir())


def _first_video(f):
    return f["test"][next(iter(f["test"]))]


def _wrong_dim(f):  # H2
    g = _first_video(f)
    T = g.attrs["num_snippets"]
    del g["rgb"]
    g["rgb"] = np.zeros((T, 7), "f4")


def _nan(f):  # H3
    g = _first_video(f)
    x = g["rgb"][()]
    x[0, 0] = np.nan
    g["rgb"][...] = x


def _num_snippets(f):  # H4
    _first_video(f).attrs["num_snippets"] = 999


def _video_label(f):  # H4
    _first_video(f).attrs["video_label"] = 7


def _negative_len(f):  # H4
    _first_video(f).attrs["rgb_len"] = -4


def _labels_len(f):  # H5
    g = _first_video(f)
    if "snippet_labels" in g:
        del g["snippet_labels"]
    g["snippet_labels"] = np.full(5000, 9, np.int8)


def _external_link(f):  # H6
    g = _first_video(f)
    del g["rgb"]
    g["rgb"] = h5py.ExternalLink("/etc/passwd", "/x")


def _external_raw(f):  # H6
    g = _first_video(f)
    T = int(g.attrs["num_snippets"])
    del g["rgb"]
    g.create_dataset("rgb", shape=(T, 1024), dtype="u1", external=[("/etc/passwd", 0, T * 1024)])


def _declared_giant(f):  # H7
    g = _first_video(f)
    del g["rgb"]
    g.create_dataset("rgb", shape=(10 ** 7, 1024), dtype="f4")


def _string_attr(f):  # H8
    _first_video(f).attrs["num_snippets"] = "abc"


def _no_dims(f):  # H8
    m = json.loads(f.attrs["manifest"])
    del m["dims"]
    f.attrs["manifest"] = json.dumps(m)


def _dtype_object(f):  # H8
    m = json.loads(f.attrs["manifest"])
    m["dtype"] = "object"
    f.attrs["manifest"] = json.dumps(m)


def _video_is_dataset(f):  # H8
    vid = next(iter(f["test"]))
    del f["test"][vid]
    f["test"][vid] = np.zeros(3)


def _rgb_is_group(f):  # H8
    g = _first_video(f)
    del g["rgb"]
    g.create_group("rgb")


def _rgb_3d(f):  # H8
    g = _first_video(f)
    T = g.attrs["num_snippets"]
    del g["rgb"]
    g["rgb"] = np.zeros((T, 2, 1024), "f4")


def _format_version(f):  # H8
    f.attrs["format_version"] = "abc"


IMPORT_CASES = {
    "H2-wrong-D": (_wrong_dim, "expected shape"),
    "H3-nan": (_nan, "finite"),
    "H4-num-snippets": (_num_snippets, "expected shape"),
    "H4-video-label": (_video_label, "video_label"),
    "H4-negative-len": (_negative_len, "rgb_len"),
    "H5-labels-length": (_labels_len, "snippet_labels expected shape"),
    "H6-external-link": (_external_link, "external link"),
    "H6-external-storage": (_external_raw, "external storage"),
    "H7-declared-giant": (_declared_giant, "expected shape"),
    "H8-string-attribute": (_string_attr, "num_snippets"),
    "H8-manifest-without-dims": (_no_dims, "manifest"),
    "H8-dtype-object": (_dtype_object, "dtype"),
    "H8-video-is-dataset": (_video_is_dataset, "expected a group"),
    "H8-rgb-is-group": (_rgb_is_group, "expected dataset 'rgb'"),
    "H8-rgb-3d": (_rgb_3d, "expected shape"),
    "H8-format-version": (_format_version, "format_version"),
}


@pytest.mark.parametrize("case", sorted(IMPORT_CASES))
def test_import_h5_refuses_and_keeps_the_good_store(ucf_store, tmp_path, capsys, case) -> None:
    _, _, good = ucf_store
    edit, needle = IMPORT_CASES[case]
    bad = tmp_path / "bad.h5"
    bad.write_bytes(good.read_bytes())
    with h5py.File(bad, "a") as f:
        edit(f)
    before = _store_state()
    with pytest.raises(InputError, match=needle):
        import_h5(UCF, bad)
    with pytest.raises(SystemExit) as e:
        main(["import-h5", UCF, str(bad)])
    out = capsys.readouterr().out
    assert e.value.code == 2 and out.count("\n") == 1 and "internal error" not in out
    assert _store_state() == before  # the previous store untouched, no temp folder left


def test_a_good_import_still_works(ucf_store) -> None:
    ids, _, good = ucf_store
    import_h5(UCF, good)
    ds = var_bench.load_dataset(UCF, "test", features=True, download=False).with_format("numpy")
    assert len(ds) == len(ids["test"]) and ds[0]["rgb"].shape[1] == 1024


# ------------------------------------------------------------ F9, F10: sizes before allocation


def test_F9_header_claiming_huge_T_is_refused(ucf_store, capsys) -> None:
    ids, raw, _ = ucf_store
    p = path_of(raw, "ucf-crops", "test", ids["test"][0], 0)
    header = "{'descr': '<f4', 'fortran_order': False, 'shape': (%d, 1024), }" % 2 ** 40
    h = header.encode() + b" " * (-(len(header) + 11) % 64) + b"\n"
    p.write_bytes(b"\x93NUMPY\x01\x00" + len(h).to_bytes(2, "little") + h)
    with pytest.raises(SystemExit) as e:
        main(["build", UCF, "--features", str(raw)])
    out = capsys.readouterr().out
    assert e.value.code == 2 and "T <= 100000 snippets" in out


def test_F10_crop_index_in_a_file_name_is_bounded(ucf_store, capsys) -> None:
    ids, raw, _ = ucf_store
    src = path_of(raw, "ucf-crops", "test", ids["test"][0], 0)
    (src.parent / f"{ids['test'][0]}__1000000000.npy").write_bytes(src.read_bytes())
    with pytest.raises(SystemExit) as e:
        main(["build", UCF, "--features", str(raw), "--allow-missing"])
    out = capsys.readouterr().out
    assert e.value.code == 2 and "crop indices 0..63" in out


# ------------------------------------------------------------ F21, F24, F25, F26: no debris


def test_F21_a_full_disk_is_exit_3_and_leaves_no_partial_shard(ucf_store, capsys, monkeypatch) -> None:
    import errno

    from var_bench.features import store

    _, raw, _ = ucf_store
    real = store.ShardWriter._flush

    def full(self):
        real(self)
        raise OSError(errno.ENOSPC, "No space left on device", str(self.out_dir))

    monkeypatch.setattr(store.ShardWriter, "_flush", full)
    with pytest.raises(SystemExit) as e:
        main(["build", UCF, "--features", str(raw), "--dtype", "float16"])
    out = capsys.readouterr().out
    assert e.value.code == 3 and "No space left on device" in out and out.count("\n") == 1
    folder = features_dir(get_benchmark(UCF))
    staging = folder.with_name(folder.name + ".partial")
    assert not [p for p in staging.rglob("*.part")]


@pytest.mark.parametrize("marker", [{"snippet_frames": "abc"}, {"snippet_frames": -5},
                                    {"snippet_frames": 10 ** 12}, {"snippet_frames": 1.5},
                                    {"generator": "<script>x</script>"}])
def test_F24_synthetic_marker_values_are_checked(ucf_store, capsys, marker) -> None:
    _, raw, _ = ucf_store
    (raw / "VAR_BENCH_SYNTHETIC.json").write_text(json.dumps(marker))
    with pytest.raises(SystemExit) as e:
        main(["build", UCF, "--features", str(raw)])
    assert e.value.code == 2 and "internal error" not in capsys.readouterr().out


def test_F25_F26_debris_of_killed_runs_is_removed(ucf_store, tmp_path) -> None:
    _, _, good = ucf_store
    dead = tmp_path / ".good.h5.999999999.abcd.h5.tmp"  # an export whose process is gone
    dead.write_bytes(b"x" * 100)
    folder = features_dir(get_benchmark(UCF))
    orphan = folder.parent / f".{folder.name}.import-xyz"  # an import killed with -9
    orphan.mkdir()
    export_h5(UCF, good)
    assert not dead.exists()
    import_h5(UCF, good)
    assert not orphan.exists()


# ------------------------------------------------------------ P1: umask


@pytest.mark.parametrize("mask", [0o022, 0o002])
def test_P1_written_files_and_folders_honour_the_umask(ucf_store, tmp_path, mask) -> None:
    _, _, good = ucf_store
    old = os.umask(mask)
    try:
        import_h5(UCF, good)
        out = export_h5(UCF, tmp_path / f"again-{mask:o}.h5")
    finally:
        os.umask(old)
    folder = features_dir(get_benchmark(UCF))
    assert stat.S_IMODE(folder.stat().st_mode) == 0o777 & ~mask
    assert stat.S_IMODE((folder / "manifest.json").stat().st_mode) == 0o666 & ~mask
    assert stat.S_IMODE(out.stat().st_mode) == 0o666 & ~mask
