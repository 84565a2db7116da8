import datasets
import yaml
from huggingface_hub import DatasetCard
from support.paths import DOCS
from support.rawdata import make_ucf, make_xd

from var_bench.data.assembly.pipeline import assemble_into
from var_bench.data.assembly.schema import columns


def _built(tmp_path, make):
    fx = make(tmp_path / "raw")
    out = tmp_path / "built"
    assemble_into(fx.spec, fx.raw, out, fx.info)
    return fx, out


def test_card_yaml_has_configs_features_and_split_sizes(tmp_path):
    fx, out = _built(tmp_path, make_ucf)
    card = DatasetCard.load(out / "README.md")
    meta = card.data.to_dict()
    files = {f["split"]: f["path"] for f in meta["configs"][0]["data_files"]}
    assert files == {
        "train": "data/train.parquet",
        "val": "data/val.parquet",
        "test": "data/test.parquet",
    }
    names = [f["name"] for f in meta["dataset_info"]["features"]]
    assert names == [c.name for c in columns(fx.spec)]
    sizes = {s["name"]: s["num_examples"] for s in meta["dataset_info"]["splits"]}
    assert sizes == {k: len(v) for k, v in fx.expected.items()}
    assert meta["license"] == "other"
    body = card.text
    assert "@article{wu2024var" in body and "clipped" in body
    for c in columns(fx.spec):
        assert f"`{c.name}`" in body


def test_plain_datasets_loads_the_folder_without_a_script(tmp_path):
    fx, out = _built(tmp_path, make_xd)
    dd = datasets.load_dataset(str(out), cache_dir=str(tmp_path / "hf"))
    assert set(dd) == {"train", "val", "test"}
    assert dd["test"]["video_id"] == fx.expected["test"]
    ds = datasets.load_dataset(
        "parquet",
        data_files={"test": str(out / "data/test.parquet")},
        cache_dir=str(tmp_path / "hf"),
    )["test"]
    assert (
        ds.features["segments"]
        == datasets.Features.from_dict(
            {
                "s": {
                    "_type": "List",
                    "feature": {"_type": "List", "feature": {"dtype": "int32", "_type": "Value"}},
                }
            }
        )["s"]
    )


def test_card_is_deterministic(tmp_path):
    _, a = _built(tmp_path / "a", make_ucf)
    _, b = _built(tmp_path / "b", make_ucf)
    assert (a / "README.md").read_text() == (b / "README.md").read_text()
    assert (
        yaml.safe_load((a / "README.md").read_text().split("---")[1])["pretty_name"]
        == "UCFCrime-AR"
    )


def test_docs_column_tables_match_the_schema():

    from var_bench.benchmarks import BENCHMARKS
    from var_bench.data.assembly.card import column_rows

    doc = (DOCS / "data.md").read_text()
    for spec in BENCHMARKS.values():
        for row in column_rows(spec):
            assert row in doc, f"docs/data.md is out of date: missing {row}"
