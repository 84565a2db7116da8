"""var_bench.readback: regular files only, bounded, UTF-8; strict schemas; confined paths."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import pytest

from var_bench.errors import InputError
from var_bench.readback import confined, read_json, read_text, read_yaml, validate


@dataclass
class Inner:
    n: int
    flag: bool = False


@dataclass
class Outer:
    name: str
    rate: float = 1.0
    inner: dict[str, Inner] = field(default_factory=dict)
    tags: list[str] | None = None

    def __post_init__(self):
        if self.rate > 100:
            raise InputError(f"rate: expected <= 100, got {self.rate}")


def test_valid_data_builds_the_dataclasses():
    out = validate(Outer, {"name": "x", "rate": 2, "inner": {"a": {"n": 1}}}, "f.json")
    assert out == Outer("x", 2.0, {"a": Inner(1)})


@pytest.mark.parametrize(
    "data, match",
    [
        ({"name": None}, "field name: expected a valid string, got None"),
        ({"name": "x", "rate": float("nan")}, "field rate: expected a finite number"),
        ({"name": "x", "rate": "2"}, "field rate"),
        ({"name": "x", "inner": {"a": {"n": True}}}, "field inner.a.n"),
        ({"name": "x", "inner": {"a": {"n": 1, "flag": "no"}}}, "field inner.a.flag"),
        ({"name": "x", "inner": {"a": {"n": 1, "zz": 1}}}, "field inner.a.zz"),
        ({"name": "x", "tags": ("a",)}, "field tags"),
        ({"name": "x", "evil": 1}, "expected fields among name, rate, inner, tags, got evil"),
        ({}, "field name: expected a value, got none"),
        ([1], "expected a mapping of Outer fields, got list"),
        ({"name": "x", "rate": 1000}, "f.json: rate: expected <= 100"),
    ],
)
def test_bad_fields_are_one_line_naming_file_and_field(data, match):
    with pytest.raises(InputError, match=match) as info:
        validate(Outer, data, "f.json")
    assert str(info.value).startswith("f.json: ")


def test_non_regular_files_are_refused_before_they_are_opened(tmp_path):
    os.mkfifo(tmp_path / "fifo")
    for reader in (read_text, read_json, read_yaml):
        with pytest.raises(InputError, match="expected a regular file, .* is a FIFO"):
            reader(tmp_path / "fifo", "thing")
    with pytest.raises(InputError, match="is a folder"):
        read_text(tmp_path, "thing")


def test_size_and_encoding(tmp_path, monkeypatch):
    (tmp_path / "a.json").write_bytes(b'{"a": "\xff"}')
    with pytest.raises(InputError, match="expected UTF-8 text, got byte 0xff at offset 7"):
        read_json(tmp_path / "a.json", "thing")
    (tmp_path / "b.json").write_text("[" * 100_000, "utf-8")
    with pytest.raises(InputError, match="expected JSON"):
        read_json(tmp_path / "b.json", "thing")
    monkeypatch.setenv("VAR_BENCH_MAX_FILE_BYTES", "4")
    with pytest.raises(InputError, match="VAR_BENCH_MAX_FILE_BYTES=N"):
        read_json(tmp_path / "a.json", "thing")


@pytest.mark.parametrize("name", ["../x", "/etc/passwd", "a/../../x", "", "a//b", "a\\b", "."])
def test_confined_refuses_escapes(tmp_path, name):
    with pytest.raises(InputError, match="expected a relative path inside"):
        confined(tmp_path, name, "chunks")


def test_confined_refuses_a_link_leaving_the_folder(tmp_path):
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "x").symlink_to(tmp_path)
    assert confined(tmp_path / "in", "y", "chunks") == tmp_path / "in" / "y"
    with pytest.raises(InputError, match="leads outside it"):
        confined(tmp_path / "in", "x", "chunks")
