"""The one registry benchmarks, task types and models share."""

from importlib.metadata import EntryPoint

import pytest

from var_bench import registry as reg
from var_bench.errors import InputError
from var_bench.registry import Registry, registry_key


def test_names_are_case_and_underscore_insensitive():
    r = Registry("thing")
    r.register("my-thing", 1)
    assert r["MY_Thing"] == 1 and r.lookup(" my_thing ") == 1 and list(r) == ["my-thing"]
    with pytest.raises(InputError, match="expected lowercase with '-' \\(e.g. 'my-other'\\)"):
        r.register("My_Other", 2)


def test_a_second_object_under_one_name_is_refused_unless_replaced():
    r = Registry("thing")
    r.register("a", object())
    with pytest.raises(InputError, match="thing 'a' is already registered"):
        r.register("a", object())
    r.register("a", 3, replace=True)
    assert r["a"] == 3


def test_builtins_cannot_be_unregistered_others_can():
    r = Registry("thing")
    r.register("core", 1, builtin=True)
    r.register("extra", 2)
    r.unregister("extra")
    assert "extra" not in r
    with pytest.raises(InputError, match="built in"):
        r.unregister("core")


def test_unknown_name_lists_the_known_ones():
    r = Registry("task type")
    r.register("retrieval", 1)
    with pytest.raises(InputError, match="unknown task type: expected one of retrieval, got 'x'"):
        r.lookup("x")


def test_discovery_survives_a_broken_plugin(monkeypatch, caplog):
    broken = EntryPoint("broken", "var_bench.no_such_plugin_package", "test.group")
    monkeypatch.setattr(
        reg, "entry_points", lambda group: [broken] if group == "test.group" else []
    )
    r = Registry("thing", "test.group")
    assert r.names() == []
    assert "no_such_plugin_package" in caplog.text


def test_registry_key():
    assert registry_key("XD_Violence-AR") == "xd-violence-ar"
