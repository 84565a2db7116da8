"""The package's faces: every sub-package ``__init__`` only re-exports, and no public name of a
package equals one of its submodules (importing the submodule would replace the name)."""

from __future__ import annotations

import ast
import importlib
import pkgutil
from pathlib import Path

import pytest

import var_bench

ROOT = Path(var_bench.__file__).parent
INITS = sorted(ROOT.rglob("__init__.py"))
#: Functions an ``__init__`` may define: the lazy re-export hooks.
LAZY_HOOKS = {"__getattr__", "__dir__"}


def _packages() -> list[str]:
    return ["var_bench"] + [
        m.name for m in pkgutil.walk_packages([str(ROOT)], "var_bench.") if m.ispkg
    ]


@pytest.mark.parametrize("path", INITS, ids=lambda p: str(p.relative_to(ROOT.parent)))
def test_init_only_reexports(path):
    tree = ast.parse(path.read_text("utf-8"))
    defined = [
        n.name
        for n in tree.body
        if isinstance(n, (ast.FunctionDef, ast.ClassDef)) and n.name not in LAZY_HOOKS
    ]
    assert defined == [], f"{path}: an __init__ re-exports; move {defined} into a module"


@pytest.mark.parametrize("package", _packages())
def test_no_public_name_is_a_submodule(package):
    try:
        pkg = importlib.import_module(package)
    except ImportError as e:  # an optional dependency (torch) is missing
        pytest.skip(f"{package}: {e}")
    subs = {m.name for m in pkgutil.iter_modules(pkg.__path__)}
    public = (
        set(getattr(pkg, "__all__", ()))
        | set(getattr(pkg, "_LAZY", ()))
        | set(getattr(pkg, "_EXPORTS", ()))
    )
    assert not public & subs, (
        f"{package}: public names equal to submodules: {sorted(public & subs)}"
    )


def test_top_level_download_survives_importing_everything():
    """0.1's trap: ``import var_bench.<sub>`` rebinding ``var_bench.download``."""
    for name in (
        "var_bench.data.prepare",
        "var_bench.data.fetch",
        "var_bench.scoring.score",
        "var_bench.extract",
    ):
        importlib.import_module(name)
    assert callable(var_bench.download) and callable(var_bench.score) and callable(var_bench.ids)
    assert var_bench.extract_features is var_bench.extract.extract  # the package keeps its name
