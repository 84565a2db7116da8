"""UCA built from the real upstream files (../shared/data; skipped with the reason when absent):
counts, repaired quirks, the id space it shares with UCFCrime-AR (the leakage the two splits
carry), and its two moment tasks scored end to end (score, compare, leaderboard, report, CLI)."""

from __future__ import annotations

import json

import numpy as np
import pytest

import var_bench
from var_bench.benchmarks import get_benchmark
from var_bench.cli import main
from var_bench.data.info import benchmark_info
from var_bench.data.overlap import split_overlap
from var_bench.errors import InputError
from var_bench.leaderboard import build_leaderboard, render
from var_bench.report.build import build_report
from var_bench.report.write import render_report


@pytest.fixture(scope="module")
def home(shared_data, tmp_path_factory):
    home = tmp_path_factory.mktemp("uca") / "home"
    for name in ("uca", "ucfcrime-ar"):
        var_bench.download(name, home=home, mirror=str(shared_data), progress=False)
    return home


def submission(home, seed: int, jitter: float, wrong: float) -> list[dict]:
    """Every test sentence answered: its gold moment jittered by ``jitter`` seconds, on another
    video for a share ``wrong`` of the queries, then 9 random moments of random videos."""
    r = np.random.default_rng(seed)
    t = var_bench.load_table("uca", "test", home=home)
    videos = list(var_bench.load_table("uca", "test", home=home, videos=True)["video_id"])
    out = []
    for row in t.itertuples():
        vid = row.video_id if r.random() >= wrong else videos[int(r.integers(len(videos)))]
        s = max(0.0, row.start_s + float(r.normal(0, jitter)))
        preds = [[vid, s, max(s, row.end_s + float(r.normal(0, jitter))), 1.0]]
        for k in range(9):
            a = float(r.uniform(0, 50))
            preds.append([videos[int(r.integers(len(videos)))], a, a + 5.0, 0.5 - k / 100])
        out.append({"query_id": row.query_id, "predictions": preds})
    return out


def test_splits_counts_and_quirks(home):
    info = benchmark_info("uca", home=home)
    assert info.counts == {"train": 1165, "val": 379, "test": 310}
    assert info.query_counts == {"train": 15670, "val": 3534, "test": 4331}
    assert sum("exact repeat" in n for n in info.notes) == 7  # 15,677 upstream - 7 = 15,670
    test = var_bench.load_dataset("uca", "test", home=home)
    assert test.column_names[:6] == [
        "query_id",
        "video_id",
        "sentence",
        "start_s",
        "end_s",
        "duration_s",
    ]
    t = test.to_pandas()
    assert (t.start_s < t.end_s).all() and (t.end_s <= t.duration_s).all()
    assert t.query_id.is_unique and not t.sentence.str.startswith(" ").any()


def test_leakage_between_uca_and_ucfcrime_ar_on_the_real_files(home):
    a = split_overlap("ucfcrime-ar", "test", "uca", "train", home=home)
    assert (len(a.shared), a.n_a) == (214, 290)
    b = split_overlap("uca", "test", "ucfcrime-ar", "train+val", home=home)
    assert (len(b.shared), b.n_a) == (260, 310)
    assert "214 of the 290 ucfcrime-ar test videos" in a.line()
    with pytest.raises(InputError, match="one video collection"):
        split_overlap("uca", "test", "xdviolence-ar", "train", home=home)


def test_a_record_trained_on_ucfcrime_ar_is_flagged_on_the_uca_board(home):
    entries = submission(home, 4, 0.5, 0.1)
    leaked = var_bench.score(
        entries, "uca", home=home, name="leaked", disclosure={"training_data": "UCFCrime-AR train"}
    )
    clean = var_bench.score(
        entries, "uca", home=home, name="clean", disclosure={"training_data": "UCA train"}
    )
    board = build_leaderboard("uca", records=[("l.json", leaked), ("c.json", clean)], home=home)
    flags = {e.method: " ".join(e.flags) for e in board.entries}
    assert "leakage: UCFCrime-AR training data holds 260 test videos" in flags["leaked"]
    assert "leakage" not in flags["clean"]
    assert not board.published.rows


