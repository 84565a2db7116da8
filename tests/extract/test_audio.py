"""Audio decoding for VGGish: the stereo down-mix is the mean of the channels (torchvggish's
``np.mean(data, axis=1)``), so a stereo file with L = R gives the features of the same mono file."""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np
import pytest

from var_bench.extract.vggish import examples_at, log_mel
from var_bench.extract.video import decode_audio, downmix

RATE = 44100  # a common source rate: swresample has to resample to 16 kHz


def _wav(path: Path, channels: np.ndarray) -> Path:
    """``[C, S]`` floats in [-1, 1] as a 16-bit PCM WAV at 44.1 kHz."""
    pcm = np.round(np.clip(channels, -1, 1) * 32767).astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(pcm.shape[0])
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(pcm.T.tobytes())
    return path


def _signal(seconds: float = 2.0, seed: int = 0) -> np.ndarray:
    t = np.arange(int(seconds * RATE)) / RATE
    rng = np.random.default_rng(seed)
    return 0.6 * np.sin(2 * np.pi * 440 * t) * np.sin(
        2 * np.pi * 0.5 * t
    ) + 0.05 * rng.standard_normal(t.size)


def test_stereo_with_equal_channels_gives_the_features_of_the_mono_signal(tmp_path):
    x = _signal()
    mono = decode_audio(_wav(tmp_path / "mono.wav", x[None]))
    stereo = decode_audio(_wav(tmp_path / "stereo.wav", np.stack([x, x])))
    assert mono.dtype == np.float32 and abs(mono.size - 2 * 16000) <= 16
    np.testing.assert_array_equal(stereo, mono)
    mel_m, mel_s = log_mel(mono), log_mel(stereo)
    np.testing.assert_array_equal(mel_s, mel_m)
    ends = [96, 192]
    np.testing.assert_array_equal(examples_at(mel_s, ends), examples_at(mel_m, ends))
    # Not the sqrt(2) gain of swresample's float rematrix: the level is the mono level.
    assert np.sqrt(np.mean(stereo**2)) == pytest.approx(np.sqrt(np.mean(mono**2)), rel=1e-6)


def test_stereo_down_mix_is_the_mean_of_the_channels(tmp_path):
    left, right = _signal(seed=1), 0.3 * _signal(seed=2)
    both = decode_audio(_wav(tmp_path / "lr.wav", np.stack([left, right])))
    l_only = decode_audio(_wav(tmp_path / "l.wav", left[None]))
    r_only = decode_audio(_wav(tmp_path / "r.wav", right[None]))
    np.testing.assert_allclose(both, (l_only + r_only) / 2, atol=2e-6)
    assert downmix(np.ones((1, 4), np.float32)).shape == (4,)
