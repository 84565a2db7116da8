"""``read_submission``: open a submission (:mod:`.formats`), check it (:mod:`.checks`) and
assemble it against a retrieval task and its gold (:mod:`.assemble`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from var_bench.tasks.gold import Gold
from var_bench.tasks.retrieval.submission.assemble import Submission, assemble_submission
from var_bench.tasks.retrieval.submission.formats import Container, open_submission


def read_submission(
    submission: Any,
    task: Any,
    gold: Gold,
    *,
    benchmark: str,
    split: str = "test",
    directions: Sequence[str] | None = None,
    container: Container | None = None,
) -> Submission:
    """Open, check and (for id-bound containers) reorder a submission.

    Args:
        submission: a path (``.npy``, ``.npz``, ``.pt``/``.pth``, ``.h5``/``.hdf5``; other
            suffixes are sniffed), an ndarray / np.memmap / torch tensor / MatrixSource, or a
            dict of name -> matrix or id list.
        task: the :class:`~var_bench.tasks.retrieval.task.Retrieval` task scored.
        gold: its gold for ``split``: the expected shape (queries x gallery items) and the
            canonical ids that id arrays in another order are bound to.
        benchmark: the benchmark's name, for messages.
        directions: None: every direction the submission holds (all for one matrix; those named
            in the per-direction layout, so ``{"t2v": S}`` scores t2v only); else only these.
        container: the submission already opened (:func:`open_submission`), if it was.

    Returns:
        The :class:`Submission` (a context manager closing open files).

    Raises:
        InputError: one line naming the input, what was expected and what arrived.
    """
    if container is None:
        container = open_submission(submission, budget(gold))
    try:
        wanted = tuple(task.direction(d).name for d in directions) if directions else None
        sub = assemble_submission(container, task, benchmark, split, wanted, gold)
    except BaseException:
        container.close()
        raise
    sub._closers.extend(container.closers)
    sub.provenance = container.provenance
    return sub


def budget(gold: Gold | None, n: int | None = None) -> int:
    """Bytes a whole-file (torch) submission may hold: two float64 Nq x Ng matrices plus 1 MiB for
    id arrays (``n``: a square N x N when no gold is known)."""
    rows, cols = (gold.queries.n, gold.gallery.n) if gold is not None else (n, n)
    return 2 * 8 * int(rows) * int(cols) + (1 << 20)
