import datasets
import pytest

import var_bench
from support.rawdata import make_ucf, make_xd
from var_bench.build.pipeline import build
from var_bench.errors import InputError, NotBuiltError
from var_bench.paths import built_dir


@pytest.fixture
def built_home(tmp_path, monkeypatch):
    """A data home holding both benchmarks built from the synthetic raw fixtures."""
    home = tmp_path / "home"
    monkeypatch.setenv("VAR_BENCH_HOME", str(home))
    fixtures = {}
    for make in (make_ucf, make_xd):
        fx = make(tmp_path / "raw")
        build(fx.spec, fx.raw, built_dir(fx.spec, home), fx.info)
        fixtures[fx.spec.name] = fx
    return fixtures


def test_load_dataset_split_and_dict(built_home):
    fx = built_home["ucfcrime-ar"]
    ds = var_bench.load_dataset("ucfcrime-ar", split="test", download=False)
    assert isinstance(ds, datasets.Dataset)
    assert ds["video_id"] == fx.expected["test"]
    assert ds.features["segments"].feature.feature.dtype == "int32"
    dd = var_bench.load_dataset("ucfcrime-ar", download=False)
    assert isinstance(dd, datasets.DatasetDict) and list(dd) == ["train", "val", "test"]
    both = var_bench.load_dataset("ucfcrime-ar", split="train+val", download=False)
    assert both["video_id"] == fx.expected["train"] + fx.expected["val"]


def test_ids_and_table(built_home):
    from var_bench.data import ids, load_table

    assert ids("xdviolence-ar", "val", download=False) == built_home["xdviolence-ar"].expected["val"]
    t = load_table("XDViolence_AR", "test", download=False)  # name normalisation
    assert list(t.columns[:3]) == ["video_id", "class", "anomalous"]


def test_bad_split_is_one_line(built_home):
    with pytest.raises(InputError, match=r"split: expected one of train, val, test .* got 'dev'"):
        var_bench.load_dataset("ucfcrime-ar", split="dev", download=False)


def test_not_built_without_download(tmp_path, monkeypatch):
    monkeypatch.setenv("VAR_BENCH_HOME", str(tmp_path / "empty"))
    with pytest.raises(NotBuiltError, match="var-bench download ucfcrime-ar"):
        var_bench.load_dataset("ucfcrime-ar", split="test", download=False)


def test_unknown_benchmark():
    with pytest.raises(InputError, match=r"expected one of ucfcrime-ar, xdviolence-ar, got 'ucf'"):
        var_bench.load_dataset("ucf")


def test_info_counts_and_caption_lengths(built_home):
    from var_bench.info import benchmark_info

    i = benchmark_info("ucfcrime-ar", download=False)
    assert i.counts == {k: len(v) for k, v in built_home["ucfcrime-ar"].expected.items()}
    assert i.class_counts["test"]["Abuse"] == 1 and i.class_counts["test"]["Robbery"] == 0
    assert i.anomalous_counts["test"] == 1
    assert i.caption_lengths["caption_en"].unit == "words"
    assert i.annotated_test_videos == 1
    assert "sultani2018real" in i.citation
