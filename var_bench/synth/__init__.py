"""Synthetic raw feature trees with learnable cross-modal signal (``var-bench synth``).

See docs/synth.md for how the signal is made.
"""

from var_bench.synth.core import MARKER, SynthSummary, synthesize
from var_bench.synth.signal import Amplitudes

__all__ = ["Amplitudes", "MARKER", "SynthSummary", "synthesize"]
