"""The 16 kHz resampler of ``var-bench extract`` (FFmpeg's swresample, default filter, via PyAV)
against resampy's ``kaiser_best`` (what torchvggish's ``waveform_to_examples`` calls), on the
same 16-bit WAV files: waveform and VGGish log-mel differences.

    python benchmarks/resampler_vs_resampy.py [--seconds 10]

Needs PyAV (the extract extra) and resampy (``pip install resampy``; not a var-bench dependency);
exits 3 with one line when resampy is missing. For each source rate (22.05, 32, 44.1, 48 kHz)
and each test signal (speech-like: harmonic tones under a slow envelope with noise; white noise;
a 50 Hz -> 7.9 kHz sine sweep), a 16-bit mono WAV is written; ours = ``decode_audio`` (swresample
to 16 kHz), reference = ``resampy.resample(int16 / 32768, sr, 16000)`` (torchvggish's input).
Printed per case: the best lag (samples, within +-8), the waveform's relative RMS difference
``rms(ours - ref) / rms(ref)`` at that lag, and the log-mel (``log(mel + 0.01)``, 96 x 64 per
example) max and mean absolute difference away from the ends (with the band of the max, and the
max without the top band, 7.2-7.5 kHz, where the filters' transition bands differ), and the max
over the first and last 0.25 s (where the filters' start-up and tail differ).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import wave
from pathlib import Path

import numpy as np

RATES = (22050, 32000, 44100, 48000)
#: Log-mel frames (10 ms) at each end where the two filters' start-up and tail differ.
EDGE = 25


def signals(seconds: float, rate: int, seed: int = 0) -> dict[str, np.ndarray]:
    t = np.arange(int(seconds * rate)) / rate
    rng = np.random.default_rng(seed)
    env = 0.5 + 0.5 * np.sin(2 * np.pi * 0.7 * t)
    speech = env * sum(
        0.2 / k * np.sin(2 * np.pi * 180 * k * t) for k in range(1, 20) if 180 * k < rate / 2
    )
    speech = speech + 0.02 * rng.standard_normal(t.size)
    noise = 0.3 * rng.standard_normal(t.size)
    f0, f1 = 50.0, 7900.0
    sweep = 0.5 * np.sin(2 * np.pi * (f0 * t + (f1 - f0) / (2 * seconds) * t**2))
    return {"speech-like": speech, "white noise": noise, "sweep 50 Hz-7.9 kHz": sweep}


def write_wav(path: Path, x: np.ndarray, rate: int) -> np.ndarray:
    pcm = np.round(np.clip(x, -1, 1) * 32767).astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(pcm.tobytes())
    return pcm


def best_lag(a: np.ndarray, b: np.ndarray, span: int = 8) -> int:
    n = min(a.size, b.size) - 2 * span
    scores = {
        lag: float(np.dot(a[span + lag : span + lag + n], b[span : span + n]))
        for lag in range(-span, span + 1)
    }
    return max(scores, key=scores.get)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=10.0)
    args = ap.parse_args(argv)
    try:
        import resampy
    except ImportError:
        print("resampler_vs_resampy: expected resampy (pip install resampy), it is not installed")
        return 3
    from var_bench.extract.vggish import log_mel
    from var_bench.extract.video import decode_audio

    print(
        "| source rate | signal | lag | waveform rel. RMS diff | log-mel max abs diff "
        "(interior, mel band) | max without the top band | log-mel mean abs diff | edge max "
        "(first / last 0.25 s) |"
    )
    print("|---|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for rate in RATES:
            for name, x in signals(args.seconds, rate).items():
                pcm = write_wav(Path(tmp) / "x.wav", x, rate)
                ours = decode_audio(Path(tmp) / "x.wav").astype(np.float64)
                ref = resampy.resample(pcm.astype(np.float64) / 32768.0, rate, 16000)
                lag = best_lag(ours, ref)
                n = min(ours.size, ref.size) - 16
                a = ours[8 + lag : 8 + lag + n]
                b = ref[8 : 8 + n]
                rel = np.sqrt(np.mean((a - b) ** 2)) / np.sqrt(np.mean(b**2))
                m = min(ours.size, ref.size)
                ma, mb = log_mel(ours[:m].astype(np.float32)), log_mel(ref[:m].astype(np.float32))
                d = np.abs(ma - mb)
                inner = d[EDGE:-EDGE]
                edge = max(d[:EDGE].max(), d[-EDGE:].max())
                worst = np.unravel_index(int(np.argmax(inner)), inner.shape)[1]
                print(
                    f"| {rate} | {name} | {lag} | {rel:.2e} | {inner.max():.3f} (band {worst}) | "
                    f"{inner[:, :-1].max():.3f} | {inner.mean():.4f} | {edge:.3f} |"
                )
    return 0


if __name__ == "__main__":
    sys.exit(main())
