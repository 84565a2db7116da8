from support.manifests import feature_manifest as _m

from var_bench.features.manifest import BUILD_FORMAT, FeatureManifest


def test_round_trip_and_refusals(tmp_path):
    m = _m()
    m.write(tmp_path)
    assert FeatureManifest.read(tmp_path) == m
    _m(build_format=BUILD_FORMAT + 1).write(tmp_path)
    assert FeatureManifest.read(tmp_path) is None
    (tmp_path / "manifest.json").write_text("{")
    assert FeatureManifest.read(tmp_path) is None
