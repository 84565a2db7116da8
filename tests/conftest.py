"""Shared fixtures. Tests that need the real upstream files skip with a reason when absent."""

from __future__ import annotations

import dataclasses
import os
import shutil
from pathlib import Path

import pytest
from support.rawdata import make_ucf, make_xd

from var_bench.data.assembly.pipeline import assemble_into
from var_bench.data.paths import built_dir

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("VAR_BENCH_SHARED_DATA", REPO.parent / "shared" / "data"))


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """``../shared/data``: real upstream files laid out ``<owner>-<repo>/<file>``."""
    if not (SHARED_DATA / "SOURCES.md").is_file():
        pytest.skip(f"real upstream files not found at {SHARED_DATA} (set VAR_BENCH_SHARED_DATA)")
    return SHARED_DATA


@pytest.fixture(scope="session")
def _built_template(tmp_path_factory):
    """Both benchmarks built once from the synthetic raw fixtures: (data home, fixtures)."""
    root = tmp_path_factory.mktemp("built")
    home = root / "home"
    fixtures = {}
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("VAR_BENCH_HOME", str(home))
        for make in (make_ucf, make_xd):
            fx = make(root / "raw")
            assemble_into(fx.spec, fx.raw, built_dir(fx.spec, home), fx.info)
            fixtures[fx.spec.name] = fx
    return home, fixtures


@pytest.fixture
def built_home(_built_template, tmp_path, monkeypatch):
    """A data home (``tmp_path / "home"``) holding both benchmarks built from the synthetic raw
    fixtures: the session's build, copied (the build is the same for every test; the raw files
    are shared and only read)."""
    template, fixtures = _built_template
    home = tmp_path / "home"
    shutil.copytree(template, home)
    monkeypatch.setenv("VAR_BENCH_HOME", str(home))
    return {
        name: dataclasses.replace(
            fx, raw=dict(fx.raw), expected={s: list(v) for s, v in fx.expected.items()}
        )
        for name, fx in fixtures.items()
    }


#: Knobs of the synthetic feature trees the learning tests train on: every id of both splits
#: (scoring sees the official test size), one crop, short videos (time compressed 4x). UCFCrime-AR
#: gets a Flow tree (ALAN's two-stream path); XDViolence-AR is RGB + audio (about 190 MB).
SYNTH_KNOBS = {
    "ucfcrime-ar": {"crops": 1, "snippets": 16, "snippet_frames": 64, "flow": True},
    "xdviolence-ar": {"crops": 1, "snippets": 8, "snippet_frames": 64, "flow": False},
}


@pytest.fixture(scope="session")
def synthetic_home(shared_data, tmp_path_factory) -> Path:
    """A data home with both benchmarks' real metadata and feature stores built from full
    synthetic trees (``var-bench synth`` then ``var-bench build``): what the models learn on."""
    from var_bench.data.prepare import download
    from var_bench.features import build_features
    from var_bench.synth import synthesize

    root = tmp_path_factory.mktemp("synthetic")
    home = root / "home"
    download(home=home, mirror=str(shared_data), progress=False)
    for name in ("ucfcrime-ar", "xdviolence-ar"):
        tree = root / name
        made = synthesize(tree, name, home=home, progress=False, **SYNTH_KNOBS[name])
        build_features(
            name, made.paths["features"], audio=made.paths.get("audio"), home=home, progress=False
        )
    return home


@pytest.fixture(scope="session")
def _ray_session():
    """One local Ray for the whole session (its start costs seconds): 4 logical CPUs, so two
    decoding and two encoding workers run on a 2-core machine."""
    ray = pytest.importorskip("ray", reason="Ray (the ray extra) is not installed")
    ray.init(num_cpus=4, include_dashboard=False, log_to_driver=False, logging_level="ERROR")
    yield ray
    ray.shutdown()


@pytest.fixture
def local_ray(_ray_session, request):
    """The session's local Ray, with the calling test module and ``tests/support`` shipped to
    the workers by value (they cannot import them)."""
    import support
    from ray import cloudpickle

    cloudpickle.register_pickle_by_value(request.module)
    cloudpickle.register_pickle_by_value(support)
    return _ray_session
