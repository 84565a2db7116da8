from support.manifests import feature_manifest as _m

from var_bench.benchmarks import UCFCRIME_AR
from var_bench.features.card import features_section, render_features_card
from var_bench.features.store import store_features


def test_section_lists_missing_and_synthetic():
    m = _m(
        missing={"test": ["A", "B"]},
        synthetic={"generator": "var_bench.synth", "seed": 1},
        notes=["n1"],
    )
    text = "\n".join(features_section(m))
    assert "Synthetic features" in text and "`A`, `B`" in text and "--allow-missing" in text
    assert "`rgb` (ucf-crops, D = 1024)" in text and "- n1" in text


def test_card_has_shard_configs_and_metadata_body():
    m = _m()
    meta = "---\nlicense: other\n---\n\n# UCFCrime-AR\n\nbody text\n"
    card = render_features_card(
        UCFCRIME_AR, m, meta, store_features({"rgb": 1024}, "float32", None)
    )
    assert card.startswith("---\n") and "path: data/test/*.arrow" in card
    assert "array2_d" in card and "body text" in card and card.count("license: other") == 1
