"""var_bench.score / var_bench.compare: golden cases, properties, the record, peer regressions."""

from __future__ import annotations

import json
import re
import tracemalloc
import warnings
from pathlib import Path

import h5py
import numpy as np
import pandas as pd
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import var_bench
from var_bench.benchmarks import UCFCRIME_AR, XDVIOLENCE_AR
from var_bench.data.splits import expected_ids_sha256
from var_bench.errors import InputError, VarBenchWarning
from var_bench.fsutil import sha256_file, sha256_lines
from var_bench.scoring.record import DISCLOSURE_KEYS, RECORD_SCHEMA, ResultRecord
from var_bench.scoring.score import compare, score
from var_bench.tasks.retrieval.names import METRICS, RECALL_KS, SUMR, TIE_RULES

N = UCFCRIME_AR.test_videos
N_XD = XDVIOLENCE_AR.test_videos
IDS = [f"vid{i:03d}" for i in range(N)]

PROTOCOL = Path(__file__).resolve().parents[2] / "docs" / "protocol.md"


def protocol_record_keys() -> list[str]:
    """The record's keys, in order, as the table of docs/protocol.md section 5 lists them."""
    section = PROTOCOL.read_text(encoding="utf-8").split("## 5. The result record", 1)[1]
    section = section.split("\n## ", 1)[0]
    return re.findall(r"^\| `(\w+)` \|", section, flags=re.M)


def oracle(S: np.ndarray, over_rows: bool) -> tuple[np.ndarray, np.ndarray]:
    """(b, e) by direct comparison with the diagonal: the definition, written the obvious way."""
    M = S if over_rows else S.T
    d = np.diagonal(M)[:, None]
    return (M > d).sum(axis=1), (M == d).sum(axis=1) - 1


def metrics_of(b: np.ndarray, e: np.ndarray, ties: str) -> dict[str, float]:
    ranks = {"expected": b + 1 + e / 2, "optimistic": b + 1.0, "pessimistic": b + e + 1.0}[ties]
    credit = {
        "expected": lambda k: np.clip((k - b) / (e + 1), 0, 1),
        "optimistic": lambda k: (b < k).astype(float),
        "pessimistic": lambda k: (b + e < k).astype(float),
    }[ties]
    out = {f"R@{k}": 100 * credit(k).mean() for k in RECALL_KS}
    out.update(MdR=float(np.median(ranks)), MnR=float(ranks.mean()))
    return out


def same_scores(a: ResultRecord, b: ResultRecord) -> None:
    assert a.metrics == b.metrics and a.main_value == b.main_value and a.bounds == b.bounds
    for d in a.per_query:
        np.testing.assert_array_equal(a.per_query[d].higher, b.per_query[d].higher)
        np.testing.assert_array_equal(a.per_query[d].tied, b.per_query[d].tied)


@pytest.fixture(scope="module")
def S() -> np.ndarray:
    rng = np.random.default_rng(0)
    return (rng.standard_normal((N, N)) + 2.5 * np.eye(N)).astype(np.float32)


@pytest.fixture(scope="module")
def record(S) -> ResultRecord:
    return score(S, "ucfcrime-ar")


# ------------------------------------------------------------------------------- golden


def test_perfect_diagonal():
    i = np.arange(N)
    r = score(-np.abs(i[:, None] - i[None, :]).astype(np.float64))
    for d in ("t2v", "v2t"):
        assert r.metrics[d] == {"R@1": 100.0, "R@5": 100.0, "R@10": 100.0, "MdR": 1.0, "MnR": 1.0}
    assert (
        r.main_value == 600.0
        and r.details["tied_queries"] == {"t2v": 0, "v2t": 0}
        and r.warnings == []
    )


@pytest.mark.parametrize("n, name", [(N, "ucfcrime-ar"), (N_XD, "xdviolence-ar")])
def test_constant_matrix_scores_exactly_chance(n, name):
    r = score(np.full((n, n), 0.5, np.float32))
    assert r.benchmark == name
    for d in r.metrics:
        for k in RECALL_KS:
            assert r.metrics[d][f"R@{k}"] == pytest.approx(100 * k / n, rel=1e-12)
        assert r.metrics[d]["MdR"] == r.metrics[d]["MnR"] == (n + 1) / 2
        assert r.details["tied_queries"][d] == n
        assert r.bounds["optimistic"]["metrics"][d]["R@1"] == 100.0
        assert r.bounds["pessimistic"]["metrics"][d]["R@10"] == 0.0
    assert r.main_value == pytest.approx(2 * 100 * sum(RECALL_KS) / n)


