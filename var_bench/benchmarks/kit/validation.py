"""The validation rule: carve ``val`` from upstream train, deterministically.

For each group g (UCF class; XD class of the first label code) with n_g training videos, the
ceil(n_g / d) videos whose ``sha256(video_id)`` hex digest is smallest go to ``val`` (d = 10 by the
rule in each unit's ``splits.json``); train keeps the rest. Both keep upstream order. The rule
needs no random seed and no id list: anyone can recompute it from the upstream files.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class ValidationRule:
    """Per ``group_by`` group of ``source_split``, the ceil(n / denominator) ids with the smallest
    sha256 hex digest form ``val``."""

    source_split: str
    group_by: str
    denominator: int


def id_digest(video_id: str) -> str:
    """Hex sha256 of the UTF-8 video id: the validation rule's sort key."""
    return hashlib.sha256(video_id.encode("utf-8")).hexdigest()


def validation_mask(
    video_ids: Sequence[str], groups: Sequence[str], denominator: int
) -> list[bool]:
    """True where a training video goes to ``val``: per group, the ceil(n/denominator) smallest
    digests. Pure; order of the inputs is kept."""
    if len(video_ids) != len(groups):
        raise ValueError("video_ids and groups must have the same length")
    by_group: dict[str, list[tuple[str, int]]] = {}
    for i, (vid, g) in enumerate(zip(video_ids, groups)):
        by_group.setdefault(g, []).append((id_digest(vid), i))
    mask = [False] * len(video_ids)
    for members in by_group.values():
        for _, i in sorted(members)[: math.ceil(len(members) / denominator)]:
            mask[i] = True
    return mask
