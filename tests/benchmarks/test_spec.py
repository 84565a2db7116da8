import pytest

from var_bench.benchmarks import BENCHMARKS, get_benchmark
from var_bench.errors import InputError


def test_published_counts():
    ucf, xd = BENCHMARKS["ucfcrime-ar"], BENCHMARKS["xdviolence-ar"]
    assert ucf.upstream_counts == {"train": 1610, "test": 290}
    assert xd.upstream_counts == {"train": 3954, "test": 800}
    assert ucf.upstream_class_counts["train"]["Normal"] == 800
    assert ucf.upstream_class_counts["test"]["Normal"] == 150
    assert xd.upstream_class_counts["test"]["Normal"] == 300
    assert len(ucf.classes) == 14 and "B3" not in xd.class_codes


def test_directions():
    ucf = get_benchmark("UCFCrime_AR").task()
    assert ucf.groups == ("t2v", "v2t") and ucf.main_score == "SumR" and ucf.paired
    assert ucf.direction("v2t").over_rows is False
    assert ucf.directions[0].arrow == "T->V"
    with pytest.raises(InputError, match="expected one of t2v, v2t, got 'a2v'"):
        ucf.direction("a2v")
    with pytest.raises(InputError, match="expected a task among retrieval, moments, got 'tsg'"):
        get_benchmark("ucfcrime-ar").task("tsg")


def test_specs_are_immutable():
    with pytest.raises(TypeError):
        BENCHMARKS["ucfcrime-ar"].upstream_class_counts["train"]["Abuse"] = 1


def test_builtin_assemblers_are_lazy_references_in_their_unit():
    """A unit names its assembler (``<unit>.assemble:assemble``) instead of importing it, so
    importing the registry loads neither the parsers nor pandas / openpyxl; a build resolves it."""
    import subprocess
    import sys

    from var_bench.benchmarks.registry import BUILTIN

    for spec in BUILTIN:
        assert spec.assembler == f"{spec.package}.assemble:assemble"
        assert spec.resolve_assembler().__module__ == f"{spec.package}.assemble"
    code = (
        "import sys, var_bench.benchmarks\n"
        "print(sorted(m for m in sys.modules if m in ('pandas', 'openpyxl') "
        "or m.endswith('.assemble')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_benchmarks_never_import_the_data_layer():
    """The benchmarks sit below data: the kit and every unit import nothing of
    ``var_bench.data``."""
    import ast
    from pathlib import Path

    import var_bench.benchmarks

    for path in Path(var_bench.benchmarks.__file__).parent.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else []
            )
            assert not [n for n in names if n.split(".")[:2] == ["var_bench", "data"]], path
