"""The ``var-bench`` click group and the one place errors and warnings reach the terminal.

Commands parse arguments and call one library function each. Errors a user can cause are
:class:`~var_bench.errors.VarBenchError`: one line on stdout and on stderr (leaderboard users
often see only one of them; when both reach the same terminal, file or pipe, once), the error's
exit code, never a traceback. A usage error names the command's own ``--help``. A command whose
optional extra is not installed says which extra to install (exit code 2). Library warnings
(``warnings.warn``) become one ``warning:`` line each on stderr.

Logging: INFO records of ``var_bench`` (progress lines on a pipe, per-epoch lines of ``train``)
reach stderr unless ``--quiet``; ``-v`` adds INFO of other libraries, ``-vv`` DEBUG.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import warnings
from typing import Any

import click

from var_bench._version import __version__
from var_bench.errors import VarBenchError, environment_fault

PROG = "var-bench"
DEBUG_ENV = "VAR_BENCH_DEBUG"


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name=PROG)
@click.option(
    "-v", "--verbose", count=True, help="More log output (-v info of every library, -vv debug)."
)
@click.option(
    "-q",
    "--quiet",
    is_flag=True,
    help="No progress bars or progress/info lines; warnings and errors only.",
)
def cli(verbose: int, quiet: bool) -> None:
    """Video Anomaly Retrieval benchmarks: download, build, load, score, compare, rank."""
    configure_logging(verbose, quiet)


class _LogHandler(logging.Handler):
    """Log records on stderr, written between tqdm bars (``tqdm.write``) so a bar stays whole."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            from tqdm import tqdm

            tqdm.write(self.format(record), file=sys.stderr)
        except Exception:  # noqa: BLE001 - logging must never raise
            self.handleError(record)


class _Formatter(logging.Formatter):
    """INFO of var_bench as the plain message; everything else ``LEVEL logger: message``."""

    def format(self, record: logging.LogRecord) -> str:
        if record.levelno == logging.INFO and record.name.startswith("var_bench"):
            return record.getMessage()
        return f"{record.levelname} {record.name}: {record.getMessage()}"


def configure_logging(verbose: int = 0, quiet: bool = False) -> None:
    """Route log records to stderr: var_bench's INFO and up (WARNING and up with ``quiet``),
    other libraries' WARNING and up (``verbose`` 1: INFO, 2: DEBUG, for every logger). Sets
    :func:`var_bench.progress.set_quiet`. Calling it again replaces the earlier set-up."""
    from var_bench.progress import set_quiet

    set_quiet(quiet)
    root = logging.getLogger()
    for h in [h for h in root.handlers if isinstance(h, _LogHandler)]:
        root.removeHandler(h)
    handler = _LogHandler()
    handler.setFormatter(_Formatter())
    root.addHandler(handler)
    root.setLevel(logging.WARNING - 10 * min(verbose, 2))
    own = (
        logging.DEBUG
        if verbose >= 2
        else logging.WARNING
        if quiet and not verbose
        else logging.INFO
    )
    logging.getLogger("var_bench").setLevel(own)


def _same_target() -> bool:
    """True when stdout and stderr are one terminal, file or pipe (``2>&1``): an error line
    printed on both would show twice."""
    try:
        return os.path.samestat(os.fstat(sys.stdout.fileno()), os.fstat(sys.stderr.fileno()))
    except (AttributeError, ValueError, OSError):
        return False


def fail(message: str, code: int) -> None:
    """Print one error line on stdout and stderr (once when they are the same terminal, file or
    pipe), then exit with ``code``."""
    line = f"{PROG}: error: {' '.join(str(message).split())}"
    if not _same_target():
        click.echo(line)
    click.echo(line, err=True)
    sys.exit(code)


