"""``map_videos`` (the Ray Data path) and ``write_shards``: the single-process reference, its
chunking and error order, the Arrow shards, and the Ray path equal to it array for array."""

import functools
import json

import numpy as np
import pytest

from var_bench.errors import InputError
from var_bench.extract import extract
from var_bench.extract.distributed import RayOptions, map_videos, parse_ray, write_shards
from var_bench.features.store import read_shard

from .conftest import UCF_SMALL, XD_SMALL

UCF, XD = "ucfcrime-ar", "xdviolence-ar"


def _chunks(n):
    """A chunked decode: n chunks [k+1, 2] of value k (0 chunks: nothing)."""
    return (np.full((k + 1, 2), float(k)) for k in range(int(n)))


def _boom(n):
    if int(n) == 2:
        raise InputError("video 2: expected a video stream, found none")
    return np.full((1, 2), float(n))


def _scaled(factor):
    return functools.partial(np.multiply, factor)


def test_local_path_concatenates_chunks_in_order_and_none_for_no_chunk():
    out = list(map_videos([("a", 2), ("b", 0), ("c", 3)], _chunks, functools.partial(_scaled, 2)))
    assert [v for v, _ in out] == ["a", "b", "c"]
    assert out[1][1] is None
    np.testing.assert_array_equal(out[0][1], [[0, 0], [2, 2], [2, 2]])
    assert out[2][1].shape == (6, 2) and out[2][1][-1].tolist() == [4.0, 4.0]


def test_an_error_is_raised_in_its_videos_turn():
    got = []
    with pytest.raises(InputError, match="video 2: expected a video stream"):
        for vid, _ in map_videos(
            [("v1", 1), ("v2", 2), ("v3", 3)], _boom, functools.partial(_scaled, 1)
        ):
            got.append(vid)
    assert got == ["v1"]


def test_write_shards_roundtrip_and_refusals(tmp_path):
    rows = [("v1", np.arange(6, dtype=np.float32).reshape(3, 2)), ("v2", np.ones((1, 2)))]
    paths = write_shards(tmp_path, "test", rows, column="emb", row_group_bytes=8, shard_bytes=16)
    assert paths == ["data/test/part-00000.arrow", "data/test/part-00001.arrow"]
    t0 = read_shard(tmp_path / paths[0])
    assert t0["video_id"].to_pylist() == ["v1"]
    assert t0["emb"].to_pylist()[0] == [[0, 1], [2, 3], [4, 5]]
    assert b"huggingface" in t0.schema.metadata  # datasets decodes the Array2D column
    assert not list(tmp_path.rglob("*.part"))
    with pytest.raises(InputError, match=r"v2: expected a \[T, 2\] array to store, got shape"):
        write_shards(tmp_path / "bad", "test", [("v1", np.ones((1, 2))), ("v2", np.ones((1, 3)))])
    assert not list((tmp_path / "bad").rglob("*.part"))


def test_parse_ray_and_options():
    assert parse_ray(None) is None
    assert parse_ray("").address is None and parse_ray("local").address is None
    assert parse_ray("ray://head:10001").address == "ray://head:10001"
    with pytest.raises(InputError, match="decode_workers >= 1"):
        RayOptions(decode_workers=0)


def test_cli_ray_options():
    from var_bench.cli.base import ray_from_options as _ray

    assert _ray(None, 2, 1) is None
    assert _ray("local", 3, 2) == RayOptions(None, decode_workers=3, encode_workers=2)
    assert _ray("auto", 0, 1) == RayOptions("auto", decode_workers=1, encode_workers=1)


def test_raft_is_refused_on_ray(ucf_videos, tmp_path):
    root, _ = ucf_videos
    with pytest.raises(InputError, match="--ray: expected --flow tvl1 for i3d-flow"):
        extract(UCF, root, tmp_path / "o", "i3d-flow", flow="raft", weights="random", ray="local")


# -- on Ray: the session's local Ray (tests/conftest.py), 2 decoding + 2 encoding workers ------


TWO = RayOptions(decode_workers=2, encode_workers=2)


def _npy(root):
    return {p.relative_to(root).as_posix(): np.load(p) for p in sorted(root.rglob("*.npy"))}


def _same_tree(a, b):
    fa, fb = _npy(a), _npy(b)
    assert fa and sorted(fa) == sorted(fb)
    for name in fa:
        assert fa[name].dtype == fb[name].dtype == np.float32
        np.testing.assert_array_equal(fa[name], fb[name], err_msg=name)
    sa = json.loads((a / "extraction.json").read_text())
    sb = json.loads((b / "extraction.json").read_text())
    assert sa == sb  # identity and every video's record (shape, frames or samples, files)


@pytest.mark.slow
def test_ray_equals_single_process_array_for_array(local_ray, ucf_videos, xd_videos, tmp_path):
    items = [("a", 2), ("b", 0), ("c", 3), ("d", 1)]
    enc = functools.partial(_scaled, 3)
    ref = list(map_videos(items, _chunks, enc))
    got = list(map_videos(items, _chunks, enc, ray=TWO))
    assert [v for v, _ in got] == [v for v, _ in ref]
    for (_, x), (_, y) in zip(ref, got):
        assert (x is None and y is None) or np.array_equal(x, y)

    # extract: I3D RGB with 2 snippets per forward pass (several chunks per video)
    root, counts = ucf_videos
    some = sorted(counts)[:3]
    kw = dict(recipe=UCF_SMALL, weights="random", batch=2, ids=some)
    single = extract(UCF, root, tmp_path / "one", "i3d-rgb", workers=0, **kw)
    on_ray = extract(UCF, root, tmp_path / "ray", "i3d-rgb", ray=TWO, **kw)
    assert on_ray.done == single.done and on_ray.snippets == single.snippets
    _same_tree(tmp_path / "one", tmp_path / "ray")

    # VGGish (audio examples in batches of 4) and TV-L1 flow on the decoding workers
    xroot, xcounts = xd_videos
    xs = sorted(xcounts)[:2]
    for model in ("vggish", "i3d-flow"):
        kw = dict(recipe=XD_SMALL, weights="random", batch=4, ids=xs)
        extract(XD, xroot, tmp_path / f"x1-{model}", model, workers=0, **kw)
        extract(XD, xroot, tmp_path / f"xr-{model}", model, ray=TWO, **kw)
        sub = {"vggish": "VGGish", "i3d-flow": "Flow"}[model]
        _same_tree(tmp_path / f"x1-{model}" / sub, tmp_path / f"xr-{model}" / sub)
