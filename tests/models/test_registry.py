import pytest

from var_bench.errors import InputError
from var_bench.models import registry
from var_bench.models.base import RetrievalModel
from var_bench.registry import Registry


@pytest.fixture
def empty(monkeypatch):
    """An empty model registry for the test (plug-ins already discovered)."""
    models = Registry("model")
    monkeypatch.setattr(registry, "MODELS", models)
    return models


def test_register_and_lookup(empty):
    @registry.register_model("My_Model")
    class M(RetrievalModel):
        pass

    assert M.name == "my-model"
    assert registry.get_model("MY-MODEL") is M
    assert registry.model_names() == ["my-model"]
    with pytest.raises(InputError, match="expected one of my-model, got 'nope'"):
        registry.get_model("nope")


def test_duplicate_name_refused(empty):
    @registry.register_model("dup")
    class A(RetrievalModel):
        pass

    with pytest.raises(ValueError, match="already registered"):

        @registry.register_model("dup")
        class B(RetrievalModel):
            pass
