"""Protocol guards on a submission's values: warnings for matrices that are legal to score but
suggest the ranking was not made from raw model scores.

Exactly-zero cells: a fusion script that keeps each query's top-k list and pads the rest with 0
(seen in a public UCFCrime-AR fusion script) turns every unlisted item into a tie, so its R@K
depends on the tie rule and its MdR on how many items were listed. Raw float scores of a
retrieval model are essentially never exactly 0.0, so a large share of such cells is worth a
warning in the record (and a flag on the leaderboard).
"""

from __future__ import annotations

import numpy as np

from var_bench.tasks.retrieval.matrix import MatrixSource
from var_bench.tasks.retrieval.submission.assemble import Submission

#: Warn when at least this share of S's cells is exactly 0.0 (a top-10 list padded with zeros
#: on UCFCrime-AR leaves 280 / 290 = 97 % zeros; raw float scores leave ~0 %).
ZERO_SHARE = 0.10
#: Only matrices up to this size are read once more for the check (every benchmark size).
ZERO_CHECK_MAX_N = 4096
_BLOCK_BYTES = 1 << 20


def zero_share(source: MatrixSource) -> float:
    """Fraction of cells of ``source`` equal to exactly 0 (reads S once, one row block at a
    time)."""
    rows, cols = source.shape
    if rows * cols == 0:
        return 0.0
    step = max(1, _BLOCK_BYTES // max(1, cols * source.dtype.itemsize))
    zeros = 0
    for i0 in range(0, rows, step):
        zeros += int(np.count_nonzero(source.read_rows(i0, min(i0 + step, rows)) == 0))
    return zeros / (rows * cols)


def zero_cell_warnings(sub: Submission) -> list[str]:
    """One warning per matrix of ``sub`` whose share of exactly-zero cells is >=
    :data:`ZERO_SHARE`."""
    if max(sub.shape) > ZERO_CHECK_MAX_N:
        return []
    sources = ([(sub.label, sub.joint)] if sub.joint is not None else []) + [
        (f"{sub.label}[{name!r}]", src) for name, src in sub.by_direction.items()
    ]
    found = []
    for label, src in sources:
        share = zero_share(src)
        if share >= ZERO_SHARE:
            found.append(
                f"{label}: {100 * share:.1f}% of the cells are exactly 0 (expected raw model "
                f"scores): a top-k list padded with zeros ties every unlisted item, so R@K depends "
                f"on the tie rule; disclose how the matrix was made"
            )
    return found
