"""ImageBind (audio <-> video) with a random-weight ``ImageBindModel`` of the exact architecture
(upstream's class, shrunk widths and depths) on a short synthetic video with audio: ImageBind's
clip timing and crops, the Kaldi filter bank against torchaudio's values, shapes, unit norms, an
a2v similarity matrix through the scoring layer, and weight loading with the upstream key
names."""

import importlib.util
from fractions import Fraction

import numpy as np
import pytest

torch = pytest.importorskip("torch")
for _module in ("timm", "einops", "iopath", "ftfy", "regex"):
    pytest.importorskip(_module, reason=f"{_module} (the imagebind extra) is not installed")
if importlib.util.find_spec("imagebind") is None:
    pytest.skip(
        "imagebind-unofficial (the imagebind extra) is not installed", allow_module_level=True
    )

from var_bench.benchmarks import XDVIOLENCE_AR  # noqa: E402
from var_bench.errors import InputError  # noqa: E402
from var_bench.scoring.score import score_matrix  # noqa: E402
from var_bench.zeroshot import ENCODERS  # noqa: E402
from var_bench.zeroshot.encoders import binding as B  # noqa: E402

DIM = 16
#: Upstream's constructor with every width and depth shrunk (the structure and key names stay).
SMALL = dict(
    out_embed_dim=DIM,
    vision_embed_dim=32,
    vision_num_blocks=1,
    vision_num_heads=2,
    audio_embed_dim=32,
    audio_num_blocks=1,
    audio_num_heads=2,
    text_embed_dim=32,
    text_num_blocks=1,
    text_num_heads=2,
    depth_embed_dim=32,
    depth_num_blocks=1,
    depth_num_heads=2,
    thermal_embed_dim=32,
    thermal_num_blocks=1,
    thermal_num_heads=2,
    imu_embed_dim=32,
    imu_num_blocks=1,
    imu_num_heads=2,
)


def _small(seed: int):
    torch.manual_seed(seed)
    return B._models().ImageBindModel(**SMALL).eval()


@pytest.fixture(scope="module")
def source():
    return _small(1)


@pytest.fixture(scope="module")
def encoder(source):
    return B.ImageBind(source, weights="random")


def _tone(seconds: float, hz: float, rate: int = 16000) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return (0.5 * np.sin(2 * np.pi * hz * t)).astype(np.float32)


def test_clip_timing_is_pytorchvideo_constant_clips():
    # starts k * max(D - 2, 0) / clips (divided by clips, not clips - 1)
    assert B.clip_starts(7.0, 5) == [Fraction(k, 1) for k in range(5)]
    assert B.clip_starts(3.0, 3) == [Fraction(0), Fraction(1, 3), Fraction(2, 3)]
    assert B.clip_starts(0.5, 5) == [Fraction(0)] * 5
    # frames ceil(fps * start) .. min(ceil(fps * end), n) - 1, first and last kept
    assert B.clip_frames(70, 10.0, Fraction(1)) == [10, 29]
    assert B.clip_frames(30, 10.0, Fraction(2, 3)) == [7, 26]
    assert B.clip_frames(5, 10.0, Fraction(0)) == [0, 4]
    assert B.clip_frames(1, 10.0, Fraction(0)) == [0, 0]


def test_kaldi_fbank_equals_torchaudio():
    # reference: torchaudio 2.11.1's compliance.kaldi.fbank with ImageBind's options on this
    # signal (bit-equal on CPU float32 when checked)
    t = torch.arange(3200, dtype=torch.float32) / 16000
    w = 0.5 * torch.sin(2 * np.pi * 440 * t) + 0.1 * torch.sin(2 * np.pi * 3000 * t)
    fb = B.kaldi_fbank(w - w.mean())
    assert tuple(fb.shape) == (18, 128)
    got = fb[[0, 5, 17], [10, 40, 100]].tolist()
    assert got == pytest.approx([-9.7103, -13.2074, -15.6637], abs=2e-4)
    assert float(fb.sum()) == pytest.approx(-27754.246, rel=1e-5)
    assert B.kaldi_fbank(torch.zeros(399)).shape == (0, 128)


def test_audio_inputs_shape_padding_and_refusals():
    x = B.audio_inputs(_tone(1.0, 440), 16000)  # 1 s: 3 clips at 0, 98 frames padded to 204
    assert tuple(x.shape) == (3, 1, 128, 204)
    pad = (0.0 - B.AUDIO_MEAN) / B.AUDIO_STD
    assert torch.allclose(x[:, :, :, 98:], torch.full_like(x[:, :, :, 98:], pad))
    assert not torch.allclose(x[:, :, :, :98], torch.full_like(x[:, :, :, :98], pad))
    long = B.audio_inputs(_tone(5.0, 440), 16000)  # 2 s clips: 198 frames, padded
    assert tuple(long.shape) == (3, 1, 128, 204)
    with pytest.raises(InputError, match="16000 Hz, got 44100 Hz"):
        B.audio_inputs(_tone(1.0, 440), 44100)
    with pytest.raises(InputError, match=r"mono float audio"):
        B.audio_inputs(np.zeros((2, 16000), np.float32), 16000)


