"""open_clip's CLIP ViT-B/16 as a zero-shot encoder: the exact architecture with random weights on
short synthetic videos, weights with OpenAI's key names, the self-check on the real preprocessing,
and a 290-video run through ``score`` with a one-layer open_clip config of the same classes.
open_clip needs a torchvision matching torch: in the main venv (torch 2.13 CPU, no torchvision)
these skip; scripts/test.sh runs them in .venv-vision."""

from __future__ import annotations

import numpy as np
import pytest

from var_bench.errors import InputError


def _open_clip_reason():
    try:
        from var_bench.zeroshot.encoders.openclip import open_clip_or_error

        open_clip_or_error()
    except Exception as e:  # InputError, or a torchvision that does not match torch
        return str(e).splitlines()[0][:200]
    return None


pytestmark = pytest.mark.skipif(
    _open_clip_reason() is not None,
    reason=f"open_clip skipped here (scripts/test.sh runs it in .venv-vision): "
    f"{_open_clip_reason()}",
)


@pytest.fixture(scope="module")
def clip():
    import torch

    torch.set_num_threads(2)
    from var_bench.zeroshot import get_encoder

    return get_encoder("clip-vit-b16", "random", max_frames=4)


def test_random_encoder_shapes_manifest_and_self_check(clip):
    from var_bench.zeroshot.run import encode_video, run_self_check

    s = clip.sampling
    assert (s.model_id, s.weights, s.max_frames, s.fps) == (
        "openai/ViT-B-16",
        "random-seed0",
        4,
        1.0,
    )
    assert s.library.startswith("open_clip ") and "ViT-B-16-quickgelu" in s.library
    assert s.channel_layout == "NCHW RGB float32" and s.crop == "center 224"
    frames = np.random.default_rng(0).integers(0, 255, (3, 48, 64, 3), dtype=np.uint8)
    x = clip.preprocess(frames)
    assert tuple(x.shape) == (3, 3, 224, 224)
    emb = encode_video(clip, frames)
    assert emb.shape == (3, 512) and emb.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(emb, axis=1), 1.0, rtol=1e-5)
    np.testing.assert_allclose(emb, clip.encode_preprocessed(x), rtol=1e-5, atol=1e-6)
    t = clip.encode_text(["A man hit a woman.", "Cars pass."])
    assert t.shape == (2, 512)
    assert clip.encode_text([]).shape == (0, 512)
    run_self_check(clip)  # through H.264 and the exact preprocessing


def test_text_cut_after_end_of_text_equals_open_clips_77_token_forward(clip):
    """Length-sorted batches cut after their longest caption give open_clip's own
    ``encode_text`` (77 tokens) back, row for row, short, long and over-long (truncated)
    captions alike, in the callers' order."""
    import torch

    caps = ["Cars pass.", "A man " * 40 + "runs.", "", "A man in a red shirt hits a woman."]
    caps = caps * 20  # several batches of TEXT_BATCH
    got = clip.encode_text(caps)
    with torch.inference_mode():
        want = clip.model.encode_text(clip.tokenizer(caps), normalize=True).numpy()
    np.testing.assert_allclose(got, want, rtol=0, atol=2e-5)
    assert not np.allclose(got[0], got[3])


def test_self_check_refuses_bgr_and_channels_first_on_the_real_preprocessing(clip):
    from var_bench.zeroshot.selfcheck import self_check

    class Swapped:
        sampling = clip.sampling
        as_rgb = clip.as_rgb

        def __init__(self, preprocess):
            self.preprocess = preprocess

    with pytest.raises(InputError, match="got BGR"):
        self_check(Swapped(lambda f: clip.preprocess(np.ascontiguousarray(f[..., ::-1]))))
    with pytest.raises(InputError, match="channels in the wrong place"):
        self_check(Swapped(lambda f: clip.preprocess(f).permute(0, 2, 3, 1)))
    with pytest.raises(InputError, match="channels-first"):
        clip.preprocess(np.zeros((2, 3, 48, 64), np.uint8))


