"""Entry point of one process of the 2-process DDP test (imported by torch.multiprocessing)."""

from __future__ import annotations

import json
import os


def run(rank: int, world: int, port: int, out: str) -> None:
    os.environ.update(
        {
            "WORLD_SIZE": str(world),
            "RANK": str(rank),
            "LOCAL_RANK": str(rank),
            "MASTER_ADDR": "127.0.0.1",
            "MASTER_PORT": str(port),
        }
    )
    import torch
    import torch.distributed as dist

    torch.set_num_threads(1)
    from var_bench.training.trainer import train

    from .tiny import FakeFeatureDataset

    res = train(
        "tiny-test",
        "ucfcrime-ar",
        out=out,
        device="cpu",
        data={"train": FakeFeatureDataset(64, seed=1), "val": FakeFeatureDataset(16, seed=2)},
        overrides=["train.epochs=2", "train.batch_size=8", "train.lr=0.01", "train.log_every=1"],
    )
    with open(os.path.join(out, f"rank{rank}.json"), "w") as f:
        json.dump(
            {
                "epochs": res.epochs_run,
                "steps": res.history[-1]["step"],
                "losses": [h["train"]["loss"] for h in res.history],
            },
            f,
        )
    dist.destroy_process_group()
