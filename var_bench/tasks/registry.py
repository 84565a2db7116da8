"""Finding a task type by name: the built-in types (imported here, so they register) and those of
plug-ins (the ``var_bench.tasks`` entry-point group)."""

from __future__ import annotations

from var_bench.tasks import moments, retrieval  # noqa: F401  (the built-in types register on import)
from var_bench.tasks.base import TASK_TYPES


def get_task_type(name: str) -> type:
    """The task class registered as ``name``.

    Raises:
        InputError: no task type of that name (the message lists the known ones).

    Example:
        >>> get_task_type("retrieval").main_score
        'SumR'
    """
    return TASK_TYPES.lookup(name)


def list_task_types() -> list[str]:
    """Registered task type names, built-ins first."""
    return TASK_TYPES.names()
