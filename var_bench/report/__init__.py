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

from var_bench.report.build import Report, build_report  # noqa: F401
from var_bench.report.render import FORMATS  # noqa: F401
from var_bench.report.write import render_report, write_report  # noqa: F401

__all__ = ["FORMATS", "Report", "build_report", "render_report", "write_report"]
