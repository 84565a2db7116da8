"""Videos -> encoded arrays on Ray Data: decoding on CPU workers, encoding on GPU workers.

:func:`map_videos` is the one engine-backed map that ``var-bench extract --ray`` and the zero-shot
encoders share. A video is decoded by ``decode(path)`` on a CPU worker into one model input, or
into a stream of chunks (model inputs encoded independently and concatenated on axis 0); each
chunk goes to an encoding worker, which builds its model once from ``encoder()`` (a factory, so
the model is loaded where it runs, on the worker's GPU when CUDA exists). The driver reassembles
each video's chunks in order and yields ``(video_id, encoded)`` in the order of ``items``.

Without :class:`RayOptions` the same functions run in the calling process, one chunk at a time:
that is the single-process reference, and the Ray path yields exactly its arrays (payloads travel
pickled, so nothing is cast or reshaped on the way).

:func:`write_shards` writes ``(video_id, [T, D] array)`` rows as the feature store's Arrow IPC
shards (:class:`~var_bench.features.store.ShardWriter`, ``data/<split>/part-NNNNN.arrow``, a
``datasets`` ``Array2D`` column), what ``datasets.Dataset.from_file`` and the store's readers map.
"""

from __future__ import annotations

import functools
import logging
import os
import pickle
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from var_bench.errors import InputError

log = logging.getLogger(__name__)

Encoded = np.ndarray | dict[str, np.ndarray]


@dataclass(frozen=True)
class RayOptions:
    """Where and how wide the Ray Data map runs.

    Attributes:
        address: a running cluster (``"auto"``, ``"ray://host:10001"``, ``"host:6379"``), or None
            for a local Ray started for the call (and shut down after it).
        decode_workers: concurrent decoding tasks (one CPU each).
        encode_workers: encoding actors (each loads the model once).
        num_gpus: GPUs per encoding actor; None: 1 when ``torch.cuda.is_available()``, else 0.
    """

    address: str | None = None
    decode_workers: int = 2
    encode_workers: int = 1
    num_gpus: float | None = None

    def __post_init__(self) -> None:
        if self.decode_workers < 1 or self.encode_workers < 1:
            raise InputError(
                f"ray workers: expected decode_workers >= 1 and encode_workers >= 1, got "
                f"{self.decode_workers}, {self.encode_workers}"
            )


def parse_ray(value: str | None) -> RayOptions | None:
    """The CLI's ``--ray [ADDRESS]``: None (no flag) -> None; ``""`` or ``"local"`` -> a local
    Ray; anything else -> that cluster address."""
    if value is None:
        return None
    text = str(value).strip()
    return RayOptions(address=None if text in ("", "local") else text)


def resolve_ray(ray: RayOptions | str | None, device: str, workers: int) -> RayOptions | None:
    """A library call's ``ray`` argument -> RayOptions, or None (no Ray).

    ``ray``: options (kept), or a string as :func:`parse_ray` reads it, whose decoding workers
    are then ``workers`` (at least 1). GPUs per encoding worker, unless the options set them: 1
    when ``device`` is ``cuda`` / ``cuda:N``, else 0.

    >>> resolve_ray("local", "cuda", 4)
    RayOptions(address=None, decode_workers=4, encode_workers=1, num_gpus=1)
    >>> resolve_ray(None, "cpu", 2) is None
    True
    """
    if ray is None:
        return None
    if isinstance(ray, RayOptions):
        opts = ray
    else:  # the CLI's --ray: decoding workers are --workers
        opts = replace(parse_ray(ray), decode_workers=max(1, workers))
    gpus = opts.num_gpus if opts.num_gpus is not None else (1 if device.startswith("cuda") else 0)
    return replace(opts, num_gpus=gpus)


# -- the two sides, as plain functions (what the single-process path runs too) ------------------


def _decode_rows(row: dict, decode: Callable) -> Iterator[dict]:
    """One video -> its chunk rows ``{"i", "k", "data"}`` then a closing row ``k = -1`` carrying
    the chunk count (or the pickled exception, re-raised on the driver in order)."""
    i, path = int(row["i"]), row["path"]
    n = 0
    try:
        out = decode(path)
        chunks = out if _is_stream(out) else (out,)
        for chunk in chunks:
            yield {"i": i, "k": n, "data": pickle.dumps(chunk, protocol=5), "error": b""}
            n += 1
    except Exception as e:  # handed to the driver: raised there, in the video's turn
        yield {"i": i, "k": -1, "data": pickle.dumps(n), "error": _pickled_error(e)}
        return
    yield {"i": i, "k": -1, "data": pickle.dumps(n), "error": b""}


def _is_stream(out: Any) -> bool:
    return not isinstance(out, (np.ndarray, dict)) and hasattr(out, "__iter__")


def _pickled_error(e: Exception) -> bytes:
    try:
        return pickle.dumps(e)
    except Exception:  # an unpicklable exception: its text survives
        return pickle.dumps(RuntimeError(f"{type(e).__name__}: {e}"))


