"""Which film or YouTube upload each XD-Violence video was cut from, read off its name.

XD-Violence names a video ``<SOURCE>__#<PART>_label_<CODES>``:

* ``SOURCE`` is the recording: a YouTube upload ``v=<id>`` (the id may hold ``-`` and ``_``),
  anything else a film title with dots (``Bad.Boys.1995``, ``Deadpool.2.2018``);
* ``PART`` is either the clip's span in the source, ``H-MM-SS_H-MM-SS`` (hours with one or two
  digits), or a clip number (``1``) when the name states no time.

Two clips are of the same source when their ``SOURCE`` parts are equal; they overlap in time when
both state spans and the spans share time.
"""

from __future__ import annotations

import re

from var_bench.benchmarks.kit import Clip
from var_bench.errors import DataError

#: The rule, as ``var-bench audit`` states it.
SOURCE_RULE = (
    "XD-Violence names are <SOURCE>__#<PART>_label_<CODES>: SOURCE is a YouTube upload (v=<id>) "
    "or a film title; PART is the clip's span in the source (H-MM-SS_H-MM-SS) or a clip number. "
    "Videos with equal SOURCE are clips of one recording."
)

_NAME = re.compile(r"^(?P<source>.+?)__#(?P<part>[^_]+(?:_[0-9]+-[0-9]{2}-[0-9]{2})?)_label_")
_SPAN = re.compile(r"^([0-9]{1,2})-([0-9]{2})-([0-9]{2})_([0-9]{1,2})-([0-9]{2})-([0-9]{2})$")
_NUMBER = re.compile(r"^[0-9]+$")
YOUTUBE = "youtube"
FILM = "film"


def xd_clip(video_id: str) -> Clip:
    """The source clip of one XD-Violence video id.

    Raises:
        DataError: a name that does not follow the rule (in one line).

    Example:
        >>> xd_clip("Taken.3.2014__#01-20-10_01-21-30_label_B1-0-0")
        Clip(video_id='Taken.3.2014__#01-20-10_01-21-30_label_B1-0-0', source='Taken.3.2014', \
kind='film', start_s=4810.0, end_s=4890.0)
        >>> xd_clip("v=UK--hvgP2uY__#1_label_G-0-0").source
        'v=UK--hvgP2uY'
    """
    m = _NAME.match(video_id)
    if not m:
        raise DataError(
            f"XD-Violence id: expected <SOURCE>__#<PART>_label_<CODES>, got {video_id!r}"
        )
    source, part = m.group("source"), m.group("part")
    kind = YOUTUBE if source.startswith("v=") else FILM
    span = _SPAN.match(part)
    if span:
        h1, m1, s1, h2, m2, s2 = (int(x) for x in span.groups())
        start, end = h1 * 3600 + m1 * 60 + s1, h2 * 3600 + m2 * 60 + s2
        if end <= start:
            raise DataError(
                f"XD-Violence id: expected a span that ends after it starts, got {video_id!r}"
            )
        return Clip(video_id, source, kind, float(start), float(end))
    if _NUMBER.match(part):
        return Clip(video_id, source, kind)
    raise DataError(
        f"XD-Violence id: expected a span H-MM-SS_H-MM-SS or a clip number after '__#', "
        f"got {part!r} in {video_id!r}"
    )
