"""``var-bench reproduce`` and ``var-bench sweep`` end to end on a synthetic feature store with
the real metadata (skipped without ../shared/data), plus the pure parts."""

from __future__ import annotations

import json
import math

import pytest

from var_bench.errors import InputError
from var_bench.reproduce import StrictRefusal, plan_reproduction, reproduce
from var_bench.reproduce.paper import STATED, paper_values, same_value
from var_bench.reproduce.stats import compare, seed_stats
from var_bench.reproduce.sweep import ablation_grid, grid_from_dict, ray_available, run_grid

UCF = "ucfcrime-ar"


@pytest.fixture(scope="module")
def store_home(shared_data, tmp_path_factory):
    """Real metadata + a small synthetic RGB-only store (8 snippets per video)."""
    from var_bench.data.prepare import download
    from var_bench.features import build_features
    from var_bench.synth import synthesize

    root = tmp_path_factory.mktemp("repro")
    home = root / "home"
    download(home=home, mirror=str(shared_data), progress=False)
    made = synthesize(
        root / "tree",
        UCF,
        home=home,
        progress=False,
        crops=1,
        snippets=8,
        snippet_frames=64,
        flow=False,
    )
    build_features(UCF, made.paths["features"], home=home, progress=False)
    return home


def _raw_home_and_tree(root, *, snippet_frames: int, flow: bool):
    """The raw-fixture metadata (a handful of videos) built into ``root/home``, and a synthetic
    feature tree for it (1 crop, 4 snippets): (home, tree)."""
    from support.rawdata import make_ucf

    from var_bench.data.assembly.pipeline import assemble_into
    from var_bench.data.paths import built_dir
    from var_bench.synth import synthesize

    home = root / "home"
    fx = make_ucf(root / "raw")
    assemble_into(fx.spec, fx.raw, built_dir(fx.spec, home), fx.info)
    made = synthesize(
        root / "tree",
        UCF,
        home=home,
        progress=False,
        crops=1,
        snippets=4,
        snippet_frames=snippet_frames,
        flow=flow,
    )
    return home, made.paths["features"]


@pytest.fixture(scope="module")
def small_home(tmp_path_factory):
    """The raw-fixture metadata + a synthetic RGB-only store: enough to plan a reproduction
    (planning reads the store's manifest, never trains)."""
    from var_bench.features import build_features

    root = tmp_path_factory.mktemp("repro-small")
    home, tree = _raw_home_and_tree(root, snippet_frames=64, flow=False)
    build_features(UCF, tree, home=home, progress=False)
    return home


