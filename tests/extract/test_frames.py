"""Frame arithmetic: snippet counts, frame-rate conversion, resize, crops, scaling."""

import math
from fractions import Fraction

import numpy as np
import pytest

from var_bench.errors import InputError
from var_bench.extract import frames as FR
from var_bench.extract import recipes as R


def test_rgb_and_flow_snippet_rules():
    assert R.rgb_snippets(2729) == 170  # Abuse001_x264 of the UCF-Crime release
    for n in range(0, 100):
        assert R.rgb_snippets(n) == n // 16
        assert R.flow_snippets(n) == max(n - 1, 0) // 16
        assert R.rgb_snippets(n) - R.flow_snippets(n) in (0, 1)


def test_audio_snippet_rule_matches_the_windows():
    # 10 s of 16 kHz audio, 24 fps video of the same length: 240 frames -> T_rgb 15.
    S = 160000
    M = R.mel_frames(S)
    assert M == 1 + (S - 400) // 160
    ends = R.audio_window_ends(M, 24.0)
    assert ends == [round(100 * (k + 1) * 16 / 24) for k in range(len(ends))]
    assert ends[-1] <= M < round(100 * (len(ends) + 1) * 16 / 24)
    assert R.audio_snippets(S, 24.0) in (R.rgb_snippets(240), R.rgb_snippets(240) - 1)


def test_frame_rate_conversion_counts_and_order():
    for src, dst, n in (
        (30, 24, 300),
        (Fraction(30000, 1001), 24, 1001),
        (24, 30, 48),
        (25, 25, 10),
    ):
        idx = FR.resampled_indices(n, src, dst)
        assert idx == sorted(idx)
        assert idx == [math.floor(j * Fraction(src) / Fraction(dst)) for j in range(len(idx))]
        assert len(idx) == math.ceil(n * Fraction(dst) / Fraction(src))
    assert FR.resampled_indices(5, 30, None) == [0, 1, 2, 3, 4]


def test_resized_size_keeps_aspect():
    assert FR.resized_size(240, 320, 256) == (256, 341)
    assert FR.resized_size(320, 240, 256) == (341, 256)
    assert FR.resized_size(256, 256, 256) == (256, 256)


def test_resize_frame_short_side():
    pytest.importorskip("cv2")
    f = np.zeros((240, 320, 3), np.uint8)
    assert FR.resize_frame(f, 256).shape == (256, 341, 3)


def test_pil_bicubic_is_torchvisions_resize_of_a_pil_image():
    from PIL import Image

    rng = np.random.default_rng(1)
    f = rng.integers(0, 255, (240, 320, 3), dtype=np.uint8)
    out = FR.resize_frame(f, 224, "pil-bicubic")
    assert out.shape == (224, 298, 3)  # int(320 * 224 / 240) = 298 (truncated, as torchvision)
    want = np.asarray(Image.fromarray(f).resize((298, 224), Image.BICUBIC))
    np.testing.assert_array_equal(out, want)
    assert "PIL bicubic" in FR.interpolation_identity("pil-bicubic")
    assert R.RECIPES["clip-openai"].resize == R.RECIPES["clip-openai"].crop == 224


def test_ten_crop_windows_against_torchvisions_order():
    # The ten windows of torchvision's ten_crop (TL, TR, BL, BR, C, then the flipped image's),
    # computed by hand on a 256 x 341 frame: the same windows as ours in another order; only
    # the mirrored centre differs, by one pixel (margin 117 is odd).
    h, w, c = 256, 341, 224
    boxes = FR.crop_boxes(h, w, c, 10)
    centre = (int(round((h - c) / 2)), int(round((w - c) / 2)))
    tv = [(0, 0), (0, w - c), (h - c, 0), (h - c, w - c), centre]
    # a window at left x of the flipped image is the mirror of the window at w - c - x
    tv_flipped = [(t, w - c - left) for t, left in tv]
    ours_plain = [(t, left) for t, left, m in boxes if not m]
    ours_mirror = [(t, left) for t, left, m in boxes if m]
    assert ours_plain == [tv[4], *tv[:4]]  # our 0 = its 4, our 1-4 = its 0-3
    assert ours_mirror[1:] == [tv_flipped[1], tv_flipped[0], tv_flipped[3], tv_flipped[2]]
    assert ours_mirror[0] == (16, 58) and tv_flipped[4] == (16, 59)  # the one-pixel detail
    # On a 16:9 frame (256 x 455, margin 231) torchvision's centre is one pixel right of ours.
    assert FR.crop_boxes(256, 455, c, 1)[0][:2] == (16, 115) and int(round(231 / 2)) == 116


def test_crops_match_crops_cut_by_hand():
    rng = np.random.default_rng(0)
    frames = rng.integers(0, 255, (3, 9, 13, 3), dtype=np.uint8)
    c = 5
    out = FR.crop_stack(frames, c, 10)
    assert out.shape == (10, 3, c, c, 3)
    hand = [
        frames[:, 2:7, 4:9],
        frames[:, 0:5, 0:5],
        frames[:, 0:5, 8:13],
        frames[:, 4:9, 0:5],
        frames[:, 4:9, 8:13],
    ]
    for k in range(5):
        np.testing.assert_array_equal(out[k], hand[k])
        np.testing.assert_array_equal(out[k + 5], hand[k][:, :, ::-1])
    np.testing.assert_array_equal(FR.crop_stack(frames, c, 5), out[:5])
    np.testing.assert_array_equal(FR.crop_stack(frames, c, 1), out[:1])
    torch = pytest.importorskip("torch")
    np.testing.assert_array_equal(FR.crop_stack(torch.from_numpy(frames), c, 10).numpy(), out)


def test_scaling_follows_the_recipe_formula():
    x = np.arange(256, dtype=np.uint8)
    np.testing.assert_allclose(FR.scale_uint8(x), x.astype(np.float64) / 255 * 2 - 1, atol=1e-6)
    assert FR.scale_uint8(x)[0] == -1.0 and FR.scale_uint8(x)[-1] == 1.0
    f = np.array([-30.0, -20.0, -10.0, 0.0, 10.0, 20.0, 25.0])
    q = FR.quantize_flow(f)
    np.testing.assert_array_equal(
        q, np.rint((np.clip(f, -20, 20) + 20) / 40 * 255).astype(np.uint8)
    )
    # Read back: ~ f / 20 within one quantisation step.
    np.testing.assert_allclose(FR.scale_uint8(q), np.clip(f, -20, 20) / 20, atol=1 / 255 + 1e-6)


def test_recipes_validate():
    with pytest.raises(InputError, match="crops"):
        R.RECIPES["ucf-crime-release"].with_options(crops=3)
    with pytest.raises(InputError, match="recipe"):
        R.get_recipe("nope")
    assert R.default_recipe("ucf-crime", "i3d").name == "ucf-crime-release"
    assert R.default_recipe("xd-violence", "i3d").name == "xd-violence-release"
    assert R.default_recipe("xd-violence", "clip").name == "vadclip"
    for r in R.RECIPES.values():
        assert r.choices, f"{r.name}: every recipe states what is a choice"
