"""What every platform's scoring program shares: find the submission, name the benchmark, score it,
and report a failure as one readable line (participants often see only the program's output).

Folder layout of CodaLab and Codabench scoring programs (both platforms use it)::

    INPUT_DIR/ref/   the organiser's reference data: here one file, ``benchmark.txt``, naming the
                     benchmark (e.g. ``ucfcrime-ar``)
    INPUT_DIR/res/   the participant's submission, unzipped: exactly one score-matrix file (no
                     symlink anywhere: it could name a file of the scoring host)
    OUTPUT_DIR/      where the program writes the platform's scores file (and ``record.json``)
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from pathlib import Path

from var_bench.benchmarks import BenchmarkSpec, get_benchmark
from var_bench.errors import InputError, VarBenchError, environment_fault
from var_bench.fsutil import atomic_write_text
from var_bench.scoring.record import ResultRecord

BENCHMARK_FILE = "benchmark.txt"
# Files platforms put beside a submission that are never the submission itself.
_NOT_SUBMISSIONS = frozenset({"metadata", "metadata.yaml"})


def read_benchmark_file(path: str | os.PathLike) -> BenchmarkSpec:
    """The benchmark named by the first non-empty line of ``path`` (a ``benchmark.txt``)."""
    try:
        lines = [ln.strip() for ln in Path(path).read_text(encoding="utf-8").splitlines()]
    except OSError as e:
        raise InputError(
            f"{path}: expected a file naming the benchmark, could not read it ({e.strerror})"
        ) from None
    names = [ln for ln in lines if ln and not ln.startswith("#")]
    if not names:
        raise InputError(f"{path}: expected a benchmark name on its first line, got an empty file")
    return get_benchmark(names[0])


def find_submission(folder: str | os.PathLike) -> Path:
    """The one submission file in ``folder`` (hidden files and platform metadata ignored)."""
    folder = Path(folder)
    if folder.is_symlink() or not folder.is_dir():
        raise InputError(
            f"{folder}: expected the submission folder, found "
            f"{'a symlink' if folder.is_symlink() else 'none'}"
        )
    files = []
    # Walk without following links: a symlink anywhere in the participant's upload (to a file of
    # the scoring host, or a folder) is refused, whatever it points to.
    for root, dirs, names in os.walk(folder, followlinks=False):
        for name in dirs + names:
            p = Path(root) / name
            if p.is_symlink():
                raise InputError(
                    f"{folder}: expected plain files, got a symlink "
                    f"{p.relative_to(folder)} (refused on a hosted scorer)"
                )
        files += [
            Path(root) / n
            for n in names
            if not n.startswith(".") and n not in _NOT_SUBMISSIONS and (Path(root) / n).is_file()
        ]
    files.sort()
    if len(files) != 1:
        got = ", ".join(p.name for p in files) if files else "no file"
        raise InputError(f"{folder}: expected exactly one score-matrix file, got {got}")
    return files[0]


def score_submission(path: str | os.PathLike, benchmark: BenchmarkSpec) -> ResultRecord:
    """Score the submission file with the toolkit's scorer (imported here: it is the heavy part)."""
    from var_bench.scoring.score import score

    return score(str(path), benchmark=benchmark.name)


def score_folder(input_dir: str | os.PathLike, benchmark: str | None = None) -> ResultRecord:
    """Score the submission in ``INPUT_DIR/res`` on ``benchmark``, by default the one named by
    ``INPUT_DIR/ref/benchmark.txt``."""
    input_dir = Path(input_dir)
    if benchmark:
        spec = get_benchmark(benchmark)
    else:
        spec = read_benchmark_file(input_dir / "ref" / BENCHMARK_FILE)
    return score_submission(find_submission(input_dir / "res"), spec)


def run_program(
    argv: list[str] | None,
    prog: str,
    write_scores: Callable[[ResultRecord, Path], None],
    scores_name: str,
) -> int:
    """``prog INPUT_DIR OUTPUT_DIR [--benchmark NAME]``: score, then write
    ``OUTPUT_DIR/<scores_name>``.

    Returns the exit status: 0, or the error's exit code after printing one line on stdout and
    stderr (the platform marks the submission failed and shows that line).
    """
    parser = argparse.ArgumentParser(prog=prog, description=__doc__.splitlines()[0])
    parser.add_argument("input_dir")
    parser.add_argument("output_dir")
    parser.add_argument(
        "--benchmark", default=None, help=f"default: INPUT_DIR/ref/{BENCHMARK_FILE}"
    )
    args = parser.parse_args(argv)
    try:
        record = score_folder(args.input_dir, args.benchmark)
        out = Path(args.output_dir)
        out.mkdir(parents=True, exist_ok=True)
        write_scores(record, out / scores_name)
        atomic_write_text(out / "record.json", record.to_json() + "\n")
    except (VarBenchError, OSError) as e:
        if isinstance(e, OSError):  # a read-only or full output folder: exit 3, one line
            e = environment_fault(e, "writing the scores")
        line = f"{prog}: error: {e}"
        print(line)
        print(line, file=sys.stderr)
        return e.exit_code
    return 0
