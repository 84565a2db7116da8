"""A new task type registered from one folder (``tests/tasks/pairwise/``) runs through every
stage with no edit to var_bench: score -> record (saved, loaded) -> compare -> leaderboard (md,
html, json, verified and ranked by its main score) -> report (html, md, json), from Python and
the command line."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest

import var_bench
from var_bench.benchmarks import UCFCRIME_AR, register_benchmark, unregister_benchmark
from var_bench.cli import main
from var_bench.leaderboard import build_leaderboard, render
from var_bench.report.build import build_report
from var_bench.report.write import render_report
from var_bench.scoring.record import ResultRecord
from var_bench.tasks import get_task_type, list_task_types

from .pairwise import PairwiseAUC

NAME = "ucfcrime-auc"


@pytest.fixture(scope="module")
def bench():
    """UCFCrime-AR's videos and checksums, scored by the new task type."""
    spec = register_benchmark(replace(UCFCRIME_AR, name=NAME, tasks=(PairwiseAUC(),)))
    yield spec
    unregister_benchmark(NAME)


def _matrix(seed: int, signal: float) -> np.ndarray:
    r = np.random.default_rng(seed)
    return (r.standard_normal((290, 290)) + signal * np.eye(290)).astype(np.float32)


def test_the_type_is_registered_from_its_folder():
    assert "pairwise-auc" in list_task_types() and get_task_type("pairwise-auc") is PairwiseAUC


def test_score_record_compare(bench, tmp_path):
    good = var_bench.score(_matrix(0, 3.0), NAME, name="good", ci=True, replicates=300)
    assert good.task_type == "pairwise-auc" and good.main_score == "AUC" and good.ties is None
    assert list(good.metrics) == ["q2g"] and good.summary == {} and good.bounds == {}
    S = _matrix(0, 3.0).astype(np.float64)
    want = np.mean([(np.delete(S[i], i) < S[i, i]).mean() for i in range(290)])
    assert good.main_value == pytest.approx(100 * want)
    lo, hi = good.ci["intervals"]["q2g"]["AUC"]
    assert lo < good.main_value < hi
    good.save(tmp_path / "good.json")
    again = ResultRecord.load(tmp_path / "good.json")
    assert again.metrics == good.metrics and again.task_type == "pairwise-auc"
    poor = var_bench.score(_matrix(1, 0.5), NAME, name="poor")
    c = var_bench.compare(again, poor, replicates=300)
    assert [r.metric for r in c.rows] == ["q2g AUC", "q2g P@1"]
    assert c.rows[0].better == "a" and c.ties is None


def test_leaderboard_and_report(bench, tmp_path):
    records = [
        (f"{n}.json", var_bench.score(_matrix(s, g), NAME, name=n))
        for n, s, g in (("poor", 1, 0.5), ("good", 0, 3.0), ("fair", 2, 1.5))
    ]
    board = build_leaderboard(NAME, records=records)
    assert [e.method for e in board.entries] == ["good", "fair", "poor"]
    assert board.entries[0].tier == 1 and board.entries[-1].tier == 3
    md = render(board, "md")
    assert "| q2g AUC ↑ | q2g P@1 ↑ |" in md and "paired randomisation test on AUC" in md
    assert "SumR" not in md
    data = json.loads(render(board, "json"))
    assert data["main_score"] == "AUC" and [e["method"] for e in data["entries"]][0] == "good"
    assert "<svg" in render(board, "html")

    report = build_report(_matrix(0, 3.0), NAME)
    assert report.entry.score == pytest.approx(board.entries[0].score)
    assert report.hardest and report.hardest[0].direction == "q2g"
    for fmt in ("html", "md", "json"):
        text = render_report(report, fmt)
        assert "AUC" in text and "SumR" not in text


def test_the_command_line(bench, tmp_path, capsys):
    path = tmp_path / "sub.npy"
    np.save(path, _matrix(0, 3.0))
    with pytest.raises(SystemExit) as e:
        main(["score", str(path), "-b", NAME, "--json", str(tmp_path / "r.json")])
    out = capsys.readouterr().out
    assert e.value.code in (0, None) and "AUC↑" in out and "SumR" not in out
    (tmp_path / "results").mkdir()
    (tmp_path / "r.json").rename(tmp_path / "results" / "r.json")
    with pytest.raises(SystemExit) as e:
        main(["leaderboard", NAME, "--results", str(tmp_path / "results")])
    out = capsys.readouterr().out
    assert e.value.code in (0, None), out
    assert "r.json" in out and "AUC" in out
    with pytest.raises(SystemExit) as e:
        main(["score", str(path), "-b", NAME, "--ties", "expected"])
    assert e.value.code == 2 and "ties: expected one of none" in capsys.readouterr().out