def _command_of(argv: list[str] | None) -> str | None:
    """The subcommand named in ``argv`` (the first word that is one), or None."""
    for word in sys.argv[1:] if argv is None else argv:
        if word in cli.commands:
            return word
    return None


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    click.echo(f"{PROG}: warning: {' '.join(str(message).split())}", err=True)


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``var-bench`` command."""
    debug = os.environ.get(DEBUG_ENV, "") not in ("", "0")
    warnings.showwarning = _show_warning
    with _logging_restored():
        _run(argv, debug)


@contextlib.contextmanager
def _logging_restored():
    """Undo :func:`configure_logging` on the way out, so a caller that runs :func:`main` in its
    own process (tests, notebooks) keeps its logging set-up."""
    from var_bench import progress

    root, own = logging.getLogger(), logging.getLogger("var_bench")
    saved = (list(root.handlers), root.level, own.level, progress.is_quiet())
    try:
        yield
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
        own.setLevel(saved[2])
        progress.set_quiet(saved[3])


_says = logging.getLogger("var_bench.cli")


def starting(line: str) -> None:
    """The first line of a long command: what will happen and where the output goes (stderr, as
    an INFO record of ``var_bench.cli``: silenced by ``--quiet``)."""
    _says.info(line)


def wrote(*paths: Any, what: str = "", err: bool = False) -> None:
    """The last line of a command that writes files: ``wrote PATH[, PATH...][ (what)]`` on
    stdout (``err``: on stderr, when stdout carries a document such as JSON)."""
    line = f"wrote {', '.join(str(p) for p in paths)}" + (f" ({what})" if what else "")
    click.echo(line, err=err)


#: What a rerun of an interrupted command does, for the commands whose rerun resumes (``train``
#: says it itself, from its checkpoints: :class:`~var_bench.errors.Interrupted`).
RESUMES: dict[str, str] = {
    "download": "rerun the same command to resume (a partial file continues where it stopped)",
    "build": "rerun the same command to resume after the last completed shard",
    "extract": "rerun the same command to resume (finished videos are kept)",
    "index": "rerun the same command to resume from the last complete chunk",
    "reproduce": "rerun the same command to resume (finished seeds are kept, the interrupted "
    "one resumes from its last checkpoint)",
    "sweep": "rerun the same command to resume (finished runs are kept)",
}


def _interrupted(argv: list[str] | None) -> str:
    hint = RESUMES.get(_command_of(argv) or "")
    return f"interrupted; {hint}" if hint else "interrupted"


def _run(argv: list[str] | None, debug: bool) -> None:
    try:
        rv = cli.main(args=argv, prog_name=PROG, standalone_mode=False)
    except click.exceptions.Abort:
        fail(_interrupted(argv), 130)
    except click.ClickException as e:  # usage errors: wrong option, missing argument
        ctx = getattr(e, "ctx", None)
        where = ctx.command_path if ctx is not None and ctx.command_path else PROG
        fail(f"{e.format_message()} (see '{where} --help')", e.exit_code)
    except VarBenchError as e:
        if debug:
            raise
        fail(str(e), e.exit_code)
    except KeyboardInterrupt:
        fail(_interrupted(argv), 130)
    except OSError as e:  # the environment (read-only, full disk, not a folder): exit 3
        if debug:
            raise
        fault = environment_fault(e)
        fail(str(fault), fault.exit_code)
    except ModuleNotFoundError as e:  # an optional extra not installed: say which
        if debug:
            raise
        from var_bench.extras import missing_extra_message

        message = missing_extra_message(_command_of(argv), e.name)
        if message is None:
            fail(f"internal error: {type(e).__name__}: {e} (set {DEBUG_ENV}=1 for a traceback)", 1)
        fail(message, 3)  # the environment lacks a package, not bad input
    except Exception as e:  # a bug of ours: still one line, with the way to see the traceback
        if debug:
            raise
        fail(f"internal error: {type(e).__name__}: {e} (set {DEBUG_ENV}=1 for a traceback)", 1)
    sys.exit(rv if isinstance(rv, int) else 0)


def home_option(f):
    """``--home DIR``: the data home (default ``$VAR_BENCH_HOME``, else the per-user cache)."""
    return click.option(
        "--home",
        type=click.Path(file_okay=False),
        default=None,
        help="Data home (default $VAR_BENCH_HOME, else the per-user cache folder).",
    )(f)


def mirror_option(f):
    """``--mirror URL_OR_DIR``: read upstream files from a mirror (default
    ``$VAR_BENCH_MIRROR``)."""
    return click.option(
        "--mirror",
        default=None,
        metavar="URL_OR_DIR",
        help="Folder or http(s) URL laid out <owner>-<repo>/<file> "
        "(default $VAR_BENCH_MIRROR, else the pinned upstream URLs).",
    )(f)


def replicates_options(purpose: str):
    """``--replicates N`` and ``--seed N`` of a resampling test; ``purpose`` ends their help."""

    def decorate(f):
        f = click.option(
            "--seed",
            type=click.IntRange(min=0),
            default=0,
            show_default=True,
            help=f"Random seed {purpose}.",
        )(f)
        return click.option(
            "--replicates",
            type=click.IntRange(min=1),
            default=10_000,
            show_default=True,
            help=f"Resampling replicates {purpose}.",
        )(f)

    return decorate


def ray_options(f):
    """``--workers N``, ``--ray [ADDRESS]`` and ``--ray-encoders N`` of a command that decodes
    videos and runs a model on them (``extract``, ``zeroshot``); :func:`ray_from_options` turns
    them into the library's ``ray`` argument."""
    f = click.option(
        "--ray-encoders",
        type=click.IntRange(min=1),
        default=1,
        show_default=True,
        help="Encoding workers with --ray (each loads the model once).",
    )(f)
    f = click.option(
        "--ray",
        "ray",
        is_flag=False,
        flag_value="local",
        default=None,
        metavar="[ADDRESS]",
        help="Run on Ray Data: decoding on --workers CPU workers, the model on --ray-encoders "
        "workers (one GPU each with --device cuda). No ADDRESS: a local Ray; else a cluster "
        "('auto', 'ray://host:10001'). Same output as without Ray.",
    )(f)
    return click.option(
        "--workers",
        type=click.IntRange(min=0),
        default=2,
        show_default=True,
        help="Decoding threads running ahead of the model (0: decode in the main thread); "
        "with --ray, the decoding workers.",
    )(f)


def ray_from_options(address: str | None, workers: int, encoders: int):
    """``--ray [ADDRESS]`` with ``--workers`` / ``--ray-encoders`` -> ``RayOptions``, or None
    without ``--ray``."""
    if address is None:
        return None
    from var_bench.extract.distributed import RayOptions

    return RayOptions(
        address=None if address == "local" else address,
        decode_workers=max(1, workers),
        encode_workers=encoders,
    )


def task_option(f):
    """``--task NAME``: one of the benchmark's tasks (default: its first)."""
    return click.option(
        "--task",
        default=None,
        metavar="NAME",
        help="The benchmark's task to score (default: its first; "
        "var-bench info BENCHMARK lists them).",
    )(f)


class _Benchmarks(click.Choice):
    """The registered benchmarks, read when an argument is checked (a benchmark registered after
    the CLI was imported, by a plug-in or a test, is a choice too)."""

    def __init__(self) -> None:
        super().__init__([], case_sensitive=False)

    @property
    def choices(self):  # type: ignore[override]
        from var_bench.benchmarks import list_benchmarks

        return tuple(list_benchmarks())

    @choices.setter
    def choices(self, value) -> None:  # click's __init__ assigns it; the registry is the truth
        pass


def benchmark_choice() -> click.Choice:
    """A click choice among the registered benchmarks (case-insensitive)."""
    return _Benchmarks()