@pytest.mark.slow  # four ViT-B/16 loads: about 30 s on 2 busy cores
def test_weights_with_openai_key_names_load_exactly(clip, tmp_path):
    import torch

    from var_bench.zeroshot import get_encoder

    state = {k: v.clone() for k, v in clip.model.state_dict().items()}
    assert {
        "visual.conv1.weight",
        "visual.proj",
        "text_projection",
        "token_embedding.weight",
    } <= set(state)
    # OpenAI's archives also carry three ints, and half-precision weights
    upstream = {k: v.half() for k, v in state.items()}
    upstream.update(input_resolution=torch.tensor(224), context_length=torch.tensor(77))
    torch.save(upstream, tmp_path / "ViT-B-16.bin")
    loaded = get_encoder("clip-vit-b16", str(tmp_path / "ViT-B-16.bin"), max_frames=4)
    assert loaded.sampling.weights.startswith("sha256:")
    frames = np.random.default_rng(1).integers(0, 255, (2, 40, 40, 3), dtype=np.uint8)
    np.testing.assert_allclose(
        loaded.encode_frames(frames), clip.encode_frames(frames), atol=2e-2
    )  # fp16 round trip of the weights
    from safetensors.torch import save_file

    save_file(state, str(tmp_path / "w.safetensors"))
    exact = get_encoder("clip-vit-b16", str(tmp_path / "w.safetensors"), max_frames=4)
    np.testing.assert_allclose(exact.encode_frames(frames), clip.encode_frames(frames), atol=1e-5)
    del state["visual.proj"]
    state["visual.extra"] = torch.zeros(1)
    torch.save(state, tmp_path / "bad.pt")
    with pytest.raises(InputError, match=r"1 missing \(visual.proj\); 1 unexpected"):
        get_encoder("clip-vit-b16", str(tmp_path / "bad.pt"))
    with pytest.raises(InputError, match="is not a file"):
        get_encoder("clip-vit-b16", str(tmp_path / "none.pt"))
    with pytest.raises(InputError, match="options it takes, got window"):
        get_encoder("clip-vit-b16", "random", window=3)


@pytest.fixture(scope="module")
def tiny_clip(tmp_path_factory):
    """A small open_clip model config of the same classes as ViT-B/16 (a QuickGELU CLIP: a
    VisionTransformer at 224 px and a causal TextTransformer over OpenAI's 49,408-token vocabulary,
    77 positions), one layer each and 64 wide, behind the same encoder, preprocessing and
    tokenizer: what a 290-video run needs in seconds, where ViT-B/16 takes minutes on a CPU."""
    import json

    import open_clip
    import torch

    from var_bench.zeroshot.encoders.openclip import OPENAI_MEAN, OPENAI_STD, OpenClipEncoder

    torch.set_num_threads(2)
    cfg = tmp_path_factory.mktemp("open_clip") / "ViT-Tiny-test-quickgelu.json"
    cfg.write_text(
        json.dumps(
            {
                "embed_dim": 64,
                "quick_gelu": True,
                "vision_cfg": {"image_size": 224, "layers": 1, "width": 64, "patch_size": 32},
                "text_cfg": {
                    "context_length": 77,
                    "vocab_size": 49408,
                    "width": 64,
                    "heads": 2,
                    "layers": 1,
                },
            }
        )
    )
    open_clip.add_model_config(cfg)
    return OpenClipEncoder(
        "clip-tiny-test",
        "ViT-Tiny-test-quickgelu",
        "test/ViT-Tiny",
        "random",
        "cpu",
        pin=None,
        mean=OPENAI_MEAN,
        std=OPENAI_STD,
        licence="none (random weights)",
    )


@pytest.mark.slow  # 290 synthetic videos decoded, encoded, pooled and scored: ~15 s on 2 cores
@pytest.mark.shared_data
def test_290_video_zero_shot_run_through_score(shared_data, tmp_path, tiny_clip):
    from support.videos import write_video

    from var_bench.data.prepare import download, ids
    from var_bench.scoring.score import record_task, score
    from var_bench.zeroshot.run import zeroshot

    home = tmp_path / "home"
    download("ucfcrime-ar", home=home, mirror=str(shared_data), progress=False)
    test_ids = ids("ucfcrime-ar", "test", home=home)
    assert len(test_ids) == 290
    root = tmp_path / "videos"
    for i, vid in enumerate(test_ids):
        write_video(root / f"{vid}.mp4", 1, fps=1, height=32, width=48, seed=i)
    kw = dict(encoder=tiny_clip, cache=False, home=home, progress=False)
    res = zeroshot("clip-tiny-test", "ucfcrime-ar", root, tmp_path / "s.npz", **kw)
    assert (res.encoded, res.cached) == (290, 0)
    rec = score(res.out, "ucfcrime-ar", home=home)
    assert rec.summary == res.record.summary
    assert record_task(rec).query_count(rec.per_query["t2v"]) == 290
    assert rec.provenance["sampling"]["model_id"] == "test/ViT-Tiny"
    with np.load(res.out) as z:
        assert z["t2v"].shape == (290, 290) and np.isfinite(z["t2v"]).all()


def test_text_tower_against_vadclip_features(clip, built_home, tmp_path):
    from var_bench.data.prepare import load_table
    from var_bench.zeroshot.run import zeroshot_features

    rng = np.random.default_rng(0)
    tree = tmp_path / "UCFClipFeatures"
    table = load_table("ucfcrime-ar", "val")
    for vid, cls in zip(table["video_id"], table["class"]):
        (tree / cls).mkdir(parents=True, exist_ok=True)
        for k in range(10):
            np.save(tree / cls / f"{vid}__{k}.npy", rng.standard_normal((4, 512)).astype("f4"))
    res = zeroshot_features(
        "clip-vit-b16", "ucfcrime-ar", tmp_path / "f.npz", features=tree, split="val", encoder=clip
    )
    assert res.record.provenance["sampling"]["model_id"] == "openai/ViT-B-16"
    assert set(res.record.metrics) == {"t2v", "v2t"}
