"""``var-bench report``: one self-contained page showing where a model fails.

>>> from var_bench.report import build_report, render_report   # doctest: +SKIP
>>> render_report(build_report("sub.npy", "ucfcrime-ar"), "html")  # doctest: +SKIP

The page: the metric table with intervals and the nearest leaderboard rows with their tier;
recall@K curves for K = 1..N in both directions, the rank histogram, R@10 per class and for
anomalous vs normal videos (bars with Wilson intervals); the hardest queries with their caption
(or id), the true item's rank and the top-5 retrieved items with their captions and classes
(duplicate captions and tied queries marked); with a second model, the paired comparison and
the queries where the two differ most. ``md`` is the text version, ``json`` the data behind it.
"""

from __future__ import annotations

import os
from typing import Any

from var_bench.errors import InputError
from var_bench.fsutil import atomic_write_text
from var_bench.report.build import Report, build_report
from var_bench.report.render import FORMATS, RENDERERS

__all__ = ["FORMATS", "Report", "build_report", "render_report", "write_report"]


def render_report(report: Report, fmt: str = "html") -> str:
    if fmt not in RENDERERS:
        raise InputError(f"report format: expected one of {', '.join(FORMATS)}, got {fmt!r}")
    return RENDERERS[fmt](report)


def write_report(submission: Any, benchmark: str, output: str | os.PathLike | None = None,
                 fmt: str = "html", **kwargs: Any) -> str:
    """Build and render the report; write it atomically to ``output`` when given."""
    if fmt not in RENDERERS:
        raise InputError(f"report format: expected one of {', '.join(FORMATS)}, got {fmt!r}")
    text = render_report(build_report(submission, benchmark, **kwargs), fmt)
    if output is not None:
        atomic_write_text(output, text)
    return text