def test_metrics_match_the_definition_under_every_rule():
    S = np.random.default_rng(1).integers(0, 6, (N, N)).astype(np.float32)  # many ties
    for ties in TIE_RULES:
        r = score(S, ties=ties)
        for d in UCFCRIME_AR.task().directions:
            b, e = oracle(S, d.over_rows)
            np.testing.assert_array_equal(r.per_query[d.name].higher, b)
            np.testing.assert_array_equal(r.per_query[d.name].tied, e)
            for m, v in metrics_of(b, e, ties).items():
                assert r.metrics[d.name][m] == pytest.approx(v, rel=1e-12)


def test_float16_warns_and_records_it(S):
    with pytest.warns(VarBenchWarning, match="ties are likely"):
        r = score(S.astype(np.float16))
    assert any("~20% of queries tie in float16" in w for w in r.warnings)


def test_dual_softmax_columns_warn(S):
    e = np.exp(10 * (S - S.max(axis=0)))
    with pytest.warns(VarBenchWarning, match="normalised across the query set"):
        r = score(e / e.sum(axis=0))
    assert len(r.warnings) == 1 and "t2v" in r.warnings[0]


def test_plain_matrix_warns_nothing(S):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert score(S).warnings == []


def test_npz_per_direction_equals_one_matrix(tmp_path, S, record):
    p = tmp_path / "s.npz"
    np.savez(p, t2v=S, v2t=S.T)
    same_scores(score(p), record)


def test_npz_ids_in_shuffled_order_give_the_canonical_record(tmp_path, S, record):
    rng = np.random.default_rng(2)
    rows, cols = rng.permutation(N), rng.permutation(N)
    p = tmp_path / "s.npz"
    np.savez(
        p, arr_0=S[np.ix_(rows, cols)], text_ids=np.array(IDS)[rows], video_ids=np.array(IDS)[cols]
    )
    r = score(p, ids=IDS)
    same_scores(r, record)
    assert r.query_ids_sha256 == sha256_lines(IDS)


@pytest.mark.parametrize("fmt", ["pt", "h5", "memmap", "fortran", "npz", "bf16"])
def test_every_format_gives_the_same_record(tmp_path, S, record, fmt):
    path = tmp_path / f"s.{fmt}"
    if fmt == "pt":
        torch.save(torch.from_numpy(S), path)
        sub = path
    elif fmt == "h5":
        with h5py.File(path, "w") as f:
            f.create_dataset("similarity", data=S, chunks=(7, N))
        sub = path
    elif fmt == "memmap":
        np.save(tmp_path / "m.npy", S)
        sub = np.load(tmp_path / "m.npy", mmap_mode="r")
    elif fmt == "fortran":
        sub = tmp_path / "f.npy"
        np.save(sub, np.asfortranarray(S))
    elif fmt == "npz":
        sub = tmp_path / "s.npz"
        np.savez_compressed(sub, arr_0=S)
    else:
        sub = torch.from_numpy(S).to(torch.bfloat16)
        with pytest.warns(VarBenchWarning):
            r = score(sub)
        same_scores(r, score(sub.float().numpy()))
        return
    same_scores(score(sub), record)


def test_memmap_is_scored_with_bounded_memory(tmp_path):
    S = np.random.default_rng(3).standard_normal((N_XD, N_XD))  # float64: 5 MB
    np.save(tmp_path / "big.npy", S)
    mm = np.load(tmp_path / "big.npy", mmap_mode="r")
    tracemalloc.start()
    try:
        r = score(mm)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < S.nbytes  # never a whole copy of the matrix
    assert r.benchmark == "xdviolence-ar"


