"""UCFCrime-AR captions: the two upstream ``.xlsx`` files of Roc-Ng/VAR.

Quirks handled (docs/data.md, "the upstream quirks the build repairs"): the sheet is named
``sheet1`` in train and ``Sheet1`` in test, so the first sheet is opened by index; test has two
empty trailing columns; most ``Video Name`` cells end in a stray newline; some captions are shared
by several videos (kept as they are: retrieval still has exactly one positive per query).
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath

import openpyxl
import pandas as pd

from var_bench.errors import DataError

NAME_COL, ZH_COL, EN_COL = "Video Name", "Chinese Text", "English Text"


def _clean(value: object) -> str:
    return "" if value is None else " ".join(str(value).split())


def read_captions(path: str | Path) -> pd.DataFrame:
    """Rows of one captions workbook, in upstream row order.

    Columns: ``upstream_index`` (0-based data row), ``video_path`` (``Class/Name.mp4``, stripped),
    ``folder`` (its first component), ``video_id`` (file stem), ``caption_en``, ``caption_zh``
    (whitespace runs folded to one space). Raises :class:`DataError` on a missing column, an empty
    name or caption, or a repeated video.
    """
    name = Path(path).name
    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as e:  # openpyxl raises several unrelated types for a bad file
        raise DataError(
            f"{name}: expected an .xlsx workbook, got an unreadable file ({e})"
        ) from None
    try:
        rows = wb.worksheets[0].iter_rows(values_only=True)
        header = [_clean(c) for c in next(rows, ())]
        missing = [c for c in (NAME_COL, ZH_COL, EN_COL) if c not in header]
        if missing:
            raise DataError(
                f"{name}: expected columns {NAME_COL!r}, {ZH_COL!r}, {EN_COL!r}, "
                f"got header {header}"
            )
        i_name, i_zh, i_en = (header.index(c) for c in (NAME_COL, ZH_COL, EN_COL))
        records = []
        for row in rows:
            if row is None or all(c is None or not str(c).strip() for c in row):
                continue  # trailing empty rows some spreadsheet tools leave behind
            video_path = str(row[i_name] or "").strip()
            rec = {
                "upstream_index": len(records),
                "video_path": video_path,
                "caption_en": _clean(row[i_en]),
                "caption_zh": _clean(row[i_zh]),
            }
            if not video_path or not rec["caption_en"] or not rec["caption_zh"]:
                raise DataError(
                    f"{name}: expected a video name and two captions in data row "
                    f"{len(records) + 1}, got {row[:3]!r}"
                )
            records.append(rec)
    finally:
        wb.close()
    df = pd.DataFrame.from_records(records)
    parts = df["video_path"].map(PurePosixPath)
    df["folder"] = parts.map(lambda p: p.parts[0] if len(p.parts) > 1 else "")
    df["video_id"] = parts.map(lambda p: p.stem)
    dup = df["video_id"][df["video_id"].duplicated()]
    if len(dup):
        raise DataError(f"{name}: expected each video once, got {dup.iloc[0]!r} more than once")
    return df