@pytest.mark.slow
def test_moments_and_grounding_score_compare_board_report(home, tmp_path):
    good = var_bench.score(submission(home, 0, 0.5, 0.1), "uca", home=home, name="good")
    poor = var_bench.score(submission(home, 1, 4.0, 0.6), "uca", home=home, name="poor")
    assert good.task == "moments" and good.main_score == "R@1,IoU=0.5"
    assert good.metrics["vcmr"]["R@1"] == pytest.approx(100 * (1 - 0.1), abs=2.0)
    assert good.main_value > poor.main_value
    c = var_bench.compare(good, poor, replicates=200, home=home)
    row = next(r for r in c.rows if r.metric == "vcmr R@1,IoU=0.5")
    assert row.better == "a"
    board = build_leaderboard("uca", records=[("poor.json", poor), ("good.json", good)], home=home)
    assert [e.method for e in board.entries] == ["good", "poor"]
    assert "R@1,IoU=0.5" in render(board, "md")
    good.save(tmp_path / "good.json")
    entries = submission(home, 0, 0.5, 0.1)
    (tmp_path / "sub.json").write_text(json.dumps({"benchmark": "uca", "results": entries}))
    for source in (tmp_path / "good.json", tmp_path / "sub.json", entries):
        report = build_report(source, "uca", home=home)
        assert report.hardest and "R@1,IoU=0.5" in render_report(report, "md")
    assert report.hardest[0].rank == 100.0 and "tIoU" in report.hardest[0].detail
    assert "Answer (gold vs top)" in render_report(report, "md")

    entries = [
        {"query_id": e["query_id"], "predictions": [p[1:] for p in e["predictions"][:1]]}
        for e in submission(home, 2, 0.0, 0.0)
    ]
    g = var_bench.score(entries, "uca", task="grounding", home=home)
    assert g.metrics["tsg"]["mIoU"] == pytest.approx(100.0)


def test_the_command_line(home, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("VAR_BENCH_HOME", str(home))
    path = tmp_path / "preds.jsonl"
    entries = submission(home, 3, 0.5, 0.1)
    path.write_text("\n".join(json.dumps(e) for e in entries) + "\n")
    with pytest.raises(SystemExit) as e:
        main(["score", str(path), "--benchmark", "uca", "--json", str(tmp_path / "r.json")])
    assert e.value.code in (0, None)
    assert json.loads((tmp_path / "r.json").read_text())["task"] == "moments"
    capsys.readouterr()
    entries[0]["predictions"][0][1:3] = [5.0, 1.0]
    path.write_text("\n".join(json.dumps(e) for e in entries) + "\n")
    with pytest.raises(SystemExit) as e:
        main(["score", str(path), "--benchmark", "uca"])
    err = capsys.readouterr()
    assert e.value.code == 2 and "expected start_s <= end_s" in err.out + err.err


def test_ucfcrime_ar_anomaly_moment_track(home):
    spec = get_benchmark("ucfcrime-ar")
    from var_bench.data.gold import load_gold

    gold = load_gold(spec, spec.task("moments"), "test", home=home)
    counts = np.diff(gold.positives[0])
    assert (gold.queries.n, gold.gallery.n, int((counts == 2).sum())) == (140, 290, 16)
    # where two segments are annotated, a prediction of the second one is a full hit
    i = int(np.flatnonzero(counts == 2)[0])
    qid, vid = gold.queries.ids()[i], gold.gallery.ids()[gold.positives[1][gold.positives[0][i]]]
    second = gold.segments[gold.positives[0][i] + 1]
    entries = [
        {"query_id": q, "predictions": [[vid, *map(float, second), 1.0]] if q == qid else []}
        for q in gold.queries.ids()
    ]
    r = var_bench.score(entries, "ucfcrime-ar", task="moments", home=home)
    assert r.metrics["vcmr"]["R@1,IoU=0.7"] == pytest.approx(100 / 140)
