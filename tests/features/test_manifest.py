from var_bench.features.manifest import BUILD_FORMAT, FeatureManifest


def _m(**kw):
    base = dict(benchmark="ucfcrime-ar", version="1.0.0", build_format=BUILD_FORMAT, var_bench="0",
                built_at="t", layout={"rgb": "ucf-crops"}, streams=["rgb"], crops_mode="mean",
                num_crops=10, dtype="float32", dims={"rgb": 1024}, snippet_frames=16,
                synthetic=None, counts={"test": 1}, missing={"test": []}, trimmed={"test": 0},
                shards={"test": ["data/test/part-00000.arrow"]}, ids_sha256={"test": "x"})
    return FeatureManifest(**{**base, **kw})


def test_round_trip_and_refusals(tmp_path):
    m = _m()
    m.write(tmp_path)
    assert FeatureManifest.read(tmp_path) == m
    _m(build_format=BUILD_FORMAT + 1).write(tmp_path)
    assert FeatureManifest.read(tmp_path) is None
    (tmp_path / "manifest.json").write_text("{")
    assert FeatureManifest.read(tmp_path) is None
