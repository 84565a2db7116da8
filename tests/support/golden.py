"""Golden figures: a fixed set of submissions (ties, duplicate captions, float16, one and both
directions, both benchmarks) taken through every command that prints figures (score, compare,
leaderboard md/html/json, report md/json, export), with their printed outputs and records.

The files in ``tests/golden/`` were written by this module from the code before the task layer
(issue 28) and are never regenerated to make a test pass: ``tests/scoring/test_golden.py``
compares today's outputs with them. To add a case, write only the new files:
``cd tests && python -m support.golden --write NAME``.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np

GOLDEN = Path(__file__).resolve().parents[1] / "golden"
N_UCF, N_XD = 290, 800
#: Bootstrap / permutation replicates of the golden runs (small: the figures, not the power).
REPS = "400"


def _ucf_ties() -> np.ndarray:
    """Scores on a 0.1 grid: most queries tie with several videos."""
    r = np.random.default_rng(11)
    S = r.standard_normal((N_UCF, N_UCF)) + 1.5 * np.eye(N_UCF)
    return np.round(S, 1).astype(np.float32)


def _ucf_duplicates() -> np.ndarray:
    """Rows 0-9 repeated as rows 10-19 (a caption shared by two videos) and columns 30-34 equal
    to columns 40-44 (two videos encoded alike)."""
    r = np.random.default_rng(12)
    S = r.standard_normal((N_UCF, N_UCF)) + 2.0 * np.eye(N_UCF)
    S[10:20] = S[0:10]
    S[:, 40:45] = S[:, 30:35]
    return S


def _ucf_fp16() -> np.ndarray:
    r = np.random.default_rng(13)
    return (r.standard_normal((N_UCF, N_UCF)) + 1.0 * np.eye(N_UCF)).astype(np.float16)


def _xd() -> np.ndarray:
    r = np.random.default_rng(14)
    return (r.standard_normal((N_XD, N_XD)) + 1.2 * np.eye(N_XD)).astype(np.float32)


def _write_inputs(folder: Path) -> dict[str, Path]:
    """Every golden submission as a file in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    out = {}
    out["ucf-ties"] = folder / "ucf-ties.npy"
    np.save(out["ucf-ties"], _ucf_ties())
    out["ucf-dup"] = folder / "ucf-dup.npy"
    np.save(out["ucf-dup"], _ucf_duplicates())
    out["ucf-fp16"] = folder / "ucf-fp16.npy"
    np.save(out["ucf-fp16"], _ucf_fp16())
    S = _ucf_duplicates()
    r = np.random.default_rng(15)
    out["ucf-dirs"] = folder / "ucf-dirs.npz"
    np.savez(out["ucf-dirs"], t2v=S, v2t=(S.T + 0.3 * r.standard_normal(S.shape)))
    out["ucf-t2v"] = folder / "ucf-t2v.npz"
    np.savez(out["ucf-t2v"], t2v=_ucf_ties())
    X = _xd()
    out["xd"] = folder / "xd.npy"
    np.save(out["xd"], X)
    out["xd-a2v"] = folder / "xd-a2v.npz"
    np.savez(out["xd-a2v"], a2v=np.round(X, 1))
    X2 = X + 0.5 * np.random.default_rng(16).standard_normal(X.shape).astype(np.float32)
    out["xd-b"] = folder / "xd-b.npy"
    np.save(out["xd-b"], X2)
    return out


#: name -> (argv after ``var-bench``, in which {in:X}, {rec:X} and {dir:X} name an input file, a
#: record written by an earlier case and a folder of records).
CASES: dict[str, list[str]] = {
    "score-ucf-ties": [
        "score",
        "{in:ucf-ties}",
        "--json",
        "{rec:ucf-ties}",
        "--name",
        "ties",
        "--ci",
        "--replicates",
        REPS,
        "--seed",
        "3",
    ],
    "score-ucf-dup": [
        "score",
        "{in:ucf-dup}",
        "--json",
        "{rec:ucf-dup}",
        "--name",
        "dup",
        "--disclose",
        "checkpoint_selection=val split",
    ],
    "score-ucf-fp16": ["score", "{in:ucf-fp16}", "--json", "{rec:ucf-fp16}", "--name", "half"],
    "score-ucf-dirs": [
        "score",
        "{in:ucf-dirs}",
        "--json",
        "{rec:ucf-dirs}",
        "--name",
        "dirs",
        "--ties",
        "pessimistic",
    ],
    "score-ucf-t2v": ["score", "{in:ucf-t2v}", "--json", "{rec:ucf-t2v}"],
    "score-ucf-ties-v2t": ["score", "{in:ucf-ties}", "--direction", "v2t", "--ties", "optimistic"],
    "score-xd": [
        "score",
        "{in:xd}",
        "--json",
        "{rec:xd}",
        "--name",
        "xd-a",
        "--ci",
        "--replicates",
        REPS,
    ],
    "score-xd-b": ["score", "{in:xd-b}", "--json", "{rec:xd-b}", "--name", "xd-b"],
    "score-xd-a2v": ["score", "{in:xd-a2v}", "--json", "{rec:xd-a2v}"],
    "compare-ucf-perm": ["compare", "{rec:ucf-ties}", "{rec:ucf-dup}", "--replicates", REPS],
    "compare-ucf-boot": [
        "compare",
        "{in:ucf-fp16}",
        "{rec:ucf-dup}",
        "--method",
        "bootstrap",
        "--replicates",
        REPS,
        "--seed",
        "5",
    ],
    "compare-xd": ["compare", "{rec:xd}", "{rec:xd-b}", "--replicates", REPS],
    "leaderboard-ucf-md": ["leaderboard", "ucfcrime-ar", "--results", "{dir:ucf}"],
    "leaderboard-ucf-tier-md": [
        "leaderboard",
        "ucfcrime-ar",
        "--results",
        "{dir:ucf}",
        "--order",
        "tier",
    ],
    "leaderboard-ucf-json": [
        "leaderboard",
        "ucfcrime-ar",
        "--results",
        "{dir:ucf}",
        "--format",
        "json",
    ],
    "leaderboard-ucf-html": [
        "leaderboard",
        "ucfcrime-ar",
        "--results",
        "{dir:ucf}",
        "--format",
        "html",
    ],
    "leaderboard-xd-md": ["leaderboard", "xdviolence-ar", "--results", "{dir:xd}"],
    "report-ucf-md": [
        "report",
        "{in:ucf-ties}",
        "-b",
        "ucfcrime-ar",
        "--format",
        "md",
        "--compare",
        "{rec:ucf-dup}",
        "--results",
        "{dir:ucf}",
    ],
    "report-ucf-json": ["report", "{in:ucf-dup}", "-b", "ucfcrime-ar", "--json"],
    "report-xd-md": ["report", "{rec:xd}", "-b", "xdviolence-ar", "--format", "md"],
    "export-codalab": ["export", "{rec:ucf-dup}", "--to", "codalab", "--output", "{out}"],
    "export-codabench": ["export", "{rec:ucf-dup}", "--to", "codabench", "--output", "{out}"],
    "export-evalai": ["export", "{rec:xd}", "--to", "evalai", "--output", "{out}"],
}
#: Records that go into each leaderboard folder.
BOARDS = {"ucf": ("ucf-ties", "ucf-dup", "ucf-fp16", "ucf-dirs"), "xd": ("xd", "xd-b")}
#: A fixed date for every record, so outputs that show it do not depend on the day.
DATE = "2026-12-01T00:00:00Z"


