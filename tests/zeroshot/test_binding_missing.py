"""Without ImageBind's model classes installed, imagebind-huge stops with one environment line
that says how to install them (exit code 3)."""

import importlib.util

import pytest

pytest.importorskip("torch")
if importlib.util.find_spec("imagebind") is not None:
    pytest.skip("imagebind-unofficial is installed here", allow_module_level=True)

from var_bench.errors import EnvironmentFault  # noqa: E402
from var_bench.zeroshot import get_encoder  # noqa: E402
from var_bench.zeroshot.encoders import binding  # noqa: E402, F401 (registers imagebind-huge)


def test_missing_imagebind_is_one_environment_line():
    with pytest.raises(EnvironmentFault) as e:
        get_encoder("imagebind-huge", weights="random")
    msg = str(e.value)
    assert "no module named 'imagebind'" in msg and "--no-deps imagebind-unofficial==0.1.1" in msg
    assert e.value.exit_code == 3 and "\n" not in msg
