import datasets
import pytest

import var_bench
from var_bench.cli import main
from var_bench.errors import InputError, NotBuiltError


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
    from var_bench.data.prepare import ids, load_table

    assert (
        ids("xdviolence-ar", "val", download=False) == built_home["xdviolence-ar"].expected["val"]
    )
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
    with pytest.raises(InputError, match=r"one of ucfcrime-ar, xdviolence-ar, uca, got 'ucf'"):
        var_bench.load_dataset("ucf")


def test_an_edited_built_table_is_detected(built_home, capsys):
    """D20 (issue 11): a built table edited after the build (two ids swapped) is refused by the
    library and by the CLI, never read in a new order."""
    import pyarrow.parquet as pq

    from var_bench.benchmarks import get_benchmark
    from var_bench.data.assembly.manifest import DATA_FILE
    from var_bench.data.paths import built_dir

    path = built_dir(get_benchmark("ucfcrime-ar")) / DATA_FILE.format(split="test")
    t = pq.read_table(path)
    order = list(range(t.num_rows))
    order[0], order[1] = order[1], order[0]  # two ids swapped
    pq.write_table(t.take(order), path)
    for call in (
        lambda: var_bench.ids("ucfcrime-ar", "test", download=False),
        lambda: var_bench.load_dataset("ucfcrime-ar", "test", download=False),
    ):
        with pytest.raises(var_bench.errors.DataError, match="edited or is corrupt"):
            call()
    with pytest.raises(SystemExit) as e:
        main(["ids", "ucfcrime-ar"])
    assert e.value.code == 1 and "edited or is corrupt" in capsys.readouterr().out
