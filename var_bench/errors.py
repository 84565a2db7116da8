"""User-facing errors.

Every error a user can cause (bad input, a failed download, data not built yet) is a
:class:`VarBenchError` whose ``str()`` is one line saying what was expected and what arrived.
The CLI prints that line on stdout and stderr and exits with :attr:`VarBenchError.exit_code`;
library callers catch the exception.
"""

from __future__ import annotations

#: Characters of an error line at most.
MAX_MESSAGE = 600


class VarBenchError(Exception):
    """Base class: a one-line, user-facing message; exit code 1."""

    exit_code = 1

    def __init__(self, message: str) -> None:
        # One line, always: multi-line messages are what leaderboard users cannot read; and a
        # short one (a hostile input can make a value list run to megabytes).
        line = " ".join(str(message).split())
        if len(line) > MAX_MESSAGE:
            line = f"{line[:MAX_MESSAGE]}... ({len(line) - MAX_MESSAGE} more characters)"
        super().__init__(line)


class InputError(VarBenchError):
    """The user gave something the toolkit cannot accept (a bad submission, an unknown name)."""

    exit_code = 2


class DownloadError(VarBenchError):
    """An upstream file could not be fetched or did not verify (size, sha256, HTTP status).

    ``unreachable``: True when the host could not be reached at all (no name resolution, no
    route): retrying, or trying the next file, cannot help.
    """

    unreachable = False


class DataError(VarBenchError):
    """Upstream data did not parse or did not match the benchmark's expected facts."""


class NotBuiltError(VarBenchError):
    """The benchmark has not been downloaded and built in this data home yet."""


class EnvironmentFault(VarBenchError):
    """The machine, not the input: a read-only or full disk, a path that is not a folder, no
    permission, or another process holding the artefact's lock for longer than the wait limit.
    Exit code 3 (documented in docs/security.md)."""

    exit_code = 3


class Interrupted(VarBenchError):
    """The user stopped a long job (Ctrl-C); the message says whether a rerun resumes.
    Exit code 130, as a shell reports SIGINT."""

    exit_code = 130


def environment_fault(e: OSError, doing: str = "") -> EnvironmentFault:
    """One line for an :class:`OSError` of the file system: what failed, where, and why."""
    where = e.filename if e.filename is not None else ""
    why = e.strerror or type(e).__name__
    head = f"{doing}: " if doing else ""
    return EnvironmentFault(
        f"{head}{why}"
        + (f" ({where})" if where else "")
        + " - check the folder exists, is writable and has free space"
    )


class VarBenchWarning(UserWarning):
    """Something a user should know about an accepted input (e.g. a float16 submission, whose
    scores tie often, or a matrix that looks normalised across the query set)."""
