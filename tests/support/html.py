"""Checks on the self-contained HTML leaderboard page."""

from __future__ import annotations

import re

#: Attributes that would make the page load something (it must load nothing).
URL_ATTRS = re.compile(r"""\b(?:src|href|xlink:href|action|poster|data)\s*=\s*["']?[^"'\s>]*""", re.I)
