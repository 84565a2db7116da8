"""Shards: ``K/N`` and ``auto`` parsed, and N shards cover every video exactly once."""

import pytest

from var_bench.errors import InputError
from var_bench.extract.shards import parse_shard, shard_of


@pytest.mark.parametrize("n", [1, 2, 3, 7])
def test_shards_are_disjoint_and_cover_everything(n):
    ids = [f"v{i}" for i in range(23)]
    parts = [shard_of(ids, (k, n)) for k in range(n)]
    flat = [v for p in parts for v in p]
    assert sorted(flat) == sorted(ids) and len(flat) == len(set(flat))


def test_parse_shard():
    assert parse_shard(None) == (0, 1)
    assert parse_shard("2/4") == (2, 4)
    for bad in ("4/4", "x", "1/0", "-1/3"):
        with pytest.raises(InputError, match="K/N"):
            parse_shard(bad)
    assert parse_shard("auto", env={"RANK": "3", "WORLD_SIZE": "8"}) == (3, 8)
    assert parse_shard(
        "auto",
        env={
            "SLURM_ARRAY_TASK_ID": "5",
            "SLURM_ARRAY_TASK_COUNT": "4",
            "SLURM_ARRAY_TASK_MIN": "3",
        },
    ) == (2, 4)
    assert parse_shard("auto", env={"SLURM_PROCID": "1", "SLURM_NTASKS": "2"}) == (1, 2)
    assert parse_shard("auto", env={}) == (0, 1)
