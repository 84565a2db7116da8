"""Render a report in a format, and write it atomically (``var-bench report``)."""

from __future__ import annotations

import os
from typing import Any

from var_bench.errors import InputError
from var_bench.fsutil import atomic_write_text
from var_bench.report.build import Report, build_report
from var_bench.report.render import FORMATS, RENDERERS


def render_report(report: Report, fmt: str = "html") -> str:
    if fmt not in RENDERERS:
        raise InputError(f"report format: expected one of {', '.join(FORMATS)}, got {fmt!r}")
    return RENDERERS[fmt](report)


def write_report(
    submission: Any,
    benchmark: str,
    output: str | os.PathLike | None = None,
    fmt: str = "html",
    **kwargs: Any,
) -> str:
    """Build and render the report of a submission or record.

    Args:
        submission: a result record ``.json``, a submission file or an array.
        benchmark: the benchmark it is of.
        output: write the text here, atomically (None: only return it).
        fmt: ``html`` (one self-contained page), ``md`` or ``json``.
        kwargs: :func:`~var_bench.report.build.build_report`'s options (``task``, ``compare``,
            ``home``, ``results_dir``, ...).

    Returns:
        The rendered report.

    Raises:
        InputError: an unknown format, a record of another benchmark, a bad submission.

    Example:
        >>> html = write_report("sub.npy", "ucfcrime-ar", "report.html")  # doctest: +SKIP
    """
    if fmt not in RENDERERS:
        raise InputError(f"report format: expected one of {', '.join(FORMATS)}, got {fmt!r}")
    text = render_report(build_report(submission, benchmark, **kwargs), fmt)
    if output is not None:
        atomic_write_text(output, text)
    return text
