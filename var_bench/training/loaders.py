"""Opening a split and batching it for a model: the data side of training and evaluation.

Both paths take the same typed settings: the run's :class:`~var_bench.training.config.RunConfig`
(``train`` for batch sizes and workers, ``data`` for crops and the snippet cap) and the
:class:`~var_bench.models.base.ModelContext` the model was built in. Collate options come from the
model (``loader_options()`` in training, ``eval_loader_options()`` at evaluation);
``data.max_snippets`` caps them: a video longer than
``min(model's max_snippets, data.max_snippets)`` snippets is average-pooled to that many.

An epoch is one pass over the train split, or, with ``train.samples_per_epoch = K``, K items drawn
from an endless stream of replacement-free reshuffles (MMT's 32k-sample epochs): every item is seen
once per pass, and a pass that straddles two epochs continues where it stopped.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, Sampler

from var_bench.benchmarks import BenchmarkSpec
from var_bench.errors import InputError
from var_bench.features.streams import video_streams
from var_bench.loaders import FeatureDataset, make_collate
from var_bench.models.base import ModelContext, RetrievalModel
from var_bench.training.config import RunConfig
from var_bench.training.runtime import Dist, seed_everything


def open_split(spec: BenchmarkSpec, split: str, home, crop: str) -> Dataset:
    """The feature-store dataset of one split (raises NotBuiltError with the build hint)."""
    return FeatureDataset.from_benchmark(spec.name, split, home=home, crop=crop)


def infer_context(
    spec: BenchmarkSpec, dataset: Dataset, text_model: str, device: torch.device
) -> ModelContext:
    """Streams and feature sizes from the first item of ``dataset``."""
    if len(dataset) == 0:
        raise InputError(f"{spec.name}: expected a non-empty train split, got 0 videos")
    item = dataset[0]
    # The stream vocabulary is open (rgb, flow, clip, text_emb, ...): the dataset says which it has.
    present = tuple(
        getattr(dataset, "streams", None)
        or (
            s
            for s in item
            if isinstance(item[s], np.ndarray) and np.ndim(item[s]) == 2 and s != "snippet_labels"
        )
    )
    streams = video_streams(present)
    dims = {s: int(np.shape(item[s])[-1]) for s in present if s in item}
    if not streams:
        raise InputError(
            f"{spec.name}: expected video features (rgb, flow) in the dataset, got "
            f"keys {', '.join(sorted(item))}"
        )
    if spec.query_modality == "audio" and "audio" not in item:
        raise InputError(
            f"{spec.name}: expected audio features for the audio queries, got none "
            f"(build the feature store with --audio DIR)"
        )
    return ModelContext(
        benchmark=spec,
        query_modality=spec.query_modality,
        streams=streams,
        dims=dims,
        text_model=text_model,
        device=device,
    )


def collate_streams(
    model: RetrievalModel, ctx_streams: Sequence[str], query_modality: str
) -> tuple[str, ...]:
    """Streams to batch: the model's video streams plus the audio query on XDViolence-AR."""
    wanted = tuple(model.streams)
    if query_modality == "audio" and "audio" not in wanted:
        wanted += ("audio",)
    available = tuple(ctx_streams) + (("audio",) if query_modality == "audio" else ())
    missing = [s for s in wanted if s not in available]
    if missing:
        raise InputError(
            f"{model.name}: expected streams {', '.join(wanted)} in the feature store, "
            f"got {', '.join(available)} (missing {', '.join(missing)})"
        )
    return wanted


def collate_options(model_options: dict, cfg: RunConfig) -> dict:
    """The model's collate options with ``data.max_snippets`` applied as a cap (the smaller of
    the two wins; None on one side leaves the other)."""
    opts = {k: v for k, v in model_options.items() if k != "streams"}
    cap = cfg.data.max_snippets
    if cap is not None:
        own = opts.get("max_snippets")
        opts["max_snippets"] = cap if own is None else min(int(own), int(cap))
    return opts


#: Worker counts whose oversubscription check already ran in this process (torch warns on every
#: new iterator; once is enough).
_WORKERS_CHECKED: set[int] = set()


class _DataLoader(DataLoader):
    """``DataLoader`` whose "this DataLoader will create N worker processes" warning is given
    once per process and worker count, not once per epoch and split."""

    def check_worker_number_rationality(self) -> None:
        if self.num_workers in _WORKERS_CHECKED:
            return
        _WORKERS_CHECKED.add(self.num_workers)
        super().check_worker_number_rationality()