class _EncodeActor:
    """An encoding worker: builds the model once, then encodes chunk rows (closing rows pass)."""

    def __init__(self, factory: Callable[[], Callable[[Any], Encoded]]) -> None:
        self.encode = factory()

    def __call__(self, row: dict) -> dict:
        if row["k"] < 0 or row["error"]:
            return row
        try:
            out = self.encode(pickle.loads(row["data"]))
            return {**row, "data": pickle.dumps(out, protocol=5)}
        except Exception as e:
            return {**row, "k": -2, "data": b"", "error": _pickled_error(e)}


# -- the map ------------------------------------------------------------------------------------


def map_videos(
    items: Sequence[tuple[str, str | os.PathLike]],
    decode: Callable[[str], Any],
    encoder: Callable[[], Callable[[Any], Encoded]],
    *,
    ray: RayOptions | None = None,
) -> Iterator[tuple[str, Encoded | None]]:
    """Decode and encode every video, on Ray Data when ``ray`` is given.

    Args:
        items: ``(video_id, path)`` pairs, in the order results are wanted.
        decode: ``path -> model input`` (an array or a dict of arrays), or ``path -> iterator of
            model inputs`` (chunks, encoded one by one); runs on CPU workers. Must be picklable
            (a module-level function or a ``functools.partial`` of one).
        encoder: a picklable factory, called once per encoding worker, returning
            ``encode(model input) -> array | dict of arrays``.
        ray: where to run (:class:`RayOptions`); None runs everything in this process.

    Returns:
        An iterator of ``(video_id, encoded)`` in the order of ``items``: the chunks' outputs
        concatenated on axis 0 (per key for dicts); None for a video that gave no chunk.

    Raises:
        Whatever ``decode`` or ``encode`` raised for a video, in that video's turn (earlier
        videos are yielded first). ModuleNotFoundError (``ray``): the ``ray`` extra is missing.

    Example:
        >>> import functools, numpy as np
        >>> decode = functools.partial(np.full, (2, 3))          # "path" -> a [2, 3] array
        >>> enc = functools.partial(functools.partial, np.multiply, 2.0)
        >>> [(v, x.tolist()) for v, x in map_videos([("a", 1), ("b", 4)], decode, enc)]
        [('a', [[2.0, 2.0, 2.0], [2.0, 2.0, 2.0]]), ('b', [[8.0, 8.0, 8.0], [8.0, 8.0, 8.0]])]
    """
    rows = [
        {"i": i, "path": str(p) if isinstance(p, os.PathLike) else p}
        for i, (_, p) in enumerate(items)
    ]
    if ray is None:
        stream = _local_rows(rows, decode, encoder)
        yield from _assemble(items, stream)
        return
    with _ray_session(ray):
        yield from _assemble(items, _ray_rows(rows, decode, encoder, ray))


def _local_rows(rows: list[dict], decode: Callable, encoder: Callable) -> Iterator[dict]:
    actor = None
    for row in rows:
        for r in _decode_rows(row, decode):
            if actor is None and r["k"] >= 0:
                actor = _EncodeActor(encoder)
            yield actor(r) if actor is not None else r


def _assemble(items: Sequence[tuple[str, Any]], stream: Iterable[dict]) -> Iterator:
    """Rows in any order -> ``(video_id, encoded)`` in the order of ``items``."""
    chunks: dict[int, dict[int, bytes]] = {}
    counts: dict[int, int] = {}
    errors: dict[int, bytes] = {}
    nxt = 0

    def ready(i: int) -> bool:
        return i in errors or (i in counts and len(chunks.get(i, {})) == counts[i])

    for row in stream:
        i, k = int(row["i"]), int(row["k"])
        if row["error"]:
            errors.setdefault(i, row["error"])
        elif k == -1:
            counts[i] = pickle.loads(row["data"])
        else:
            chunks.setdefault(i, {})[k] = row["data"]
        while nxt < len(items) and ready(nxt):
            if nxt in errors:
                raise pickle.loads(errors[nxt])
            parts = [pickle.loads(chunks[nxt][k]) for k in range(counts[nxt])]
            chunks.pop(nxt, None)
            yield items[nxt][0], _concat(parts)
            nxt += 1
    if nxt < len(items):  # the engine lost rows: a bug, not bad input
        raise RuntimeError(f"map_videos: {len(items) - nxt} videos came back incomplete")


def _concat(parts: list[Encoded]) -> Encoded | None:
    if not parts:
        return None
    if len(parts) == 1:
        return parts[0]
    if isinstance(parts[0], dict):
        return {key: np.concatenate([p[key] for p in parts]) for key in parts[0]}
    return np.concatenate(parts)