def test_one_direction_and_its_sumr(S, record):
    r = score(S, direction="v2t")
    assert list(r.metrics) == ["v2t"] and list(r.per_query) == ["v2t"]
    assert r.metrics["v2t"] == record.metrics["v2t"]
    assert r.main_value == pytest.approx(sum(record.metrics["v2t"][f"R@{k}"] for k in RECALL_KS))
    assert json.loads(r.to_json())["groups"] == ["v2t"]


@pytest.mark.parametrize("fmt", ["dict", "npz", "pt"])
def test_one_direction_container_scores_that_direction(tmp_path, S, record, fmt):
    """``{"t2v": S}`` (one direction under its name) is a t2v-only submission, not a refusal."""
    sub = {"t2v": S}
    if fmt == "npz":
        np.savez(sub := tmp_path / "half.npz", t2v=S)
    elif fmt == "pt":
        torch.save({"t2v": torch.from_numpy(S)}, sub := tmp_path / "half.pt")
    r = score(sub)
    assert r.groups == ["t2v"] and r.metrics["t2v"] == record.metrics["t2v"]
    assert r.main_value == pytest.approx(sum(record.metrics["t2v"][f"R@{k}"] for k in RECALL_KS))
    v = score({"v2t": np.ascontiguousarray(S.T)})  # v2t alone: rows are videos
    assert v.groups == ["v2t"] and v.metrics["v2t"] == record.metrics["v2t"]
    with pytest.raises(InputError, match="missing key 'v2t'"):
        score(sub, direction="v2t")


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), levels=st.integers(1, 8), ties=st.sampled_from(TIE_RULES))
def test_t2v_of_s_equals_v2t_of_s_transposed(seed, levels, ties):
    S = np.random.default_rng(seed).integers(0, levels, (N, N)).astype(np.float32)
    a = score(S, direction="t2v", ties=ties)
    b = score(np.ascontiguousarray(S.T), direction="v2t", ties=ties)
    assert a.metrics["t2v"] == b.metrics["v2t"]
    np.testing.assert_array_equal(a.per_query["t2v"].higher, b.per_query["v2t"].higher)


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_rules_are_ordered_and_exact_without_ties(seed):
    rng = np.random.default_rng(seed)
    S = rng.integers(0, 4, (N, N)).astype(np.float32) + rng.random() * np.eye(N, dtype=np.float32)
    r = score(S)
    for d in r.metrics:
        lo, hi = r.bounds["pessimistic"]["metrics"][d], r.bounds["optimistic"]["metrics"][d]
        for m in METRICS:
            worse, better = (lo[m], hi[m]) if m.startswith("R@") else (hi[m], lo[m])
            assert worse - 1e-9 <= r.metrics[d][m] <= better + 1e-9
    untied = score(rng.standard_normal((N, N)))
    assert (
        untied.bounds["optimistic"]["metrics"]
        == untied.metrics
        == untied.bounds["pessimistic"]["metrics"]
    )


# ------------------------------------------------------------------------------- the record


def test_json_keys_exactly_as_the_protocol(record):
    d = json.loads(record.to_json())
    assert list(d) == protocol_record_keys()
    assert d["benchmark"] == "ucfcrime-ar" and d["split"] == "test" and d["ties"] == "expected"
    assert list(d["metrics"]) == ["t2v", "v2t"]
    assert all(list(m) == list(METRICS) for m in d["metrics"].values())
    assert list(d["bounds"]) == ["optimistic", "pessimistic"]
    assert all(set(b) == {"metrics", "summary"} for b in d["bounds"].values())
    assert d["main_score"] == "SumR" and list(d["summary"]) == ["SumR"]
    assert (
        set(d["per_query"]["t2v"]) == {"higher", "tied"}
        and len(d["per_query"]["t2v"]["higher"]) == N
    )
    assert d["versions"] == {
        "var_bench": var_bench.__version__,
        "benchmark": UCFCRIME_AR.version,
        "record_schema": RECORD_SCHEMA,
    }
    assert (
        d["query_ids_sha256"] == d["gallery_ids_sha256"] == expected_ids_sha256(UCFCRIME_AR, "test")
    )
    assert d["date"].endswith("Z") and len(d["date"]) == len("2026-01-01T00:00:00Z")
    assert d["disclosure"] == {k: None for k in DISCLOSURE_KEYS}
    assert d["submission"] is None and d["submission_sha256"] is None
    assert d["groups"] == ["t2v", "v2t"] and d["provenance"] is None


