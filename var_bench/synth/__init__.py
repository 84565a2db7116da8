"""Synthetic raw feature trees with learnable cross-modal signal (``var-bench synth``).

See docs/synth.md for how the signal is made. The marker file a synthetic tree carries is
``features.layouts.SYNTH_MARKER`` (re-exported here; ``MARKER`` is its 0.1 name).
"""

from var_bench.features.layouts import SYNTH_MARKER
from var_bench.synth.core import SynthSummary, synthesize
from var_bench.synth.signal import Amplitudes

__all__ = ["Amplitudes", "SYNTH_MARKER", "SynthSummary", "synthesize"]


def __getattr__(name: str):
    if name == "MARKER":  # 0.1's name, kept for one release
        import warnings

        warnings.warn("var_bench.synth.MARKER is deprecated: use var_bench.synth.SYNTH_MARKER",
                      DeprecationWarning, stacklevel=2)
        return SYNTH_MARKER
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
