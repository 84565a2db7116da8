"""``read_submission``: open a submission (:mod:`.formats`), check it (:mod:`.checks`) and
assemble it against a benchmark (:mod:`.assemble`)."""

from __future__ import annotations

from typing import Any

from var_bench.benchmarks import BenchmarkSpec, get_benchmark
from var_bench.tasks.retrieval.submission.assemble import Canon, Submission, assemble_submission, infer_benchmark
from var_bench.tasks.retrieval.submission.formats import open_submission


def read_submission(
    submission: Any,
    benchmark: str | BenchmarkSpec | None = None,
    *,
    split: str = "test",
    direction: str | None = None,
    canon: Canon | None = None,
    n: int | None = None,
) -> Submission:
    """Open, check and (for id-bound containers) reorder a submission.

    ``submission``: a path (``.npy``, ``.npz``, ``.pt``/``.pth``, ``.h5``/``.hdf5``; other suffixes
    are sniffed), an ndarray / np.memmap / torch tensor / :class:`MatrixSource`, or a dict of
    name -> matrix or id list. ``benchmark`` None: inferred from N (test split only). ``n``: the
    expected N (default: the benchmark's test size). ``canon``: the canonical ids, needed only
    when the submission carries id arrays in a non-canonical order. ``direction`` None: every
    direction the submission holds (both for one matrix; those named in the per-direction layout,
    so ``{"t2v": S}`` scores t2v only); else only that one (it must be there).
    """
    container = open_submission(submission, _torch_budget(n))
    try:
        spec = get_benchmark(benchmark) if benchmark is not None else infer_benchmark(container, split)
        directions = (spec.direction(direction).name,) if direction else None
        size = spec.test_size if n is None else int(n)
        sub = assemble_submission(container, spec, split, directions, size, canon)
    except BaseException:
        container.close()
        raise
    sub._closers.extend(container.closers)
    sub.provenance = container.provenance
    return sub


def _torch_budget(n: int | None) -> int:
    """Bytes a whole-file submission may hold: two float64 N x N matrices (N = ``n``, else the
    largest test split of any benchmark) plus 1 MiB for id arrays."""
    from var_bench.benchmarks import BENCHMARKS

    size = int(n) if n is not None else max(s.test_size for s in BENCHMARKS.values())
    return 2 * 8 * size * size + (1 << 20)