def _fix_record(path: Path) -> None:
    data = json.loads(path.read_text("utf-8"))
    data["date"] = DATE
    path.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n", "utf-8")


def normalise(text: str, work: Path) -> str:
    """Output text without what depends on the machine or the day: the work folder, the
    var_bench version, dates and times."""
    text = text.replace(str(work), "WORK")
    text = re.sub(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\+00:00|Z)?", "DATE", text)
    return text


def run_cases(
    work: Path, invoke: Callable[[list[str]], tuple[int, str]], names: list[str] | None = None
) -> dict[str, str]:
    """Run every case (or ``names``) in order with ``invoke(argv) -> (exit code, output)``;
    return ``{file name: normalised text}`` (printed outputs, records, exported files)."""
    inputs = _write_inputs(work / "in")
    recs = work / "records"
    recs.mkdir(parents=True, exist_ok=True)
    folders = {k: work / f"board-{k}" for k in BOARDS}
    out: dict[str, str] = {}
    for case, argv in CASES.items():
        if case.startswith("leaderboard") or case.startswith("report"):
            for key, names_ in BOARDS.items():
                folders[key].mkdir(exist_ok=True)
                for n in names_:
                    dst = folders[key] / f"{n}.json"
                    if not dst.exists():
                        dst.write_text((recs / f"{n}.json").read_text("utf-8"), "utf-8")
        target = work / "out" / case
        target.parent.mkdir(parents=True, exist_ok=True)
        args = []
        for a in argv:
            m = re.fullmatch(r"\{(in|rec|dir):([\w-]+)\}|\{out\}", a)
            if m is None:
                args.append(a)
            elif a == "{out}":
                args.append(str(target))
            elif m.group(1) == "in":
                args.append(str(inputs[m.group(2)]))
            elif m.group(1) == "rec":
                args.append(str(recs / f"{m.group(2)}.json"))
            else:
                args.append(str(folders[m.group(2)]))
        code, text = invoke(args)
        if code != 0:
            raise AssertionError(f"golden case {case}: exit {code}: {text}")
        if names is None or case in names:
            out[f"{case}.txt"] = normalise(text, work)
        if "{out}" in argv and (names is None or case in names):
            out[f"{case}.out"] = normalise(target.read_text("utf-8"), work)
        if "--json" in argv and argv[0] == "score":
            rec = Path(args[args.index("--json") + 1])
            _fix_record(rec)
            if names is None or case in names:
                out[f"{case}.record.json"] = normalise(rec.read_text("utf-8"), work)
    return out


def cli_invoke(args: list[str]) -> tuple[int, str]:
    """Run ``var-bench ARGS`` in this process; (exit code, stdout + stderr)."""
    from click.testing import CliRunner

    from var_bench.cli import cli

    result = CliRunner().invoke(cli, ["--quiet", *args], catch_exceptions=False)
    return result.exit_code, result.output


def main() -> None:
    """``cd tests && python -m support.golden --write [CASE ...]``: write the golden files."""
    import os
    import tempfile
    import warnings

    if sys.argv[1:2] != ["--write"]:
        sys.exit("usage: cd tests && python -m support.golden --write [CASE ...]")
    warnings.simplefilter("ignore")
    want = sys.argv[2:] or None
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["VAR_BENCH_HOME"] = str(Path(tmp) / "home")
        outputs = run_cases(Path(tmp), cli_invoke, want)
    GOLDEN.mkdir(exist_ok=True)
    for name, text in outputs.items():
        path = GOLDEN / name
        if path.exists() and want is None:
            sys.exit(f"{path} exists: golden files are written once (name the new cases)")
        path.write_text(text, "utf-8")
    print(f"wrote {len(outputs)} files to {GOLDEN}")


if __name__ == "__main__":
    main()
