"""Plain-text upstream files: lines, fields per line, and the names inside them.

Paths inside the lists are the original authors' absolute paths (``/media/peng/...``, ``G:\\...``):
only the last component (and, for UCF, the class folder) means anything. Fields are separated by
runs of spaces/tabs, so lines are split with ``str.split()``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path


def read_lines(path: str | Path) -> list[str]:
    """Non-empty lines, stripped (CRLF and trailing blanks tolerated)."""
    with open(path, encoding="utf-8") as f:
        return [line.strip() for line in f if line.strip()]


def line_fields(path: str | Path) -> Iterator[tuple[str, list[str]]]:
    """(where, fields) per non-empty line; ``where`` names the file and line for errors."""
    for i, line in enumerate(read_lines(path), 1):
        yield f"{Path(path).name} line {i}", line.split()


def basename(p: str) -> str:
    """Last component of a POSIX or Windows path.

    >>> basename("G:\\\\c\\\\Abuse001_x264.mp4"), basename("/media/peng/a__0.npy")
    ('Abuse001_x264.mp4', 'a__0.npy')
    """
    return re.split(r"[\\/]", p)[-1]


def video_stem(name: str) -> str:
    """The video id in an annotation's name field: its last path component, less ``.mp4``.

    >>> video_stem("Arson/Arson011_x264.mp4"), video_stem("v=U6MC8JJJZSY__#1_label_G-0-0")
    ('Arson011_x264', 'v=U6MC8JJJZSY__#1_label_G-0-0')
    """
    name = basename(name)
    return name[:-4] if name.lower().endswith(".mp4") else name
