"""A benchmark task's gold for one split, from the shipped checksums or the built dataset.

* ``identity`` gold (today's benchmarks: query i <-> video i): the size is the split's count (the
  test split's is declared by the benchmark; the others come from the built ids) and the id hash
  is the shipped checksum, so scoring a plain test matrix needs no download; the ids themselves
  are loaded from the built dataset only when a submission binds its own id order.
* ``table`` gold: the built split's query table (one row per query, its positives in
  ``video_ids``) and video table (the gallery), both checked against the hashes recorded at
  build time.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from var_bench.benchmarks import BenchmarkSpec
from var_bench.errors import InputError
from var_bench.tasks import Gold, IdList, Task

PathLike = str | os.PathLike


def load_gold(
    spec: BenchmarkSpec,
    task: Task,
    split: str = "test",
    *,
    ids: Sequence[str] | None = None,
    home: PathLike | None = None,
    mirror: str | None = None,
) -> Gold:
    """The gold of ``task`` of ``spec`` on ``split``.

    Args:
        spec: the benchmark.
        task: one of its tasks (``spec.task(name)``).
        split: ``train``, ``val`` or ``test``.
        ids: an identity task's canonical ids, instead of the built dataset's.
        home, mirror: where the built dataset is (or is built from) when it is needed.

    Returns:
        The :class:`~var_bench.tasks.gold.Gold`.

    Raises:
        InputError: ``ids`` of the wrong length for the split.
        NotBuiltError / DataError: the built dataset is needed but missing or edited.

    Example:
        >>> from var_bench.benchmarks import UCFCRIME_AR
        >>> g = load_gold(UCFCRIME_AR, UCFCRIME_AR.task(), "test")
        >>> g.is_identity, g.queries.n
        (True, 290)
    """
    kind = getattr(task, "gold", "identity")
    if kind == "identity":
        return _identity(spec, split, ids, home, mirror)
    if kind == "moments":  # the task builds its gold from the split's tables (tasks.moments)
        from var_bench.data.prepare import load_table

        table = load_table(spec.name, split, home=home, mirror=mirror)
        videos = (  # a benchmark of sentences has a video table; else the rows are the videos
            load_table(spec.name, split, home=home, mirror=mirror, videos=True)
            if "query_id" in table
            else None
        )
        return task.gold_from_tables(table, videos, spec.fps)
    from var_bench.data.prepare import gold_tables

    queries, gallery, positives = gold_tables(spec, split, home=home, mirror=mirror)
    return Gold.from_lists(queries, gallery, positives)


def _identity(
    spec: BenchmarkSpec,
    split: str,
    ids: Sequence[str] | None,
    home: PathLike | None,
    mirror: str | None,
) -> Gold:
    if ids is not None:
        ids = [str(i) for i in ids]
        want = spec.test_videos if split == "test" else None
        if want is not None and len(ids) != want:
            raise InputError(
                f"ids: expected {want} canonical ids for the {spec.name} {split} "
                f"split, got {len(ids)}"
            )
        return Gold.identity(IdList.of(ids))
    from var_bench.data.prepare import ids as built_ids
    from var_bench.data.splits import expected_ids_sha256

    cache: dict[str, list[str]] = {}

    def load() -> list[str]:
        if "ids" not in cache:
            cache["ids"] = list(built_ids(spec.name, split, home=home, mirror=mirror))
        return cache["ids"]

    n = spec.test_videos if split == "test" else None
    if n is None:
        n = len(load())
    return Gold.identity(IdList(n, expected_ids_sha256(spec, split), load))
