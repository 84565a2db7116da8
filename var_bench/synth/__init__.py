"""Synthetic raw feature trees with learnable cross-modal signal (``var-bench synth``).

See docs/synth.md for how the signal is made.
"""

from .core import MARKER, SynthSummary, synthesize
from .signal import Amplitudes

__all__ = ["Amplitudes", "MARKER", "SynthSummary", "synthesize"]