def test_nothing_is_rounded(record):
    d = json.loads(record.to_json())
    assert d["metrics"]["t2v"]["R@1"] == record.metrics["t2v"]["R@1"]
    assert d["summary"]["SumR"] == record.main_value


def test_record_round_trips_through_json(tmp_path, S):
    meta = pd.DataFrame(
        {
            "video_id": IDS,
            "class": ["Abuse"] * 100 + ["Normal"] * (N - 100),
            "anomalous": [True] * 100 + [False] * (N - 100),
        }
    )
    r = score(
        S,
        metadata=meta,
        by_class=True,
        ci=True,
        replicates=200,
        name="mine",
        disclosure={"checkpoint_selection": "val split"},
    )
    r.save(tmp_path / "r.json")
    back = ResultRecord.load(tmp_path / "r.json")
    assert back.to_dict() == json.loads(r.to_json())
    assert back.disclosure["checkpoint_selection"] == "val split" and back.name == "mine"


def test_file_submission_records_name_and_sha256(tmp_path, S):
    p = tmp_path / "entry.npy"
    np.save(p, S)
    r = score(p)
    assert r.submission == "entry.npy" and r.submission_sha256 == sha256_file(p)


def test_by_class_and_ci(S):
    meta = pd.DataFrame(
        {
            "video_id": IDS,
            "class": ["Explosion"] * 140 + ["Normal"] * 150,
            "anomalous": [True] * 140 + [False] * 150,
        }
    )
    r = score(S, metadata=meta, by_class=True, ci=True, replicates=300, seed=1)
    assert r.by_class["anomalous"]["n"] == 140 and r.by_class["normal"]["n"] == 150
    assert list(r.by_class["classes"]) == ["Explosion", "Normal"]  # spec order
    assert set(r.ci["intervals"]) == {"t2v", "v2t", SUMR}
    lo, hi = r.ci["intervals"]["t2v"]["R@1"]
    assert lo <= r.metrics["t2v"]["R@1"] <= hi and r.ci["replicates"] == 300 and r.ci["seed"] == 1


def test_by_class_loads_the_table_when_no_metadata_is_given(monkeypatch, S):
    import var_bench.data.prepare as data

    meta = pd.DataFrame({"video_id": IDS, "class": ["Arson"] * N, "anomalous": [True] * N})
    calls = []
    monkeypatch.setattr(data, "load_table", lambda *a, **k: calls.append((a, k)) or meta)
    r = score(S, by_class=True, ids=IDS, home="/nowhere")
    assert calls and calls[0][1]["home"] == "/nowhere"
    assert r.by_class["normal"] is None and r.by_class["classes"]["Arson"]["n"] == N


def test_plain_matrix_needs_no_built_dataset(monkeypatch, S):
    import var_bench.data.prepare as data

    def boom(*a, **k):
        raise AssertionError("the dataset was loaded")

    monkeypatch.setattr(data, "load_table", boom)
    monkeypatch.setattr(data, "ids", boom)
    assert score(S).query_ids_sha256 == expected_ids_sha256(UCFCRIME_AR, "test")


# ------------------------------------------------------------------------------- refusals


@pytest.mark.parametrize(
    "kw, match",
    [
        (
            {"ties": "random"},
            "ties: expected one of expected, optimistic, pessimistic, got 'random'",
        ),
        ({"split": "dev"}, "split: expected one of train, val, test, got 'dev'"),
        ({"direction": "a2v"}, "unknown direction: expected one of t2v, v2t"),
        ({"disclosure": {"model_size": "big"}}, "disclosure: expected keys"),
        ({"ids": IDS[:5]}, f"ids: expected {N} canonical ids"),
    ],
)
def test_bad_arguments(S, kw, match):
    with pytest.raises(InputError, match=match):
        score(S, **kw)


