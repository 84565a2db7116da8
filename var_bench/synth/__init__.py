"""Synthetic raw feature trees with learnable cross-modal signal (``var-bench synth``).

See docs/synth.md for how the signal is made. The marker file a synthetic tree carries is
``features.layouts.SYNTH_MARKER`` (re-exported here).
"""

from var_bench.features.layouts import SYNTH_MARKER
from var_bench.synth.core import SynthSummary, synthesize
from var_bench.synth.signal import Amplitudes

__all__ = ["Amplitudes", "SYNTH_MARKER", "SynthSummary", "synthesize"]