@pytest.fixture(autouse=True)
def _offline(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")


# ------------------------------------------------------------------ pure parts


def test_seed_stats_t_interval_by_hand():
    s = seed_stats([10.0, 12.0, 14.0])
    assert s.mean == 12.0 and s.std == pytest.approx(2.0)
    half = 4.303 * 2.0 / math.sqrt(3)  # t_{0.975, 2} = 4.303
    assert s.ci == pytest.approx((12.0 - half, 12.0 + half))
    c = compare([10.0, 12.0, 14.0], 16.0)
    assert c.difference == pytest.approx(-4.0) and c.inside is True
    assert compare([10.0, 12.0, 14.0], 30.0).inside is False
    one = compare([5.0], 5.0)
    assert one.stats.ci is None and one.inside is None and one.stats.std == 0.0


@pytest.mark.parametrize("bench", ["ucfcrime-ar", "xdviolence-ar"])
def test_stated_paper_values_agree_with_the_shipped_alan_config(bench):
    # One source of truth in spirit: the benchmark config must already hold every stated value.
    from var_bench.benchmarks import get_benchmark
    from var_bench.models.alan import ALANConfig
    from var_bench.training.config import load_config

    cfg = load_config(None, model="alan", benchmark=bench).to_dict()
    defaults = ALANConfig()
    for pv in paper_values("alan", get_benchmark(bench).query_modality):
        if pv.status != STATED or pv.key == "text_model":
            continue
        section, _, name = pv.key.partition(".")
        got = cfg[section].get(name, getattr(defaults, name, None))
        got = list(got) if isinstance(got, tuple) else got
        assert same_value(got, pv.value), (pv.key, got, pv.value)


def test_grid_expansion_and_errors():
    g = grid_from_dict(
        {
            "model": "alan",
            "benchmark": UCF,
            "config": "tiny",
            "seeds": 2,
            "grid": {"model_args.alpha": [0.0, 1.0], "model_args.n": [4]},
            "trials": [{"name": "fs only", "set": {"model_args.sequences": ["fs"]}}],
        }
    )
    assert [t.name for t in g.trials] == ["alpha-0.0-n-4", "alpha-1.0-n-4", "fs-only"]
    assert g.trials[2].overrides == ('model_args.sequences=["fs"]',) and g.seeds == [0, 1]
    with pytest.raises(InputError, match="unknown key 'grids'"):
        grid_from_dict({"model": "alan", "benchmark": UCF, "grids": {}})
    with pytest.raises(InputError, match="seeds"):
        grid_from_dict({"model": "alan", "benchmark": UCF, "seeds": 0})
    assert [t.name for t in ablation_grid("vpmpm", UCF).trials] == [
        "no-vpmpm",
        "random-words",
        "noun-verb-words",
        "phrases",
    ]
    with pytest.raises(InputError, match="text benchmark"):
        ablation_grid("vpmpm", "xdviolence-ar")
    with pytest.raises(InputError, match="--ablation: expected one of"):
        ablation_grid("table-xii", UCF)


# ------------------------------------------------------------------ strict / deviations


def test_strict_paper_run_on_synthetic_features_is_refused(small_home):
    with pytest.raises(StrictRefusal) as info:
        plan_reproduction("alan", UCF, config="paper", home=small_home)
    keys = [line.split(":")[0] for line in info.value.lines]
    assert "features.synthetic" in keys and "alan.no_flow" in keys


def test_strict_refuses_a_changed_paper_hyper_parameter(small_home):
    with pytest.raises(StrictRefusal) as info:
        plan_reproduction("alan", UCF, config="paper", home=small_home, overrides=["train.lr=1e-3"])
    assert any(line.startswith("paper.changed[train.lr]") for line in info.value.lines)


def test_strict_refusal_cli_one_line_each(small_home, capsys):
    from var_bench.cli import main

    with pytest.raises(SystemExit) as exit_info:
        main(["reproduce", "alan", "--benchmark", UCF, "--home", str(small_home)])
    assert exit_info.value.code == 2
    lines = [l for l in capsys.readouterr().out.splitlines() if "refused" in l]
    assert any("features.synthetic" in l for l in lines) and any("alan.no_flow" in l for l in lines)
    assert all(l.count("refused:") == 1 for l in lines)


def test_allow_deviation_plans_and_lists_them(small_home):
    plan = plan_reproduction("alan", UCF, config="paper", home=small_home, strict=False)
    keys = {d.key for d in plan.deviations}
    assert {"features.synthetic", "alan.no_flow"} <= keys
    assert plan.config["model_args"]["self_layers"] == 1  # the paper's "a standard layer"
    assert plan.config["model_args"]["weights_from"] == "embeddings"
    assert set(plan.features["counts"]) == {"train", "val", "test"}
    with pytest.raises(InputError, match="--config: expected paper, tiny or a YAML file"):
        plan_reproduction("alan", UCF, config="papr", home=small_home)


# ------------------------------------------------------------------ end to end


TINY_FAST = ("train.epochs=2", "train.max_steps_per_epoch=3", "model_args.vpmpm=false")


@pytest.mark.slow  # about 2-3 min on 2 shared cores: model loads and val/test encodes dominate
def test_tiny_config_reproduces_end_to_end_with_two_seeds(store_home, tmp_path):
    out = tmp_path / "rep"
    summary = reproduce(
        "alan",
        UCF,
        seeds=2,
        config="tiny",
        overrides=TINY_FAST,
        out=out,
        home=store_home,
        device="cpu",
        progress=False,
    )
    data = json.loads((out / "summary.json").read_text())
    assert data["published_method"] == "ALAN" and data["SumR"]["published"] == 160.7
    for key in ("mean", "std", "ci", "published"):
        assert key in data["SumR"] and key in data["metrics"]["t2v"]["R@1"]
    assert data["metrics"]["v2t"]["MdR"]["published"] is not None
    assert [s["seed"] for s in data["seeds"]] == [0, 1]
    assert all(len(s["val_curve"]) == 2 for s in data["seeds"])  # val SumR per epoch
    keys = {d["key"] for d in data["deviations"]}
    assert {"features.synthetic", "alan.no_flow", "paper.changed[model_args.d]"} <= keys
    for s in data["seeds"]:
        record = json.loads((out / s["record"]).read_text())
        assert "features.synthetic" in record["disclosure"]["deviations"]
        assert record["main_score"] == "SumR"
        assert record["summary"]["SumR"] == pytest.approx(s["score"])
    sumrs = [s["score"] for s in data["seeds"]]
    assert data["SumR"]["mean"] == pytest.approx(sum(sumrs) / 2)
    md = (out / "report.md").read_text()
    assert "160.7" in md and "Deviations from the paper" in md and "| 2 |" in md
    assert "<svg" in (out / "report.html").read_text()
    assert summary.score.stats.n == 2
    # A rerun resumes: finished seeds are read back, not trained again.
    again = reproduce(
        "alan",
        UCF,
        seeds=2,
        config="tiny",
        overrides=TINY_FAST,
        out=out,
        home=store_home,
        device="cpu",
        progress=False,
    )
    assert again.score.stats.values == summary.score.stats.values


def _random_grid():
    return grid_from_dict(
        {
            "model": "random",
            "benchmark": UCF,
            "config": "tiny",
            "seeds": 2,
            "strict": False,
            "grid": {"model_args.seed": [0, 1]},
        }
    )


@pytest.mark.slow  # needs the full store (about 70 s to build)
def test_sweep_runs_sequentially_into_ordinary_records(store_home, tmp_path):
    from var_bench.scoring.record import ResultRecord

    result = run_grid(
        _random_grid(),
        out=tmp_path / "sw",
        home=store_home,
        device="cpu",
        runner="sequential",
        progress=False,
    )
    data = json.loads((tmp_path / "sw" / "summary.json").read_text())
    assert data["runner"] == "sequential" and sorted(data["trials"]) == ["seed-0", "seed-1"]
    for trial in data["trials"].values():
        assert len(trial["records"]) == 2
        for rec in trial["records"]:
            ResultRecord.from_dict(json.loads((tmp_path / "sw" / rec).read_text()))
    assert "test SumR" in (tmp_path / "sw" / "report.md").read_text()
    assert set(result.summaries) == {"seed-0", "seed-1"}


@pytest.mark.slow
@pytest.mark.skipif(
    not ray_available(),
    reason="Ray Tune not installed (pip install -e '.[sweep]' in the var_bench checkout)",
)
def test_sweep_on_a_local_ray_instance(store_home, tmp_path):
    import ray

    try:
        result = run_grid(
            _random_grid(),
            out=tmp_path / "ray",
            home=store_home,
            device="cpu",
            runner="ray",
            progress=False,
        )
    finally:
        ray.shutdown()
    assert result.runner == "ray"
    data = json.loads((tmp_path / "ray" / "summary.json").read_text())
    assert all(len(t["records"]) == 2 for t in data["trials"].values())


def test_features_store_names_a_store_of_the_collection_or_of_the_earlier_layout(tmp_path):
    from var_bench.benchmarks import UCFCRIME_AR
    from var_bench.reproduce.run import resolve_home

    home = tmp_path / "home"
    for store in (home / "features" / "ucf-crime", home / "features" / "ucfcrime-ar" / "1.0.0"):
        store.mkdir(parents=True)
        (store / "manifest.json").write_text("{}")
        assert resolve_home(store, None, UCFCRIME_AR) == str(home)
    assert resolve_home(home, None, UCFCRIME_AR) == str(home)


# ------------------------------------------------------------------ the paper's tables, plans


def test_alpha_grid_is_the_papers_and_every_ablation_trial_has_its_published_row():
    from var_bench.leaderboard.published import published_ablation
    from var_bench.reproduce.sweep import ABLATIONS

    alphas = [json.loads(t.overrides[0].split("=")[1]) for t in ablation_grid("alpha", UCF).trials]
    assert alphas == [0.0, 0.2, 0.4, 0.5, 0.6, 0.8, 1.0]  # Tables IX / X
    for bench in (UCF, "xdviolence-ar"):
        for name, trials in ABLATIONS.items():
            table = published_ablation(bench, name)
            if name == "vpmpm" and bench != UCF:
                assert table is None
                continue
            # the same trials, in the paper's row order
            assert [r.trial for r in table.rows] == [t for t, _ in trials], (bench, name)


def test_ablation_settings_are_the_rows_not_deviations(small_home):
    from var_bench.reproduce.sweep import trial_settings

    grid = ablation_grid("alpha", UCF, strict=False)
    trial = grid.trials[1]  # alpha 0.2
    plan = plan_reproduction(
        "alan", UCF, config="paper", home=small_home, strict=False, **trial_settings(grid, trial)
    )
    assert plan.config["model_args"]["alpha"] == 0.2 and plan.ablation == {"model_args.alpha": 0.2}
    assert not any(d.key.startswith("paper.changed") for d in plan.deviations)
    # the same value through --set is a deviation
    plan = plan_reproduction(
        "alan",
        UCF,
        config="paper",
        home=small_home,
        strict=False,
        overrides=["model_args.alpha=0.2"],
    )
    assert "paper.changed[model_args.alpha]" in {d.key for d in plan.deviations}


def test_dry_run_prints_the_plan_and_trains_nothing(small_home, tmp_path, monkeypatch, capsys):
    from var_bench.cli import main

    monkeypatch.chdir(tmp_path)
    argv = ["reproduce", "--ablation", "alpha", "--benchmark", UCF, "--home", str(small_home)]
    with pytest.raises(SystemExit) as info:
        main([*argv, "--seeds", "2", "--dry-run"])
    assert info.value.code in (0, None)
    out = capsys.readouterr().out
    assert "7 trial(s) x 2 seed(s) = 14 training run(s)" in out and "seeds [0, 1]" in out
    for a in ("0", "0.2", "0.4", "0.5", "0.6", "0.8", "1"):
        assert f"alpha-{a}: model_args.alpha=" in out
    assert "compared with alpha = 0.2 (Wu et al., TIP 2024, Table IX" in out
    assert "t2v R@1 8.3, R@10 38.6; v2t R@1 6.2, R@10 40.3" in out
    assert out.count("features.synthetic:") == 1  # shared by every trial: listed once
    assert "WARNING: 2 seeds" in out and "--strict would refuse" in out
    assert 'model_args.rank_reduction = "mmt" (reading' in out
    assert list(tmp_path.iterdir()) == []  # nothing written


@pytest.fixture(scope="module")
def extracted_flow_home(tmp_path_factory):
    """The raw-fixture metadata + a store whose RGB has no extraction identity (a release) and
    whose Flow was made by var-bench extract (its extraction.json), no synthetic marker."""
    from var_bench.features import build_features
    from var_bench.features.extraction import EXTRACTION_FILE
    from var_bench.features.layouts import SYNTH_MARKER

    root = tmp_path_factory.mktemp("repro-flow")
    home, tree = _raw_home_and_tree(root, snippet_frames=16, flow=True)
    (tree / SYNTH_MARKER).unlink()
    ident = {
        "model": "i3d-flow",
        "stream": "flow",
        "weights": {"file": "flow_imagenet.pt", "sha256": "f" * 64},
        "random_weights": False,
        "recipe": {"name": "ucf-crime-release"},
        "flow": {"method": "raft"},
        "decoder": {"name": "pyav", "version": "14"},
    }
    (tree / EXTRACTION_FILE).write_text(json.dumps({"identity": ident, "videos": {}}))
    build_features(UCF, tree, home=home, progress=False)
    return home


def test_extracted_flow_is_a_named_deviation_under_strict(extracted_flow_home, monkeypatch):
    import var_bench.models.text as text

    monkeypatch.setattr(text, "is_fallback", lambda name: False)  # as if BERT were cached
    plan = plan_reproduction("alan", UCF, config="paper", home=extracted_flow_home, strict=True)
    prov = plan.features["provenance"]
    assert prov["rgb"] == {"origin": "public release", "release": None, "verified": False}
    assert prov["flow"]["origin"] == "var-bench extraction"
    assert prov["flow"]["flow_method"] == "raft" and prov["flow"]["weights_sha256"] == "f" * 64
    devs = {d.key: d.message for d in plan.deviations}
    assert "features.extracted[flow]" in devs and "features.extracted[rgb]" not in devs
    assert (
        "raft" in devs["features.extracted[flow]"]
        and "ucf-crime-release" in devs["features.extracted[flow]"]
    )
    assert "features.synthetic" not in devs
    assert plan.to_json()["features"]["provenance"]["flow"]["recipe"] == "ucf-crime-release"


def _fake_run(seed, r1, score, deviations=()):
    from var_bench.reproduce import SeedRun

    metrics = {
        d: {"R@1": r1, "R@5": 20.0, "R@10": 30.0, "MdR": 10.0, "MnR": 20.0} for d in ("t2v", "v2t")
    }
    return SeedRun(
        seed,
        f"seeds/seed-{seed}/test.json",
        "ck",
        score,
        metrics,
        1.0,
        None,
        [[1, 100.0 + seed], [2, 110.0 + seed]],
        2,
        list(deviations),
    )


def test_report_statistics_a_reader_can_trust(extracted_flow_home, monkeypatch):
    import var_bench.models.text as text
    from var_bench.reproduce.report import render_html, render_markdown, summarise

    monkeypatch.setattr(text, "is_fallback", lambda name: False)
    plan = plan_reproduction("alan", UCF, config="paper", home=extracted_flow_home, strict=True)
    model_dev = "alan.no_flow: said again by the model in other words"
    runs = [_fake_run(0, 0.3, 100.0, [model_dev]), _fake_run(1, 9.0, 160.0, [model_dev])]
    s = summarise(plan, runs, wall_seconds=2.0, device="cpu")
    c = s.metrics["t2v"]["R@1"]
    assert c.stats.ci[0] == 0.0 and c.stats.ci[1] <= 100.0  # clipped to the range of a recall
    assert s.score.stats.ci[0] >= 0.0
    assert c.inside is None and c.withheld  # deviations in force: no "inside" claimed
    assert any("2 seeds" in w for w in s.warnings)
    md = render_markdown(s)
    assert "| yes |" not in md and "**Warning:** 2 seeds" in md
    assert md.count("`features.extracted[flow]`") == 1
    assert "flow: var-bench extraction" in md
    html = render_html(s)
    assert "<svg" in html and "Validation SumR per epoch" in html and ">epoch<" in html
    assert "seed 0" in html and "seed 1" in html  # the legend
    keys = [d.key for d in s.deviations]
    assert len(keys) == len(set(keys))


def test_paper_config_turns_on_the_baselines_official_options_as_guesses(small_home):
    from var_bench.reproduce.paper import GUESS, READING

    for model, key in (
        ("mmt", "geu_batch_norm"),
        ("xclip", "mat_weights"),
        ("xml", "hard_negatives"),
    ):
        plan = plan_reproduction(model, UCF, config="paper", home=small_home, strict=False)
        assert plan.config["model_args"][key] is True
        pv = next(p for p in plan.paper if p.key == f"model_args.{key}")
        assert pv.status == GUESS and "official code" in pv.source
    alan = {p.key: p for p in paper_values("alan", "text")}
    assert alan["model_args.rank_reduction"].status == READING
    assert alan["model_args.position_embedding"].value == "learned"


def test_ablation_report_puts_each_trial_beside_the_papers_row(small_home, tmp_path):
    from var_bench.leaderboard.published import published_ablation
    from var_bench.reproduce.report import summarise
    from var_bench.reproduce.sweep import GridResult, trial_settings, write_grid_report

    grid = ablation_grid("alpha", UCF, strict=False, seeds=3)
    grid.trials = grid.trials[:2]  # alpha 0 and 0.2
    table = published_ablation(UCF, "alpha")
    summaries = {}
    for trial in grid.trials:
        plan = plan_reproduction(
            "alan",
            UCF,
            config="paper",
            home=small_home,
            strict=False,
            **trial_settings(grid, trial),
        )
        runs = [_fake_run(k, 8.0 + k, 150.0 + k) for k in range(3)]
        summaries[trial.name] = summarise(
            plan, runs, wall_seconds=1.0, device="cpu", ablation=(table, table.row(trial.name))
        )
    write_grid_report(GridResult(grid, tmp_path, summaries, "sequential", 1.0))
    md = (tmp_path / "report.md").read_text()
    assert "Beside the paper: Wu et al., TIP 2024, Table IX" in md
    # alpha 0.2, t2v R@1: ours 9.0 +- 1.0 beside the paper's 8.3, difference 0.7
    assert "| alpha-0.2 | alpha = 0.2 | t2v | R@1 | 9.0 +- 1.0 |" in md and "| 8.3 | 0.7 |" in md
    assert md.count("`features.synthetic`") == 1  # every trial's deviation, listed once
    data = json.loads((tmp_path / "summary.json").read_text())
    assert data["ablation"] == "alpha"
    trial = data["trials"]["alpha-0.2"]
    assert trial["published"]["metrics"]["v2t"] == {"R@1": 6.2, "R@10": 40.3}
    assert trial["metrics"]["t2v"]["R@1"]["difference"] == pytest.approx(0.7)
    assert trial["metrics"]["t2v"]["R@1"]["inside"] is None  # synthetic: not claimed
