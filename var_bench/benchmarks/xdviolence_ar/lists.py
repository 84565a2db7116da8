"""XD-Violence's VGGish feature lists (``audio.list``, ``audio_test.list``) and the label codes
every video id carries.

Paths inside the lists are the original authors' absolute paths: only the last component means
anything (:func:`~var_bench.benchmarks.kit.basename`).
"""

from __future__ import annotations

import re
from pathlib import Path

from var_bench.benchmarks.kit import basename, read_lines
from var_bench.errors import DataError

_XD_SUFFIX = "__vggish.npy"
_XD_LABEL = re.compile(r"_label_([A-Z0-9]+(?:-[A-Z0-9]+)*)$")


def read_xd_list(path: str | Path) -> list[str]:
    """Video ids (stems) of an XD-Violence ``audio*.list``, in list order (the canonical order)."""
    ids = []
    for line in read_lines(path):
        name = basename(line)
        if not name.endswith(_XD_SUFFIX):
            raise DataError(
                f"{Path(path).name}: expected paths ending in {_XD_SUFFIX!r}, got {line!r}"
            )
        ids.append(name[: -len(_XD_SUFFIX)])
    return ids


def xd_label_codes(video_id: str) -> list[str]:
    """Label codes in a video id, ``0`` padding dropped: ``..._label_G-B2-0`` -> ``['G', 'B2']``."""
    m = _XD_LABEL.search(video_id)
    if not m:
        raise DataError(f"XD-Violence id: expected a '_label_<codes>' suffix, got {video_id!r}")
    return [c for c in m.group(1).split("-") if c != "0"]
