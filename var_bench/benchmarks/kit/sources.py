"""Source clips: which longer recording (a film, an upload) each benchmark video was cut from,
and where in it, as a benchmark unit's assembler reads it off the upstream names.

A unit whose video names carry a source returns, per split, one :class:`Clip` per video in the
split's canonical order (``Assembled.clips``) and states its naming rule
(``Assembled.source_rule``); the build stores both with the dataset (``integrity.json``) and
the integrity analysis (:mod:`var_bench.data.integrity`) groups videos by source from them.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Clip:
    """One video as a clip of a source recording.

    ``source``: the recording's name (a film title, a YouTube id); ``kind``: what sort of source
    (``film``, ``youtube``, ...); ``start_s``/``end_s``: the clip's span in the source in seconds,
    None when the name states none.
    """

    video_id: str
    source: str
    kind: str
    start_s: float | None = None
    end_s: float | None = None

    def to_row(self) -> list:
        """The JSON row stored with the dataset: ``[video_id, source, kind, start_s, end_s]``."""
        return [self.video_id, self.source, self.kind, self.start_s, self.end_s]

    @classmethod
    def from_row(cls, row: list) -> Clip:
        """The clip of a stored row (:meth:`to_row`)."""
        vid, source, kind, start, end = row
        return cls(
            str(vid),
            str(source),
            str(kind),
            None if start is None else float(start),
            None if end is None else float(end),
        )

    def overlaps(self, other: Clip) -> bool:
        """Whether both clips state spans in the same source and the spans share time
        (``start < other.end`` and ``other.start < end``: touching ends do not overlap).

        Example:
            >>> a = Clip("a", "Film.2000", "film", 10.0, 20.0)
            >>> a.overlaps(Clip("b", "Film.2000", "film", 19.0, 30.0))
            True
            >>> a.overlaps(Clip("c", "Film.2000", "film", 20.0, 30.0))
            False
        """
        if self.source != other.source or None in (
            self.start_s,
            self.end_s,
            other.start_s,
            other.end_s,
        ):
            return False
        return self.start_s < other.end_s and other.start_s < self.end_s  # type: ignore[operator]