def _worker_init(worker_id: int) -> None:
    # DataLoader seeds torch per worker; derive Python's and NumPy's from it.
    seed_everything(torch.initial_seed() % (2**32))


class EpochSampler(Sampler[int]):
    """``samples`` indices of epoch ``epoch`` from an endless sequence of permutations of
    ``range(n)``: permutation p is drawn from ``seed`` and p, and epoch e takes positions
    ``[e * samples, (e + 1) * samples)`` of their concatenation (no replacement within a pass).
    A pure function of (n, samples, seed, epoch), so a resumed run draws the same items."""

    def __init__(self, n: int, samples: int, seed: int, epoch: int) -> None:
        self.n, self.samples, self.seed, self.epoch = int(n), int(samples), int(seed), int(epoch)

    def __len__(self) -> int:
        return self.samples

    def __iter__(self) -> Iterator[int]:
        start = self.epoch * self.samples
        stop = start + self.samples
        for p in range(start // self.n, math.ceil(stop / self.n)):
            perm = torch.randperm(
                self.n,
                generator=torch.Generator().manual_seed(
                    int(np.random.SeedSequence([self.seed, p]).generate_state(1)[0])
                ),
            )
            lo, hi = max(start - p * self.n, 0), min(stop - p * self.n, self.n)
            yield from perm[lo:hi].tolist()


def build_train_loader(
    model: RetrievalModel,
    dataset: Dataset,
    streams: Sequence[str],
    cfg: RunConfig,
    seed: int,
    dist: Dist,
    epoch: int,
) -> DataLoader:
    """Batches of ``cfg.train.batch_size`` per process for epoch ``epoch``: a shuffled pass, or
    ``samples_per_epoch`` items (see the module docstring). The last incomplete batch is dropped
    when there is more than one batch (a batch of one has no negatives)."""
    tc = cfg.train
    collate = make_collate(
        streams=tuple(streams), seed=seed, **collate_options(model.loader_options(), cfg)
    )
    generator = torch.Generator().manual_seed(seed)
    sampler: Sampler[int] | None = None
    if tc.samples_per_epoch is not None:
        per_process = math.ceil(tc.samples_per_epoch / dist.world_size)
        # Each rank takes its own slice of the global stream of samples (rank r: every world-th).
        sampler = _Strided(
            EpochSampler(len(dataset), per_process * dist.world_size, tc.seed, epoch),
            dist.rank,
            dist.world_size,
        )
    elif dist.enabled:
        from torch.utils.data.distributed import DistributedSampler

        per_process = math.ceil(len(dataset) / dist.world_size)
        sampler = DistributedSampler(
            dataset,
            num_replicas=dist.world_size,
            rank=dist.rank,
            shuffle=True,
            seed=tc.seed,
            drop_last=True,
        )
        sampler.set_epoch(epoch)
    else:
        per_process = len(dataset)
    drop_last = per_process > tc.batch_size
    return _DataLoader(
        dataset,
        batch_size=tc.batch_size,
        shuffle=sampler is None,
        sampler=sampler,
        collate_fn=collate,
        num_workers=tc.num_workers,
        generator=generator,
        drop_last=drop_last,
        worker_init_fn=_worker_init if tc.num_workers else None,
        persistent_workers=False,
        pin_memory=False,
    )


class _Strided(Sampler[int]):
    """Every ``step``-th index of ``inner`` from ``offset`` (one rank's share)."""

    def __init__(self, inner: Sampler[int], offset: int, step: int) -> None:
        self.inner, self.offset, self.step = inner, offset, step

    def __len__(self) -> int:
        return len(range(self.offset, len(self.inner), self.step))

    def __iter__(self) -> Iterator[int]:
        for i, idx in enumerate(self.inner):
            if i % self.step == self.offset:
                yield idx


def build_eval_loader(
    model: RetrievalModel,
    dataset: Dataset,
    ctx: ModelContext,
    cfg: RunConfig,
    batch_size: int | None = None,
) -> DataLoader:
    """Batches in split order with the model's deterministic ``eval_loader_options()``."""
    streams = collate_streams(model, ctx.streams, ctx.query_modality)
    collate = make_collate(
        streams=streams, seed=0, **collate_options(model.eval_loader_options(), cfg)
    )
    return _DataLoader(
        dataset,
        batch_size=batch_size or cfg.train.eval_batch_size,
        shuffle=False,
        collate_fn=collate,
        num_workers=cfg.train.num_workers,
    )
