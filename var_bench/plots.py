"""matplotlib figures as inline SVG for self-contained HTML pages (leaderboard and report).

Figures are drawn with the non-interactive Agg/SVG backend and written as SVG with text kept as
``<text>`` (``svg.fonttype = none``: the page's sans-serif font renders it, and the strings stay
searchable). :func:`inline_svg` removes what an ``<svg>`` inside HTML does not need and what would
name a URL: the XML prolog, the DOCTYPE, the ``<metadata>`` block and the namespace attributes.
Only in-document references (``#id``) remain. Every label is passed through :func:`plain_label`
so a method name is never read as mathtext.
"""

from __future__ import annotations

import io
import itertools
import re
from collections.abc import Iterator
from typing import Any

_counter = itertools.count()

#: Series colours: Tableau 10 without its grey, pink and olive (too close to red and yellow),
#: plus navy and wine; pairwise CIE76 colour difference >= 28 (tests check it). None is grey or
#: black, so a series never looks like text, axes or grid lines.
PALETTE: tuple[str, ...] = (
    "#4e79a7",
    "#f28e2b",
    "#e15759",
    "#76b7b2",
    "#59a14f",
    "#edc948",
    "#b07aa1",
    "#9c755f",
    "#393b79",
    "#8e0152",
)
TEXT = "#222222"
GRID = "#e3e3e3"
AXIS = "#555555"


def palette_colour(n: int) -> str:
    """The ``n``-th series colour: the palette, then golden-angle hues at mid lightness."""
    import colorsys

    if n < len(PALETTE):
        return PALETTE[n]
    r, g, b = colorsys.hls_to_rgb(((n - len(PALETTE)) * 0.381966) % 1.0, 0.45, 0.65)
    return f"#{round(r * 255):02x}{round(g * 255):02x}{round(b * 255):02x}"


def plain_label(text: Any) -> str:
    """``text`` for a matplotlib label: one line, ``$`` escaped (no mathtext), at most 60 chars."""
    s = " ".join(str(text).split())
    s = s if len(s) <= 60 else s[:59] + "…"
    return s.replace("$", r"\$")


def pyplot():
    """matplotlib's pyplot on the Agg backend, or a one-line error naming the extra."""
    try:
        import matplotlib
    except ImportError:
        from var_bench.errors import InputError

        raise InputError(
            "plots: expected matplotlib, which is not installed (pip install -e '.[report]' "
            "in the var_bench checkout)"
        ) from None
    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return plt


def style() -> dict[str, Any]:
    """rcParams every figure is drawn with (pass to ``matplotlib.rc_context``)."""
    return {
        "svg.fonttype": "none",
        "svg.hashsalt": f"vb{next(_counter)}",  # unique clip-path/marker ids per figure on a page
        "font.family": "sans-serif",
        "font.size": 10,
        "text.color": TEXT,
        "axes.edgecolor": AXIS,
        "axes.labelcolor": TEXT,
        "xtick.color": TEXT,
        "ytick.color": TEXT,
        "axes.grid": True,
        "grid.color": GRID,
        "grid.linewidth": 0.8,
        "axes.axisbelow": True,
        "figure.facecolor": "#ffffff",
        "savefig.facecolor": "#ffffff",
        "text.usetex": False,
        # Keep every data point: a curve's path must be its data (tests read it back).
        "path.simplify": False,
    }


_STRIP = [
    re.compile(r"<\?xml[^>]*\?>\s*"),
    re.compile(r"<!DOCTYPE[^>]*>\s*"),
    re.compile(r"<metadata>.*?</metadata>\s*", re.S),
    re.compile(r'\s+xmlns(?::\w+)?="[^"]*"'),
]


def inline_svg(fig, css_class: str, label: str) -> str:
    """``fig`` as an ``<svg>`` element for inline HTML (see the module docstring); closes it.

    The element gets ``class`` and an ``aria-label`` (HTML-escaped) and scales with its container
    (``width: 100%`` via CSS, the viewBox keeps the aspect ratio).
    """
    from html import escape

    plt = pyplot()
    buf = io.StringIO()
    fig.savefig(
        buf, format="svg", metadata={"Date": None, "Creator": None, "Format": None, "Type": None}
    )
    plt.close(fig)
    svg = buf.getvalue()
    for pattern in _STRIP:
        svg = pattern.sub("", svg)
    svg = svg.replace("xlink:href=", "href=")
    svg = re.sub(
        r"<svg\b",
        f'<svg class="{escape(css_class)}" role="img" aria-label="{escape(label)}"',
        svg,
        count=1,
    )
    return svg.strip()


def figure(width_in: float, height_in: float, ncols: int = 1, nrows: int = 1) -> Iterator:
    """(fig, axes) with the shared style applied (a context manager)."""
    import contextlib

    plt = pyplot()
    import matplotlib

    @contextlib.contextmanager
    def _ctx():
        with matplotlib.rc_context(style()):
            fig, axes = plt.subplots(nrows, ncols, figsize=(width_in, height_in), squeeze=False)
            yield fig, axes

    return _ctx()
