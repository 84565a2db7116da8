import datasets
import numpy as np
import pytest

from var_bench.errors import NotBuiltError
from var_bench.features.manifest import FeatureManifest
from var_bench.features.store import (
    ShardWriter,
    nested_array,
    read_shard,
    read_split,
    store_features,
    store_schema,
)


def _rows(n, D=4, C=None, seed=0):
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        T = 1 + i % 3
        shape = (T, C, D) if C else (T, D)
        rows.append(
            {
                "video_id": f"v{i}",
                "rgb": rng.standard_normal(shape, dtype=np.float32),
                "num_snippets": T,
                "rgb_len": T,
                "video_label": i % 2,
                "snippet_labels": None if i % 2 else np.arange(T, dtype=np.int8) % 2,
            }
        )
    return rows


def test_nested_array_round_trip():
    a = [np.arange(6, dtype=np.float32).reshape(3, 2), np.ones((1, 2), np.float32)]
    assert nested_array(a, __import__("pyarrow").float32()).to_pylist() == [
        [[0, 1], [2, 3], [4, 5]],
        [[1, 1]],
    ]


@pytest.mark.parametrize("C", [None, 3])
def test_writer_rotates_shards_and_datasets_decodes(tmp_path, C):
    schema = store_schema(store_features({"rgb": 4}, "float32", C))
    seen = []
    w = ShardWriter(
        tmp_path,
        "test",
        schema,
        row_group_bytes=60,
        shard_bytes=120,
        on_shard=lambda rel, n: seen.append((rel, n)),
    )
    rows = _rows(7, C=C)
    for r in rows:
        w.write([r])
    shards = w.close()
    assert shards == [rel for rel, _ in seen] and len(shards) > 1
    assert sum(n for _, n in seen) == 7
    assert not list(tmp_path.rglob("*.part"))
    assert read_shard(tmp_path / shards[0]).column("rgb").num_chunks >= 1
    ds = datasets.load_dataset(
        "arrow", data_files=[str(tmp_path / s) for s in shards], split="train"
    ).with_format("numpy")
    # A shard is an Arrow IPC stream: datasets memory-maps it as it does its own cache files.
    assert (
        datasets.Dataset.from_file(str(tmp_path / shards[0]))[0]["video_id"] == rows[0]["video_id"]
    )
    assert isinstance(ds.features["rgb"], datasets.Array3D if C else datasets.Array2D)
    for i, r in enumerate(rows):
        np.testing.assert_array_equal(ds[i]["rgb"], r["rgb"])
        assert ds[i]["video_id"] == r["video_id"]
    assert ds[1]["snippet_labels"] is None and ds[2]["snippet_labels"].tolist() == [0, 1, 0]


def test_empty_split_gets_one_empty_shard(tmp_path):
    schema = store_schema(store_features({"rgb": 4}, "float16", None))
    shards = ShardWriter(tmp_path, "val", schema).close()
    t = read_shard(tmp_path / shards[0])
    assert t.num_rows == 0 and t.schema.metadata[b"huggingface"]


def test_read_split_needs_a_manifest(tmp_path):
    with pytest.raises(NotBuiltError, match="expected a feature store"):
        read_split(tmp_path, "test")
    assert FeatureManifest.read(tmp_path) is None


def test_a_disk_error_inside_the_ipc_writer_surfaces_and_leaves_no_part(tmp_path, monkeypatch):
    import errno

    import pyarrow as pa

    class FullDisk:
        """A file that takes the schema message, then fails as a full disk does."""

        def __init__(self, path):
            self.f, self.closed = open(path, "wb"), False

        def write(self, data):
            if self.f.tell() + memoryview(data).nbytes > 2000:
                raise OSError(errno.ENOSPC, "No space left on device")
            return self.f.write(data)

        def close(self):
            self.f.close()
            self.closed = True

    monkeypatch.setattr(pa, "OSFile", lambda path, mode: pa.PythonFile(FullDisk(path), mode="w"))
    schema = store_schema(store_features({"rgb": 64}, "float32", None))
    w = ShardWriter(tmp_path, "test", schema, row_group_bytes=1)
    with pytest.raises(OSError, match="No space left on device"):
        for r in _rows(40, D=64):
            w.write([r])
        w.close()
    w.abort()
    assert not list(tmp_path.rglob("*.part"))
