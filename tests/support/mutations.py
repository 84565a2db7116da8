"""Mutations of valid input files for the property-based tests (hypothesis): truncation, wrong
types, huge numbers, unicode, path escapes, unknown and missing fields, bytes that are not UTF-8.

``mutated(valid, fmt)`` draws the bytes of one mutated file from a valid JSON / YAML object;
``run_cli(*args)`` runs ``var-bench`` in this process and checks the property every command
must hold: it ends with exit 0, 2 or 3, never an internal error or a traceback."""

from __future__ import annotations

import copy
import io
import json
from contextlib import redirect_stderr, redirect_stdout
from typing import Any

import yaml
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from var_bench.cli import main

#: Cheap and reproducible: few examples, no deadline (the first call imports torch), the same
#: examples every run (CI stays green or red for a reason).
CHEAP = settings(
    max_examples=12,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

HOSTILE: list[Any] = [
    None,
    True,
    False,
    -1,
    0,
    10**30,
    -(10**30),
    1e308,
    float("inf"),
    float("nan"),
    "",
    "../../../etc/passwd",
    "/etc/passwd",
    "C:\\Users\\x\\..\\evil.npy",
    "\u202eevil\u00e9\U0001f600\x00",
    "x" * 5000,
    [],
    {},
    [1, "a", None],
    {"a": {"b": [1]}},
]


def _paths(obj: Any, prefix: tuple = ()) -> list[tuple]:
    out = [prefix]
    if isinstance(obj, dict):
        for k, v in obj.items():
            out += _paths(v, prefix + (k,))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            out += _paths(v, prefix + (i,))
    return out


def _get(obj: Any, path: tuple) -> Any:
    for p in path:
        obj = obj[p]
    return obj


def dump(obj: Any, fmt: str) -> str:
    if fmt == "json":
        return json.dumps(obj)
    return yaml.safe_dump(obj, allow_unicode=True)


@st.composite
def mutated(draw, valid: Any, fmt: str) -> bytes:
    """The bytes of ``valid`` (a JSON / YAML object) after one drawn mutation."""
    kind = draw(st.sampled_from(["truncate", "replace", "replace", "delete", "add", "bytes"]))
    obj = copy.deepcopy(valid)
    if kind == "bytes":
        return draw(st.sampled_from([b"\xff\xfe", b"\x00\x01", b"{", b"[[[[", b""])) + draw(
            st.binary(max_size=32)
        )
    if kind == "truncate":
        text = dump(obj, fmt)
        return text[: draw(st.integers(0, max(len(text) - 1, 0)))].encode("utf-8")
    value = draw(st.sampled_from(HOSTILE) | st.text(max_size=12) | st.integers())
    paths = _paths(obj)
    path = draw(st.sampled_from(paths))
    if not path:
        obj = value
    else:
        parent = _get(obj, path[:-1])
        if kind == "delete":
            del parent[path[-1]]
        elif kind == "add" and isinstance(parent, dict):
            parent[draw(st.sampled_from(["evil", "..", "__class__", "\u00e9"]))] = value
        elif kind == "add" and isinstance(parent, list):
            parent.append(value)
        else:
            parent[path[-1]] = value
    return dump(obj, fmt).encode("utf-8", "surrogatepass")


def run_cli(*args: str) -> tuple[int, str]:
    """``var-bench ARGS`` in this process: (exit code, output); asserts the exit code is 0, 2
    or 3 and the output holds no internal error and no traceback."""
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        try:
            main(list(args))
            code = 0
        except SystemExit as e:
            code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    text = out.getvalue() + err.getvalue()
    assert "Traceback" not in text and "internal error" not in text, text[-800:]
    assert code in (0, 2, 3), (code, text[-800:])
    return code, text
