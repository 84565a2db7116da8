"""The flow step alone (TV-L1, RAFT) and CLIP; RAFT and CLIP need a torchvision matching torch."""

import numpy as np
import pytest
import torch
from support.videos import frames

from var_bench.errors import InputError
from var_bench.extract.flow import FlowCarry, TVL1Flow, make_flow, torchvision_or_error
from var_bench.extract.frames import quantize_flow


def _torchvision_reason():
    try:
        torchvision_or_error()
    except InputError as e:
        return str(e)
    return None


needs_torchvision = pytest.mark.skipif(
    _torchvision_reason() is not None,
    reason=f"RAFT / CLIP skipped here (scripts/test.sh runs them in .venv-vision): "
    f"{_torchvision_reason()}",
)


def test_tvl1_sees_the_moving_square():
    f = frames(3, 48, 64)
    flow = TVL1Flow().pairs(f)
    assert flow.shape == (2, 48, 64, 2) and flow.dtype == np.float32
    # The square at rows 4..16, cols 4..16 moves 2 px right and 1 px down per frame.
    # TV-L1 smooths the flat interior (aperture problem), so only direction and rough size are
    # checked.
    inside = flow[0, 4:16, 4:16]
    u, v = np.median(inside[..., 0]), np.median(inside[..., 1])
    assert 1.0 < u < 3.0 and 0.2 < v < 2.0 and u > v
    assert np.abs(flow[0, 35:, 40:]).max() < 0.5  # the static background


def test_flow_carry_streams_like_one_pass():
    f = frames(9, 24, 32)
    step = TVL1Flow()
    whole = quantize_flow(step.pairs(f))
    carry = FlowCarry(step)
    parts = np.concatenate([carry.push(f[:4]), carry.push(f[4:5]), carry.push(f[5:])])
    np.testing.assert_array_equal(parts, whole)
    assert len(parts) == len(f) - 1


def test_unknown_flow_method():
    with pytest.raises(InputError, match="tvl1, raft"):
        make_flow("farneback")


@needs_torchvision
def test_raft_step_shapes_and_moving_square():
    step = make_flow("raft", small=True, updates=4)  # random weights: shapes and plumbing only
    f = frames(3, 40, 48)
    out = step.pairs(f)
    assert out.shape == (2, 40, 48, 2) and out.dtype == np.float32 and np.isfinite(out).all()
    assert step.identity()["method"] == "raft"


@needs_torchvision
def test_clip_random_encoder(tmp_path):
    pytest.importorskip("open_clip")
    from var_bench.extract.models import load_encoder
    from var_bench.extract.recipes import RECIPES

    enc = load_encoder("clip-vit-b16", "random", recipe=RECIPES["vadclip"])
    x = torch.randint(0, 255, (2, 16, 224, 224, 3), dtype=torch.uint8)
    out = enc.encode(x)
    assert out.shape == (2, 512) and torch.isfinite(out).all()
    mid = enc.encode(x[:, 8:9].repeat(1, 16, 1, 1, 1))
    torch.testing.assert_close(out, mid)  # "middle": only frame 8 counts


@needs_torchvision
def test_random_clip_is_openais_architecture_with_quickgelu():
    open_clip = pytest.importorskip("open_clip")
    from var_bench.extract.clip import load_clip

    model = load_clip(None)
    acts = {type(m).__name__ for m in model.visual.modules()}
    assert "QuickGELU" in acts and "GELU" not in acts
    assert isinstance(model.visual.transformer.resblocks[0].mlp.gelu, open_clip.model.QuickGELU)


@needs_torchvision
def test_clip_openai_recipe_is_clips_own_transform():
    from PIL import Image
    from torchvision import transforms as T

    from var_bench.extract import frames as FR
    from var_bench.extract.clip import CLIP_MEAN, CLIP_STD, normalise
    from var_bench.extract.recipes import RECIPES

    r = RECIPES["clip-openai"]
    # openai/CLIP clip.py _transform(224) (its RGB conversion is a no-op on RGB frames)
    clip_transform = T.Compose(
        [
            T.Resize(224, interpolation=T.InterpolationMode.BICUBIC),
            T.CenterCrop(224),
            T.ToTensor(),
            T.Normalize(CLIP_MEAN, CLIP_STD),
        ]
    )
    rng = np.random.default_rng(0)
    for h, w in ((240, 320), (720, 1280)):
        frame = rng.integers(0, 255, (h, w, 3), dtype=np.uint8)
        want = clip_transform(Image.fromarray(frame))
        resized = FR.resize_frame(frame, r.resize, r.interpolation)
        crop = FR.crop_stack(resized[None], r.crop, r.crops)[0, 0]  # [224, 224, 3]
        ours = normalise(torch.from_numpy(np.ascontiguousarray(crop)).permute(2, 0, 1)[None])[0]
        torch.testing.assert_close(ours, want, atol=1e-6, rtol=0)


@pytest.mark.slow  # RAFT-large and ViT-B/16 on CPU: about 2 min on 2 busy cores
@needs_torchvision
def test_raft_and_clip_through_the_pipeline(xd_videos, tmp_path):
    import json

    from var_bench.extract import extract
    from var_bench.extract.recipes import RECIPES, flow_snippets, rgb_snippets

    from .conftest import XD_SMALL

    root, counts = xd_videos
    some = sorted(counts)[:2]
    flow = extract(
        "xdviolence-ar",
        root,
        tmp_path / "o",
        "i3d-flow",
        recipe=XD_SMALL,
        flow="raft",
        weights="random",
        ids=some,
    )
    assert flow.identity["flow"]["method"] == "raft" and flow.identity["flow"]["weights"] == {
        "random": True
    }
    clip = extract(
        "xdviolence-ar",
        root,
        tmp_path / "c",
        "clip-vit-b16",
        recipe=RECIPES["vadclip"].with_options(crops=1),
        weights="random",
        ids=some,
    )
    fl = json.loads((tmp_path / "o" / "Flow" / "extraction.json").read_text())["videos"]
    cl = json.loads((tmp_path / "c" / "extraction.json").read_text())["videos"]
    for vid in some:
        n = cl[vid]["frames"]  # vadclip: native 30 fps
        assert cl[vid]["shape"] == [rgb_snippets(n), 512] and counts[vid] == n
        assert fl[vid]["shape"] == [flow_snippets(fl[vid]["frames"]), 1024]
    assert clip.identity["model"] == "clip-vit-b16"
