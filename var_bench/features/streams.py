"""The stream vocabulary of the feature store: what a stream may be called, which streams are
query-side, and the order of a store's columns.

This is the one module of the feature stage that models import: they choose streams by name and
need nothing of how raw files are found (:mod:`.layouts`) or listed (:mod:`.listfiles`).

The tables that depend on the registered benchmarks (:func:`query_streams`,
:func:`known_streams`) are functions, read from the registry at each call: a benchmark, or a
video collection with its own layouts, registered after this module was imported is included.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from var_bench.benchmarks import BENCHMARKS, Layout
from var_bench.errors import InputError

#: The two I3D video streams every model knows (object, motion), in model order; models read any
#: other stream they are configured for (:func:`video_streams`).
VIDEO_STREAMS: tuple[str, ...] = ("rgb", "flow")
#: Store columns a stream may not be named after.
RESERVED_COLUMNS = frozenset(
    {
        "video_id",
        "num_snippets",
        "video_label",
        "snippet_labels",
        "index",
        "text",
        "class",
        "video",
        "audio_query",
    }
)
_STREAM_NAME = re.compile(r"^[a-z][a-z0-9_]{0,31}$")


def registered_layouts() -> Iterator[Layout]:
    """The raw layouts of every registered benchmark's video collection (each collection once),
    in registration order."""
    seen: set[str] = set()
    for spec in BENCHMARKS.values():
        if spec.videos.name not in seen:
            seen.add(spec.videos.name)
            yield from spec.layouts


def query_streams() -> frozenset[str]:
    """Streams fed by query-side (audio) layouts; every other stream is a video (gallery) stream.

    >>> "audio" in query_streams() and "rgb" not in query_streams()
    True
    """
    return frozenset(lay.stream for lay in registered_layouts() if lay.audio)


def known_streams() -> tuple[str, ...]:
    """Stream names of the registered layouts, in the order columns are written: rgb, flow, the
    other video streams, the query streams (a store may hold more: the vocabulary is open, see
    :func:`check_stream_name`)."""
    query = query_streams()
    others = (lay.stream for lay in registered_layouts() if not lay.audio)
    return tuple(dict.fromkeys((*VIDEO_STREAMS, *others, *sorted(query))))


def check_stream_name(name: str) -> str:
    """``name`` when it can name a stream column (lower-case identifier, not a reserved column,
    not ending in ``_len``), else InputError."""
    if not _STREAM_NAME.match(name or "") or name in RESERVED_COLUMNS or name.endswith("_len"):
        raise InputError(
            f"stream name: expected a lower-case identifier (letters, digits, _), not "
            f"one of {', '.join(sorted(RESERVED_COLUMNS))} nor ending in _len, "
            f"got {name!r}"
        )
    return name


def video_streams(streams: Iterable[str]) -> tuple[str, ...]:
    """The video (gallery-side) streams among ``streams``, in their order.

    >>> video_streams(["rgb", "audio", "clip"])
    ('rgb', 'clip')
    """
    query = query_streams()
    return tuple(s for s in streams if s not in query)


def order_streams(names: Iterable[str]) -> list[str]:
    """Column order of a store: rgb, flow, other video streams as found, query streams last.

    >>> order_streams(["audio", "clip", "flow", "rgb"])
    ['rgb', 'flow', 'clip', 'audio']
    """
    names = list(dict.fromkeys(names))
    query = query_streams()
    head = [s for s in VIDEO_STREAMS if s in names]
    tail = [s for s in names if s in query]
    return head + [s for s in names if s not in head and s not in tail] + tail
