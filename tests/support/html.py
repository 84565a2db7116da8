"""Checks on the self-contained HTML leaderboard page."""

from __future__ import annotations

import re

#: An attribute that would make the browser fetch something; in-document references ("#id",
#: what matplotlib's SVG uses for markers and clip paths) are not fetches.
URL_ATTRS = re.compile(
    r"""\b(?:src|href|xlink:href|action|poster|data)\s*=\s*(?!["']?#)["']?[^"'\s>]*""", re.I
)
