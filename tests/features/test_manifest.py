import pytest
from support.manifests import feature_manifest as _m

from var_bench.errors import InputError
from var_bench.features.manifest import BUILD_FORMAT, FeatureManifest


def test_round_trip_and_refusals(tmp_path):
    m = _m()
    m.write(tmp_path)
    assert FeatureManifest.read(tmp_path) == m
    _m(build_format=BUILD_FORMAT + 1).write(tmp_path)
    assert FeatureManifest.read(tmp_path) is None
    (tmp_path / "manifest.json").write_text("{")
    with pytest.raises(InputError, match="manifest.json: expected JSON"):
        FeatureManifest.read(tmp_path)


@pytest.mark.parametrize(
    "changes, match",
    [
        ({"shards": {"test": ["../../elsewhere/part-00000.arrow"]}}, "field shards.test.0"),
        ({"shards": {"test": ["/etc/passwd"]}}, "field shards.test.0"),
        ({"dims": {"rgb": "1024"}}, "field dims.rgb: expected a valid integer"),
        ({"snippet_frames": True}, "field snippet_frames"),
        ({"streams": "rgb"}, "field streams"),
        ({"benchmark": None}, "field benchmark"),
        ({"evil": 1}, "expected fields among .*got evil"),
    ],
)
def test_a_tampered_manifest_is_one_line_naming_the_field(tmp_path, changes, match):
    import json

    _m().write(tmp_path)
    raw = json.loads((tmp_path / "manifest.json").read_text("utf-8"))
    raw.update(changes)
    (tmp_path / "manifest.json").write_text(json.dumps(raw), "utf-8")
    with pytest.raises(InputError, match=match) as info:
        FeatureManifest.read(tmp_path)
    assert "manifest.json" in str(info.value)
