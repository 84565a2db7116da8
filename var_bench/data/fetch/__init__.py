"""Fetch pinned upstream files, verified and never half-written: :func:`fetch` into the data
home's ``raw/`` cache (:func:`fetch_all` for several), :func:`fetch_to` to a chosen path (the
extractor's weights). ``api`` is the public API and the cache, ``partfile`` the resumable
``.part`` file, ``http`` the transport; docs/download.md tells the whole story."""

from var_bench.data.fetch.api import (  # noqa: F401
    cached_path,
    fetch,
    fetch_all,
    fetch_to,
    is_cached,
    location,
    partial_path,
    verifies,
)
from var_bench.data.fetch.http import (  # noqa: F401
    DEADLINE_ENV,
    DEFAULT_DEADLINE,
    RETRY_STATUSES,
    Pinned,
    RetryPolicy,
    unreachable_reason,
)
from var_bench.data.fetch.partfile import UNPINNED_LIMIT, part_of  # noqa: F401

__all__ = [
    "DEADLINE_ENV",
    "DEFAULT_DEADLINE",
    "RETRY_STATUSES",
    "UNPINNED_LIMIT",
    "Pinned",
    "RetryPolicy",
    "cached_path",
    "fetch",
    "fetch_all",
    "fetch_to",
    "is_cached",
    "location",
    "part_of",
    "partial_path",
    "unreachable_reason",
    "verifies",
]
