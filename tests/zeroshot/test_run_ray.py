"""``zeroshot --ray``: decoding and the encoder on a local Ray's workers give the submission,
the record and the embedding cache of the in-process run (frames on UCFCrime-AR, audio and
frames on XDViolence-AR), and a zero-shot search index that of an in-process build. Runs where
Ray is installed (``.venv-vision`` in scripts/test.sh)."""

from __future__ import annotations

import numpy as np
import pytest
from support.zeroshot import FakeEncoder

from var_bench.extract.distributed import RayOptions
from var_bench.zeroshot.run import zeroshot

pytest.importorskip("av", reason="PyAV (the extract extra) is not installed")
from support.videos import write_video  # noqa: E402

TWO = RayOptions(decode_workers=2, encode_workers=2)


def _same_submission(a, b) -> None:
    with np.load(a.out) as za, np.load(b.out) as zb:
        assert sorted(za.files) == sorted(zb.files)
        for key in za.files:
            if za[key].dtype.kind == "f":
                np.testing.assert_array_equal(za[key], zb[key], err_msg=key)
    assert a.record.summary == b.record.summary
    assert a.record.provenance["sampling"] == b.record.provenance["sampling"]


@pytest.mark.slow
def test_ray_run_equals_the_in_process_run(local_ray, built_home, tmp_path):
    ids = built_home["ucfcrime-ar"].expected["val"]
    root = tmp_path / "ucf"
    for i, vid in enumerate(ids):
        write_video(root / f"{vid}.mp4", 45 + 15 * i, seed=i)
    enc = FakeEncoder()
    kw = {"encoder": enc, "split": "val", "check": False}
    one = zeroshot("fake", "ucfcrime-ar", root, tmp_path / "a.npz", cache=tmp_path / "ca", **kw)
    on_ray = zeroshot(
        "fake", "ucfcrime-ar", root, tmp_path / "b.npz", cache=tmp_path / "cb", ray=TWO, **kw
    )
    _same_submission(one, on_ray)
    assert (on_ray.encoded, on_ray.cached) == (len(ids), 0)
    # what the workers put in the cache is what the in-process run reads back
    again = zeroshot("fake", "ucfcrime-ar", root, tmp_path / "c.npz", cache=tmp_path / "cb", **kw)
    assert (again.encoded, again.cached) == (0, len(ids))
    _same_submission(one, again)

    xids = built_home["xdviolence-ar"].expected["val"]
    xroot = tmp_path / "xd"
    for i, vid in enumerate(xids):
        write_video(xroot / f"{vid}.mp4", 40, seed=i, audio_hz=440.0)
    xone = zeroshot("fake", "xdviolence-ar", xroot, tmp_path / "x1.npz", cache=False, **kw)
    xray = zeroshot("fake", "xdviolence-ar", xroot, tmp_path / "x2.npz", cache=False, ray=TWO, **kw)
    _same_submission(xone, xray)
    assert set(xray.record.metrics) == {"a2v", "v2a"}

    # a zero-shot index of the same videos, on Ray: the same frames, seconds and hits
    from var_bench.search.zeroshot import ZeroShotIndex

    a = ZeroShotIndex.build("fake", root, tmp_path / "ia", encoder=enc, cache=False)
    b = ZeroShotIndex.build("fake", root, tmp_path / "ib", encoder=enc, cache=False, ray=TWO)
    assert a.info == b.info
    for name in ("frames.npy", "times.npy"):
        assert np.array_equal(np.load(tmp_path / "ia" / name), np.load(tmp_path / "ib" / name))
