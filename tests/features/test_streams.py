"""The stream vocabulary (features.streams): tables read from the registry at call time, and the
only module of the feature stage that models import."""

from __future__ import annotations

import ast
import dataclasses
from pathlib import Path

import pytest

import var_bench
from var_bench.benchmarks import (
    UCFCRIME_AR,
    Layout,
    VideoCollection,
    register_benchmark,
    unregister_benchmark,
)
from var_bench.features.layouts import all_layouts
from var_bench.features.streams import known_streams, order_streams, query_streams, video_streams

HUMMING = VideoCollection(
    "humming-videos",
    "Humming videos",
    layouts=(
        Layout("hum-i3d", "{stem}__{crop}.npy", 1024),
        Layout("hum-swin", "{stem}_swin.npy", 768, crops="none", stream="swin"),
        Layout("hum-audio", "{stem}__hum.npy", 64, crops="none", stream="hum", audio=True),
    ),
)


@pytest.fixture
def humming():
    """A benchmark over a collection with its own layouts, registered after every import."""
    spec = register_benchmark(dataclasses.replace(UCFCRIME_AR, name="humming-ar", videos=HUMMING))
    try:
        yield spec
    finally:
        unregister_benchmark(spec.name)


def test_tables_follow_a_benchmark_registered_later(humming):
    assert {"hum-i3d", "hum-swin", "hum-audio", "ucf-crops", "xd-vggish"} <= set(all_layouts())
    assert query_streams() == {"audio", "hum"}
    assert known_streams()[:2] == ("rgb", "flow") and known_streams()[-2:] == ("audio", "hum")
    assert "swin" in known_streams()
    assert video_streams(["rgb", "hum", "swin"]) == ("rgb", "swin")
    assert order_streams(["hum", "swin", "rgb"]) == ["rgb", "swin", "hum"]


def test_tables_forget_an_unregistered_benchmark(humming):
    unregister_benchmark(humming.name)
    assert "hum-audio" not in all_layouts() and query_streams() == {"audio"}
    assert "swin" not in known_streams()


def test_models_import_only_the_stream_vocabulary_of_the_feature_stage():
    models = Path(var_bench.__file__).parent / "models"
    found = set()
    for path in models.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith(
                "var_bench.features"
            ):
                found.add(node.module)
            elif isinstance(node, ast.Import):
                found.update(a.name for a in node.names if a.name.startswith("var_bench.features"))
    assert found == {"var_bench.features.streams"}
