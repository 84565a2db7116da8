import pytest

from var_bench.errors import InputError
from var_bench.models import registry
from var_bench.models.base import RetrievalModel


def test_register_and_lookup(monkeypatch):
    monkeypatch.setattr(registry, "_REGISTRY", {})
    monkeypatch.setattr(registry, "_discovered", True)

    @registry.register_model("My_Model")
    class M(RetrievalModel):
        pass

    assert M.name == "my-model"
    assert registry.get_model("MY-MODEL") is M
    assert registry.model_names() == ["my-model"]
    with pytest.raises(InputError, match="expected one of my-model, got 'nope'"):
        registry.get_model("nope")


def test_duplicate_name_refused(monkeypatch):
    monkeypatch.setattr(registry, "_REGISTRY", {})

    @registry.register_model("dup")
    class A(RetrievalModel):
        pass

    with pytest.raises(ValueError, match="already registered"):
        @registry.register_model("dup")
        class B(RetrievalModel):
            pass


def test_discovery_survives_broken_plugin(monkeypatch, caplog):
    from importlib.metadata import EntryPoint

    broken = EntryPoint("broken", "var_bench.no_such_models_package", registry.ENTRY_POINT_GROUP)
    monkeypatch.setattr(registry, "_REGISTRY", {})
    monkeypatch.setattr(registry, "_discovered", False)
    monkeypatch.setattr(registry, "entry_points", lambda group: [broken] if group == registry.ENTRY_POINT_GROUP else [])
    assert registry.model_names() == []
    assert "no_such_models_package" in caplog.text
