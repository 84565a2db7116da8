"""The scoring stage: submission -> matrix -> counting kernel and metrics -> result record.

The entry points are ``var_bench.score`` and ``var_bench.compare`` (defined in :mod:`.score`;
not re-exported here, where the name ``score`` is the submodule's). ``ResultRecord`` is what they
produce; :mod:`.render` shows a record or a comparison as text.
"""

from var_bench.scoring.record import ResultRecord
from var_bench.scoring.render import render_comparison, render_record

__all__ = ["ResultRecord", "render_comparison", "render_record"]