@pytest.mark.parametrize("where", [(0, 0), (17, 200), (289, 3)])
def test_nan_and_inf_say_where(S, where):
    bad = S.copy()
    bad[where] = np.nan
    with pytest.raises(
        InputError,
        match=rf"matrix: expected finite scores, got NaN at row {where[0]}, "
        rf"column {where[1]}",
    ):
        score(bad)
    bad[where] = -np.inf
    with pytest.raises(InputError, match="-Inf"):
        score(bad, direction="v2t")


def test_nan_in_a_per_direction_matrix_names_the_key(S):
    bad = S.T.copy()
    bad[3, 4] = np.inf
    with pytest.raises(InputError, match=r"submission\['v2t'\]: expected finite scores, got Inf"):
        score({"t2v": S, "v2t": bad})


# ------------------------------------------------------------------------------- compare


def test_compare_identical_entries(S, record):
    c = compare(record, S, replicates=500)
    assert all(row.diff == 0 for row in c.rows)
    assert all(row.p_value == pytest.approx(1.0) for row in c.rows)


def test_compare_a_clearly_better_entry(S):
    rng = np.random.default_rng(4)
    worse = S + 3 * rng.standard_normal(S.shape).astype(np.float32)
    for method in ("permutation", "bootstrap"):
        c = compare(S, worse, method=method, replicates=500)
        sumr = [row for row in c.rows if row.metric == SUMR][0]
        assert sumr.diff > 0 and sumr.p_value < 0.01 and sumr.ci_low > 0 and sumr.better == "a"


def test_compare_reads_record_files(tmp_path, S, record):
    record.save(tmp_path / "a.json")
    c = compare(tmp_path / "a.json", S, replicates=100)
    assert len(c.rows) > 0


def test_compare_refuses_records_of_other_splits_or_benchmarks(S, record):
    other = ResultRecord.from_dict({**record.to_dict(), "query_ids_sha256": "0" * 64})
    with pytest.raises(InputError, match="same ids_sha256"):
        compare(record, other)
    xd = score(np.zeros((N_XD, N_XD)))
    with pytest.raises(InputError, match="same benchmark"):
        compare(record, xd)
    with pytest.raises(InputError, match="expected a xdviolence-ar entry"):
        compare(record, xd, "xdviolence-ar")
    with pytest.raises(InputError, match="same directions"):
        compare(record, score(S, direction="t2v"))
    with pytest.raises(InputError, match="method: expected one of permutation, bootstrap"):
        compare(record, record, method="t-test")


# ------------------------------------------------------------------------------- peer bugs


def test_clip4clip_issue80_ties_never_give_more_ranks_than_queries():
    """CLIP4Clip finds the diagonal with np.where(sorted == diag): ties give extra ranks."""
    S = np.zeros((N, N), np.float32)
    S[:, :3] = 1.0  # three videos tie at the top of every query
    r = score(S)
    assert all(len(q) == N for q in r.per_query.values())
    assert np.isfinite(r.metrics["t2v"]["MdR"])


def test_collaborative_experts_tie_at_first_place_is_not_a_miss():
    """CE averages the tied rank and then tests rank == 0: a tie at first place counted 0."""
    S = -np.abs(np.arange(N)[:, None] - np.arange(N)[None, :]).astype(np.float32)
    S[0, 1] = S[0, 0]  # query 0's true item ties with one other at the top
    r = score(S, direction="t2v")
    assert r.metrics["t2v"]["R@1"] == pytest.approx(100 * (N - 1 + 0.5) / N)
    assert r.bounds["pessimistic"]["metrics"]["t2v"]["R@1"] == pytest.approx(100 * (N - 1) / N)


def test_mteb_5092_a_constant_model_cannot_win():
    r = score(np.ones((N, N)))
    assert r.main_value == pytest.approx(2 * sum(100 * k / N for k in RECALL_KS))
    assert (
        r.bounds["optimistic"]["summary"]["SumR"] == 600.0
    )  # only the bound, never the score, is perfect


def test_beir_105_one_documented_tie_rule_with_bounds(record):
    assert record.ties == "expected" and set(record.bounds) == {"optimistic", "pessimistic"}


def test_mteb_5228_records_carry_versions_and_the_id_list_hash(record):
    assert record.versions["var_bench"] == var_bench.__version__
    assert record.versions["benchmark"] == UCFCRIME_AR.version
    assert len(record.query_ids_sha256) == 64
