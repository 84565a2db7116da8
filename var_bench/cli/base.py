"""The ``var-bench`` click group and the one place errors and warnings reach the terminal.

Commands parse arguments and call one library function each. Errors a user can cause are
:class:`~var_bench.errors.VarBenchError`: one line on stdout and on stderr (leaderboard users
often see only one of them), the error's exit code, never a traceback. Library warnings
(``warnings.warn``) become one ``warning:`` line each on stderr.
"""

from __future__ import annotations

import logging
import os
import sys
import warnings

import click

from var_bench._version import __version__
from var_bench.errors import VarBenchError, environment_fault

PROG = "var-bench"
DEBUG_ENV = "VAR_BENCH_DEBUG"


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name=PROG)
@click.option("-v", "--verbose", count=True, help="More log output (-v info, -vv debug).")
def cli(verbose: int) -> None:
    """Video Anomaly Retrieval benchmarks: download, build, load, score, compare, rank."""
    level = logging.WARNING - 10 * min(verbose, 2)
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)


def fail(message: str, code: int) -> None:
    """Print one error line on stdout and stderr, then exit with ``code``."""
    line = f"{PROG}: error: {' '.join(str(message).split())}"
    click.echo(line)
    click.echo(line, err=True)
    sys.exit(code)


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    click.echo(f"{PROG}: warning: {' '.join(str(message).split())}", err=True)


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``var-bench`` command."""
    debug = os.environ.get(DEBUG_ENV, "") not in ("", "0")
    warnings.showwarning = _show_warning
    try:
        rv = cli.main(args=argv, prog_name=PROG, standalone_mode=False)
    except click.exceptions.Abort:
        fail("interrupted", 130)
    except click.ClickException as e:  # usage errors: wrong option, missing argument
        fail(f"{e.format_message()} (see '{PROG} --help')", e.exit_code)
    except VarBenchError as e:
        if debug:
            raise
        fail(str(e), e.exit_code)
    except KeyboardInterrupt:
        fail("interrupted", 130)
    except OSError as e:  # the environment (read-only, full disk, not a folder): exit 3
        if debug:
            raise
        fault = environment_fault(e)
        fail(str(fault), fault.exit_code)
    except Exception as e:  # a bug of ours: still one line, with the way to see the traceback
        if debug:
            raise
        fail(f"internal error: {type(e).__name__}: {e} (set {DEBUG_ENV}=1 for a traceback)", 1)
    sys.exit(rv if isinstance(rv, int) else 0)


def home_option(f):
    """``--home DIR``: the data home (default ``$VAR_BENCH_HOME``, else the per-user cache)."""
    return click.option("--home", type=click.Path(file_okay=False), default=None,
                        help="Data home (default $VAR_BENCH_HOME, else the per-user cache folder).")(f)


def mirror_option(f):
    """``--mirror URL_OR_DIR``: read upstream files from a mirror (default ``$VAR_BENCH_MIRROR``)."""
    return click.option("--mirror", default=None, metavar="URL_OR_DIR",
                        help="Folder or http(s) URL laid out <owner>-<repo>/<file> "
                             "(default $VAR_BENCH_MIRROR, else the pinned upstream URLs).")(f)


def replicates_options(purpose: str):
    """``--replicates N`` and ``--seed N`` of a resampling test; ``purpose`` ends their help."""
    def decorate(f):
        f = click.option("--seed", type=int, default=0, show_default=True,
                         help=f"Random seed {purpose}.")(f)
        return click.option("--replicates", type=click.IntRange(min=1), default=10_000,
                            show_default=True, help=f"Resampling replicates {purpose}.")(f)
    return decorate


def benchmark_choice() -> click.Choice:
    from var_bench.benchmarks import list_benchmarks as benchmarks

    return click.Choice(benchmarks(), case_sensitive=False)