def test_video_inputs_clips_crops_and_normalisation():
    n, h, w = 30, 48, 96  # 3 s at 10 fps, wide frames
    frames = np.zeros((n, h, w, 3), np.uint8)
    frames[..., 0] = np.arange(w, dtype=np.uint8)[None, None, :] * 2  # red grows to the right
    frames[..., 1] = (np.arange(n, dtype=np.uint8) * 8)[:, None, None]  # green grows in time
    x = B.video_inputs(frames, fps=10.0)
    assert tuple(x.shape) == (15, 3, 2, 224, 224)  # 5 clips x 3 crops, (C, T, H, W)
    red = x[:, 0].mean(dim=(1, 2, 3))
    assert red[0] < red[1] < red[2]  # left, centre, right crop of the same clip
    green = x[::3, 1, 0].mean(dim=(1, 2))  # first frame of each clip (centre crop ignored)
    assert torch.all(green[1:] >= green[:-1])  # clips in time order
    # clip 0 = frames 0 and 19 (ceil(10 * 0) .. ceil(10 * 2) - 1)
    g0 = (x[0, 1, :, 0, 0] * B.CLIP_STD[1] + B.CLIP_MEAN[1]) * 255
    assert g0.tolist() == pytest.approx([0.0, 19 * 8], abs=1e-3)
    with pytest.raises(InputError, match=r"\(T, H, W, 3\) uint8 RGB"):
        B.video_inputs(frames.transpose(0, 3, 1, 2), fps=10.0)


def test_synthetic_video_with_audio_a2v_through_scoring(tmp_path, encoder):
    pytest.importorskip("av", reason="PyAV (the extract extra) is not installed")
    from tests.support.videos import write_video
    from var_bench.extract.video import decode_audio, decode_frames

    path = write_video(tmp_path / "v.mp4", 25, fps=10, audio_hz=440.0)
    frames = np.stack(list(decode_frames(path, fps=B.FPS)))
    wave = decode_audio(path, rate=B.AUDIO_RATE)
    v = encoder.encode_frames(frames)
    a = encoder.encode_audio(wave, B.AUDIO_RATE)
    assert v.shape == a.shape == (1, DIM) and v.dtype == a.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(a, axis=1), 1.0, atol=1e-5)
    # two "videos": the decoded one and a dark one; audio of two tones
    videos = np.concatenate([v, encoder.encode_frames(frames // 4)])
    audio = np.concatenate([a, encoder.encode_audio(_tone(2.5, 150), 16000)])
    S = audio @ videos.T  # a2v: audio queries x video gallery
    assert S.shape == (2, 2) and np.all(np.abs(S) <= 1 + 1e-5)
    metrics, sumr = score_matrix(XDVIOLENCE_AR, S)
    assert set(metrics) == {"a2v", "v2a"} and np.isfinite(sumr)
    m = encoder.sampling
    assert (m.audio_rate, m.audio_window_s, m.fps, m.max_frames) == (16000, 2.0, B.FPS, 10)
    assert m.mean == B.CLIP_MEAN and m.weights == "random"


def test_weights_with_upstream_key_names_load_exactly(tmp_path, source, encoder):
    state = source.state_dict()
    assert {k.split(".")[0] for k in state} == {
        "modality_preprocessors",
        "modality_trunks",
        "modality_heads",
        "modality_postprocessors",
    }
    assert "modality_trunks.vision.blocks.0.attn.in_proj_weight" in state
    assert "modality_preprocessors.audio.rgbt_stem.proj.weight" in state
    path = tmp_path / "imagebind_small.pth"
    torch.save(state, path)
    loaded = B.from_file(path, model=_small(2))
    wave = np.random.default_rng(0).uniform(-0.5, 0.5, 24000).astype(np.float32)
    np.testing.assert_array_equal(
        loaded.encode_audio(wave, 16000), encoder.encode_audio(wave, 16000)
    )
    assert loaded.sampling.weights == f"sha256:{B.sha256(path)}"

    bad = dict(state)
    bad["modality_trunks.vision.extra"] = bad.pop(
        "modality_trunks.vision.blocks.0.attn.in_proj_weight"
    )
    torch.save(bad, tmp_path / "bad.pth")
    with pytest.raises(InputError, match=r"1 missing .* 1 unexpected") as e:
        B.from_file(tmp_path / "bad.pth", model=_small(2))
    assert "\n" not in str(e.value)
    with pytest.raises(InputError, match="expected an ImageBind .pth file"):
        B.imagebind_huge(weights=str(tmp_path / "absent.pth"))
    (tmp_path / "junk.pth").write_bytes(b"not a checkpoint")
    with pytest.raises(InputError, match="expected a torch state dict"):
        B.from_file(tmp_path / "junk.pth", model=_small(2))


def test_registered():
    assert "imagebind-huge" in ENCODERS.names()
    assert B.ImageBind.modalities == frozenset({"video", "audio"})
