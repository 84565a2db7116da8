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


def write_report(submission: Any, benchmark: str, output: str | os.PathLike | None = None,
                 fmt: str = "html", **kwargs: Any) -> str:
    """Build and render the report; write it atomically to ``output`` when given."""
    if fmt not in RENDERERS:
        raise InputError(f"report format: expected one of {', '.join(FORMATS)}, got {fmt!r}")
    text = render_report(build_report(submission, benchmark, **kwargs), fmt)
    if output is not None:
        atomic_write_text(output, text)
    return text