class _ray_session:
    """``ray.init`` for the call (a local Ray unless an address is given) unless Ray is already
    initialised; shuts down only what it started."""

    def __init__(self, opts: RayOptions) -> None:
        self.opts, self.started = opts, False

    def __enter__(self):
        import ray

        if not ray.is_initialized():
            local = {}
            if self.opts.address is None:
                # Logical CPUs for every worker asked for (encoders on CPU take one each), so a
                # small machine runs them all rather than waiting forever for a free CPU.
                cpu_encoders = self.opts.encode_workers if _gpus(self.opts) == 0 else 0
                need = self.opts.decode_workers + cpu_encoders
                local["num_cpus"] = max(os.cpu_count() or 1, need)
            ray.init(
                address=self.opts.address,
                **local,
                include_dashboard=False,
                log_to_driver=False,
                logging_level=logging.WARNING,
                ignore_reinit_error=True,
            )
            self.started = True
        return ray

    def __exit__(self, *exc) -> None:
        if self.started:
            import ray

            ray.shutdown()


def _gpus(opts: RayOptions) -> float:
    if opts.num_gpus is not None:
        return float(opts.num_gpus)
    try:
        import torch

        return 1.0 if torch.cuda.is_available() else 0.0
    except ImportError:
        return 0.0


def _ray_rows(rows: list[dict], decode, encoder, opts: RayOptions) -> Iterator[dict]:
    import ray.data

    ctx = ray.data.DataContext.get_current()
    ctx.enable_progress_bars = False
    ds = ray.data.from_items(rows, override_num_blocks=max(1, len(rows)))
    with warnings.catch_warnings():
        # Ray 2.60 deprecates scheduling_strategy among the remote args (removed in 2.64; the
        # ray extra pins below it): nothing a user of var-bench can act on.
        warnings.filterwarnings("ignore", message=".*ray_remote_args.*deprecated")
        ds = _stages(ray, ds, decode, encoder, opts)
    yield from ds.iter_rows()


def _stages(ray, ds, decode, encoder, opts: RayOptions):
    """Decoding tasks (CPU, spread over the nodes) -> encoding actors (GPU when asked)."""
    gpus = _gpus(opts)
    ds = ds.flat_map(
        functools.partial(_decode_rows, decode=decode),
        num_cpus=1,
        compute=ray.data.TaskPoolStrategy(size=opts.decode_workers),
        # Spread over the nodes; remote args unlike the encoders' also keep Ray Data from fusing
        # decoding into the encoding actors, so it has its own CPU workers even without GPUs.
        scheduling_strategy="SPREAD",
    )
    ds = ds.map(
        _EncodeActor,
        fn_constructor_args=(encoder,),
        compute=ray.data.ActorPoolStrategy(size=opts.encode_workers),
        num_gpus=gpus,
        num_cpus=1 if gpus == 0 else 0,
        scheduling_strategy="DEFAULT",
    )
    return ds


# -- Arrow shards -------------------------------------------------------------------------------


def write_shards(
    out: str | os.PathLike,
    split: str,
    rows: Iterable[tuple[str, np.ndarray]],
    column: str = "embedding",
    *,
    row_group_bytes: int | None = None,
    shard_bytes: int | None = None,
) -> list[str]:
    """Write ``(video_id, [T, D] float32)`` rows as Arrow IPC shards of the feature store's kind.

    Args:
        out: the folder; shards go to ``out/data/<split>/part-NNNNN.arrow`` (each written as
            ``.part`` and renamed when complete).
        split: the split name in the path.
        rows: ``(video_id, array)`` with arrays of one width D (T may differ per video).
        column: the array column's name.
        row_group_bytes, shard_bytes: the store's write sizes (its defaults when None).

    Returns:
        The shards' paths relative to ``out``.

    Raises:
        InputError: an array that is not 2-D or whose width differs from the first one's.

    Example:
        >>> import tempfile, datasets
        >>> d = tempfile.mkdtemp()
        >>> write_shards(d, "test", [("v1", np.ones((2, 4), np.float32))])
        ['data/test/part-00000.arrow']
        >>> list(datasets.Dataset.from_file(f"{d}/data/test/part-00000.arrow")["video_id"])
        ['v1']
    """
    from var_bench.features import store as S

    writer = None
    width = None
    try:
        for vid, arr in rows:
            a = np.ascontiguousarray(arr, dtype=np.float32)
            if a.ndim != 2 or (width is not None and a.shape[1] != width):
                raise InputError(
                    f"{vid}: expected a [T, {width or 'D'}] array to store, got shape {a.shape}"
                )
            if writer is None:
                width = a.shape[1]
                writer = S.ShardWriter(
                    Path(out),
                    split,
                    S.store_schema(_features(column, width)),
                    row_group_bytes or S.ROW_GROUP_BYTES,
                    shard_bytes or S.SHARD_BYTES,
                )
            writer.write([{"video_id": vid, column: a}])
    except BaseException:
        if writer is not None:
            writer.abort()
        raise
    return [] if writer is None else writer.close()


def _features(column: str, width: int):
    import datasets

    return datasets.Features(
        {"video_id": datasets.Value("string"), column: datasets.Array2D((None, width), "float32")}
    )
