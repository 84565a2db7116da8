"""List files (``--list [STREAM=]FILE``): the videos to take, named as upstream code names them.

An RTFM / XDVioDet ``.list`` (one path a line) or a VadCLIP ``path,label`` CSV. The paths were
written on someone else's machine, so each is resolved here: as written when it exists, else
re-rooted under the stream's folder (docs/features.md, "List files").
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Annotated

from pydantic import Field

from var_bench.errors import InputError
from var_bench.limits import bound, refuse
from var_bench.readback import read_text, validate

#: A listed path: no control character (NUL, newline, escape ...).
PATH_PATTERN = r"^[^\x00-\x1f\x7f]+$"


@dataclass(frozen=True)
class ListRow:
    """The schema of one row of a list file: its ``line`` number and the ``path`` it names (a
    ``.list`` line, or a CSV line's first column; ``label``: the CSV's second column, when
    present). Each row is validated against it, so a bad one is one line naming the file, the
    line and the field; the line's length is bounded before (``list_line``)."""

    line: Annotated[int, Field(ge=1)]
    path: Annotated[str, Field(min_length=1, pattern=PATH_PATTERN)]
    label: str | None = None


def read_list(path: str | os.PathLike) -> list[tuple[int, str]]:
    """``(line number, path text)`` of a feature list: an RTFM / XDVioDet ``.list`` (one path a
    line) or a VadCLIP ``path,label`` CSV (the first column; a ``path`` header is skipped). Blank
    lines and ``#`` comments are skipped; Windows separators become ``/``."""
    path = Path(path)
    try:
        text = read_text(path, "--list", "utf-8-sig")
    except OSError as e:
        raise InputError(f"--list {path}: expected a readable text file, got {e}") from None
    out = []
    longest = bound("list_line")
    for no, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if len(line) > longest:
            raise refuse("list_line", f"--list {path} line {no}", f"{len(line)} characters")
        row = {"line": no, "path": line}
        if "," in line and not line.endswith(".npy"):
            first, label = (c.strip().strip('"') for c in line.split(",", 1))
            if first.lower() == "path":
                continue
            row = {"line": no, "path": first, "label": label}
        got = validate(ListRow, row, f"--list {path} line {no}")
        out.append((got.line, got.path.replace("\\", "/")))
    if not out:
        raise InputError(f"--list {path}: expected one feature path per line, found none")
    return out


def resolve_listed(text: str, root: Path, list_dir: Path) -> Path | None:
    """Where a listed path is on this machine: as written when it exists (absolute, or relative
    to the list's folder or to ``root``); else re-rooted under ``root``: the longest tail of its
    components that exists there (``/media/peng/x/RGBTest/a__0.npy`` -> ``root/RGBTest/a__0.npy``,
    else ``root/a__0.npy``). None when no candidate exists (the list reader then looks the file
    name up anywhere under ``root``, when it is unique there). A path as written outside ``root``
    is never used: InputError when it exists and no re-rooted file does."""
    win = PureWindowsPath(text)
    parts = [
        p
        for p in (win.parts[1:] if win.drive else PurePosixPath(text).parts)
        if p not in ("/", "", ".", "..")
    ]
    p = Path(text)
    outside = None
    if not win.drive:
        for cand in [p] if p.is_absolute() else [list_dir / p, root / p]:
            if cand.is_file():
                if _inside(cand, root):
                    return cand
                outside = cand
    for i in range(len(parts)):
        cand = root.joinpath(*parts[i:])
        if cand.is_file():
            return cand
    if outside is not None:
        raise InputError(
            f"expected a path under the stream's folder {root} (listed paths are re-rooted "
            f"there), got {text} (outside it, with no file of that name under it)"
        )
    return None


def _inside(path: Path, root: Path) -> bool:
    """``path`` lies under ``root``, lexically (``..`` collapsed; links inside ``root`` are part
    of the tree, as the build follows them)."""
    a, r = os.path.normpath(os.path.abspath(path)), os.path.normpath(os.path.abspath(root))
    return a == r or a.startswith(r.rstrip(os.sep) + os.sep)
