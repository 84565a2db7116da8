"""The assembly kit: what every benchmark unit's assembler uses to turn its raw files into split
tables (``tables``: the result and its checks; ``validation``: the rule that carves ``val``;
``textfiles``: lines, fields and names of plain-text lists; ``segments``: temporal segments;
``sources``: the source recording each video was cut from).

A unit's own parsers and its ``assemble`` live in its folder (``ucfcrime_ar/assemble.py``); the
data layer (``var_bench.data.assembly``) calls it and writes the tables.
"""

from var_bench.benchmarks.kit.segments import Segments, parse_segments  # noqa: F401
from var_bench.benchmarks.kit.sources import Clip  # noqa: F401
from var_bench.benchmarks.kit.tables import (  # noqa: F401
    Assembled,
    carve_validation,
    check_class_counts,
    check_disjoint,
)
from var_bench.benchmarks.kit.textfiles import basename, line_fields, read_lines, video_stem  # noqa: F401
from var_bench.benchmarks.kit.validation import ValidationRule, id_digest, validation_mask  # noqa: F401

__all__ = [
    "Assembled",
    "Clip",
    "Segments",
    "ValidationRule",
    "basename",
    "carve_validation",
    "check_class_counts",
    "check_disjoint",
    "id_digest",
    "line_fields",
    "parse_segments",
    "read_lines",
    "validation_mask",
    "video_stem",
]
