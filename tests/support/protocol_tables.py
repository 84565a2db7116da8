"""Parse the published tables out of the project's protocol.md (the spec the JSON must
reproduce)."""

from __future__ import annotations

import re

import pytest

from support.paths import SHARED
from var_bench.benchmarks import get_benchmark

PROTOCOL = SHARED / "spec" / "protocol.md"
# Order of the tables in protocol.md's "Published results" section.
BENCHMARK_ORDER = ("ucfcrime-ar", "xdviolence-ar")
# Order of the numbers inside one direction's cell: R@1 R@5 R@10 MdR (MnR was not published).
CELL_METRICS = ("R@1", "R@5", "R@10", "MdR")


def protocol_tables() -> dict[str, list[tuple[str, list[list[str]], str]]]:
    """``{benchmark: [(method, [direction cells as number strings], SumR string), ...]}``."""
    if not PROTOCOL.is_file():
        pytest.skip(f"protocol.md not found at {PROTOCOL}")
    section = PROTOCOL.read_text(encoding="utf-8").split("## Published results", 1)[1]
    section = section.split("\n## ", 1)[0]
    bodies = re.findall(r"^\| Method \|.*\n\|[-| ]+\|\n((?:\|.*\n?)+)", section, flags=re.M)
    assert len(bodies) == len(BENCHMARK_ORDER)
    out = {}
    for name, body in zip(BENCHMARK_ORDER, bodies):
        spec = get_benchmark(name)
        rows = []
        for line in body.strip().splitlines():
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            assert len(cells) == 2 + len(spec.task().directions)
            rows.append((cells[0], [c.split() for c in cells[1:-1]], cells[-1]))
        out[name] = rows
    return out
