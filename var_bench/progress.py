"""The one progress policy of every long job (download, build, synth, HDF5 export/import, train,
evaluate).

Three modes, decided once per job by :func:`progress_mode`:

- ``"bar"``: a tqdm bar on stderr. Chosen when ``progress`` is True, or when it is None (the
  default everywhere), the process is not quiet and stderr is a terminal.
- ``"log"``: no bar; one plain ``logging`` INFO line on logger ``var_bench.progress`` every
  ``log_every`` items and one when the job ends (``features: 120/1900 videos (6%), 4.1 s``).
  Chosen when ``progress`` is None, the process is not quiet and stderr is not a terminal (a pipe,
  a file, a batch job): a log then shows the job is alive.
- ``"off"``: nothing. Chosen when ``progress`` is False, or when it is None and the process is
  quiet (``var-bench --quiet``, :func:`set_quiet`).

The CLI sets quiet from ``--quiet`` and routes INFO records of ``var_bench`` to stderr, so the log
lines reach a batch log; library callers see them through their own ``logging`` configuration.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Iterable, Iterator
from typing import Any, TextIO

log = logging.getLogger("var_bench.progress")

#: Log lines per job in ``"log"`` mode when the total is known (one every tenth of the work).
LOG_LINES = 10
#: Items between two log lines when the total is unknown.
LOG_EVERY_UNKNOWN = 100

_quiet = False


def set_quiet(quiet: bool) -> None:
    """Make every job with ``progress=None`` silent (True) or not (False): ``--quiet``."""
    global _quiet
    _quiet = bool(quiet)


def is_quiet() -> bool:
    return _quiet


def _isatty(stream: TextIO | None) -> bool:
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty and isatty())
    except (ValueError, OSError):  # a closed or detached stream
        return False


def progress_mode(progress: bool | None = None, stream: TextIO | None = None) -> str:
    """``"bar"``, ``"log"`` or ``"off"`` for a job asked for ``progress`` (see the module doc).
    ``stream``: where a bar would go (default ``sys.stderr``)."""
    if progress is not None:
        return "bar" if progress else "off"
    if _quiet:
        return "off"
    return "bar" if _isatty(sys.stderr if stream is None else stream) else "log"


def show_bar(progress: bool | None = None, stream: TextIO | None = None) -> bool:
    """True when a job asked for ``progress`` should draw a bar (tqdm's ``disable`` is its
    negation)."""
    return progress_mode(progress, stream) == "bar"


def _plural(noun: str) -> str:
    """``videos``, ``batches``: the English plural of a unit name."""
    return noun + ("es" if noun.endswith(("s", "sh", "ch", "x", "z")) else "s")


class Progress:
    """A progress report over ``total`` items: a tqdm bar, periodic log lines, or nothing.

    Use it as tqdm: iterate it, or call :meth:`update`; close it (or use ``with``). ``log_every``:
    items between two log lines in ``"log"`` mode (default: a tenth of ``total``, else
    ``LOG_EVERY_UNKNOWN``; 0: only the closing line). ``tqdm_kw`` go to tqdm (``unit_scale``, ...).
    """

    def __init__(
        self,
        iterable: Iterable | None = None,
        *,
        total: int | None = None,
        desc: str = "",
        unit: str = "item",
        initial: int = 0,
        progress: bool | None = None,
        log_every: int | None = None,
        logger: logging.Logger | None = None,
        leave: bool = True,
        **tqdm_kw: Any,
    ) -> None:
        if total is None and iterable is not None and hasattr(iterable, "__len__"):
            total = len(iterable)  # type: ignore[arg-type]
        self.iterable, self.total, self.desc, self.unit = iterable, total, desc, unit
        self.n = initial
        self.mode = progress_mode(progress)
        self._log = logger or log
        if log_every is None:
            log_every = max(1, -(-total // LOG_LINES)) if total else LOG_EVERY_UNKNOWN
        self._every = log_every
        self._next_log = (initial // log_every + 1) * log_every if log_every else None
        self._t0 = time.perf_counter()
        self._postfix: dict[str, Any] = {}
        self._closed = False
        self.bar = None
        if self.mode == "bar":
            from tqdm.auto import tqdm

            self.bar = tqdm(
                total=total,
                initial=initial,
                desc=desc,
                unit=unit,
                file=sys.stderr,
                leave=leave,
                dynamic_ncols=True,
                **tqdm_kw,
            )

    def __iter__(self) -> Iterator:
        if self.iterable is None:
            raise TypeError("Progress: nothing to iterate (made without an iterable)")
        try:
            for item in self.iterable:
                yield item
                self.update(1)
        finally:
            self.close()

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, exc_type: Any, *exc: Any) -> None:
        if exc_type is not None and self.bar is None:
            self._closed = True  # a failed job: its error says enough, no closing count line
        self.close()

    def update(self, k: int = 1) -> None:
        """``k`` more items done."""
        self.n += k
        if self.bar is not None:
            self.bar.update(k)
        elif self.mode == "log" and self._next_log is not None and self.n >= self._next_log:
            self._line()
            self._next_log = (self.n // self._every + 1) * self._every

    def reset_to(self, n: int) -> None:
        """Set the count to ``n`` (a download that restarts or resumes)."""
        self.n = n
        if self.bar is not None:
            self.bar.n = n
            self.bar.refresh()

    def set_total(self, total: int) -> None:
        """The total learned once the job has started (a download's announced size)."""
        self.total = total
        if self.bar is not None:
            self.bar.total = total
            self.bar.refresh()

    def set_postfix(self, **values: Any) -> None:
        """Values shown after the count (``loss=0.12``): on the bar, and in the log lines."""
        self._postfix = values
        if self.bar is not None:
            self.bar.set_postfix(**values)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self.bar is not None:
            self.bar.close()
        elif self.mode == "log":
            self._line()

    def _line(self) -> None:
        share = f" ({100 * self.n / self.total:.0f}%)" if self.total else ""
        count = f"{self.n}/{self.total}" if self.total is not None else f"{self.n}"
        extra = "".join(f", {k} {v}" for k, v in self._postfix.items())
        unit = _plural(self.unit) if len(self.unit) > 2 and self.n != 1 else self.unit  # B
        self._log.info(
            "%s: %s %s%s, %.1f s%s",
            self.desc or "progress",
            count,
            unit,
            share,
            time.perf_counter() - self._t0,
            extra,
        )
