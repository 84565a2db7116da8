"""Qwen3-VL-Embedding with a random-weight model of the exact architecture (a shrunk transformers
config) and a tiny offline tokenizer, on short synthetic frame sequences: shapes, the card's
recipe (thinning, timestamps, last-token pooling), the manifest, and weight loading from a state
dict with the checkpoint's key names."""

import numpy as np
import pytest

pytest.importorskip(
    "torchvision", reason="torchvision (a torch + torchvision pair) is not installed"
)
pytest.importorskip("qwen_vl_utils", reason="qwen-vl-utils is not installed")
transformers = pytest.importorskip("transformers")
torch = pytest.importorskip("torch")

from var_bench.errors import InputError  # noqa: E402
from var_bench.zeroshot import ENCODERS  # noqa: E402
from var_bench.zeroshot.encoders import qwen3vl as Q  # noqa: E402

SPECIAL = [
    "<|endoftext|>",
    "<|im_start|>",
    "<|im_end|>",
    "<|vision_start|>",
    "<|vision_end|>",
    "<|video_pad|>",
    "<|image_pad|>",
]
#: Qwen's chat format for system / user turns holding text and videos (the hub snapshot carries
#: the real template; this one renders the same tokens for these inputs).
TEMPLATE = (
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n"
    "{% for c in m['content'] %}{% if c['type'] == 'text' %}{{ c['text'] }}"
    "{% elif c['type'] == 'video' %}<|vision_start|><|video_pad|><|vision_end|>{% endif %}"
    "{% endfor %}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


def _processor():
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import (
        PreTrainedTokenizerFast,
        Qwen2VLImageProcessor,
        Qwen3VLProcessor,
        Qwen3VLVideoProcessor,
    )

    words = (
        "[UNK] system user assistant a man runs fights the street . Retrieve images or text "
        "<0.5 <2.5 <4.5 seconds>"
    )
    vocab = {w: i for i, w in enumerate(dict.fromkeys(words.split()))}
    tok = Tokenizer(models.WordLevel(vocab, unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok, unk_token="[UNK]", pad_token="<|endoftext|>", eos_token="<|im_end|>"
    )
    fast.add_special_tokens({"additional_special_tokens": SPECIAL})
    return Qwen3VLProcessor(
        image_processor=Qwen2VLImageProcessor(),
        tokenizer=fast,
        video_processor=Qwen3VLVideoProcessor(),
        chat_template=TEMPLATE,
    )


def _config(vocab: int):
    from transformers import Qwen3VLConfig

    return Qwen3VLConfig(
        text_config=dict(
            vocab_size=vocab,
            hidden_size=32,
            intermediate_size=64,
            num_hidden_layers=2,
            num_attention_heads=4,
            num_key_value_heads=2,
            head_dim=8,
            rope_parameters={"rope_type": "default", "rope_theta": 5e6, "mrope_section": [2, 1, 1]},
        ),
        vision_config=dict(
            depth=2,
            hidden_size=32,
            intermediate_size=64,
            num_heads=4,
            out_hidden_size=32,
            num_position_embeddings=64,
            deepstack_visual_indexes=[0],
        ),
    )


@pytest.fixture(scope="module")
def snapshot(tmp_path_factory):
    """A snapshot folder of the shrunk architecture: config.json, the processor's files, and
    model.safetensors with the checkpoint's key names (model.*, lm_head.*)."""
    from safetensors.torch import save_file
    from transformers import Qwen3VLModel

    folder = tmp_path_factory.mktemp("qwen3vl")
    proc = _processor()
    proc.save_pretrained(folder)
    config = _config(len(proc.tokenizer))
    ids = {t: proc.tokenizer.convert_tokens_to_ids(t) for t in ("<|video_pad|>", "<|image_pad|>")}
    config.video_token_id, config.image_token_id = ids["<|video_pad|>"], ids["<|image_pad|>"]
    vs, ve = (
        proc.tokenizer.convert_tokens_to_ids(t) for t in ("<|vision_start|>", "<|vision_end|>")
    )
    config.vision_start_token_id, config.vision_end_token_id = vs, ve
    config.save_pretrained(folder)
    torch.manual_seed(1)
    source = Qwen3VLModel(config).eval()
    state = {f"model.{k}": v.contiguous() for k, v in source.state_dict().items()}
    state["lm_head.weight"] = torch.zeros(len(proc.tokenizer), 32)
    save_file(state, str(folder / "model.safetensors"))
    return folder, source


def _frames(t, h=40, w=56, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (t, h, w, 3), dtype=np.uint8)


def test_registered_and_the_card_helpers():
    assert "qwen3-vl-embedding-2b" in ENCODERS
    assert Q.thin(40).tolist() == np.linspace(0, 39, 32, dtype=int).tolist()
    conv = Q.conversation("Find it", text="a man runs")
    assert conv[0]["content"][0]["text"] == "Find it."
    assert conv[1]["content"] == [{"type": "text", "text": "a man runs"}]
    mask = torch.tensor([[1, 1, 1, 0], [1, 1, 1, 1]])
    hidden = torch.arange(2 * 4 * 1).reshape(2, 4, 1).float()
    assert Q.last_token(hidden, mask).flatten().tolist() == [2.0, 7.0]


def test_random_exact_architecture_shapes_recipe_and_manifest(snapshot):
    folder, _ = snapshot
    enc = Q.from_folder(folder, weights="random")
    inputs = enc.preprocess(_frames(5))
    t, h, w = inputs["video_grid_thw"][0].tolist()
    assert t == 3  # 5 frames -> 6 (the last repeated) -> 3 temporal patches of 2
    assert h % 2 == 0 and w % 2 == 0
    assert inputs["pixel_values_videos"].shape[0] == t * h * w
    n_pad = int((inputs["input_ids"] == enc.processor.video_token_id).sum())
    assert n_pad == t * h * w // 4  # 2 x 2 merge
    text = enc.processor.tokenizer.decode(inputs["input_ids"][0])
    assert text.count("<|vision_start|>") == t  # one per temporal patch, after its timestamp
    assert "<0.5 seconds> <|vision_start|>" in text and "<4.5 seconds>" in text  # k / 1 fps
    assert text.rstrip().endswith("assistant")
    v = enc.encode_frames(_frames(5))
    q = enc.encode_text(["a man runs", "the man fights in the street ."])
    assert v.shape == (1, 32) and q.shape == (2, 32) and v.dtype == q.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(np.vstack([v, q]), axis=1), 1.0, rtol=1e-5)
    assert enc.preprocess(_frames(40))["video_grid_thw"][0, 0] == 16  # thinned to 32 frames
    s = enc.sampling
    assert (s.model_id, s.weights, s.fps, s.max_frames) == (Q.MODEL_ID, "random", 1.0, 32)
    assert s.mean == (0.5, 0.5, 0.5) and Q.QUERY_INSTRUCTION in s.prompt_template
    with pytest.raises(InputError, match=r"expected \(T, H, W, 3\) uint8 RGB"):
        enc.preprocess(_frames(4).transpose(0, 3, 1, 2))


def test_weights_with_the_checkpoint_key_names_load_exactly(snapshot):
    folder, source = snapshot
    enc = Q.from_folder(folder)
    for (name, a), b in zip(source.state_dict().items(), enc.model.state_dict().values()):
        assert torch.equal(a, b), name
    assert enc.sampling.weights == str(folder)
    bad = {"model.nonsense.weight": torch.zeros(1)}
    with pytest.raises(InputError, match="1 unexpected"):
        Q.load_state(enc.model, bad)


def test_bad_weights_argument_is_one_line(tmp_path):
    with pytest.raises(InputError, match="expected a snapshot folder, a hub revision"):
        Q.qwen3_vl_embedding_2b(weights=str(tmp_path / "nope"))
    with pytest.raises(InputError, match="expected a Qwen3-VL-Embedding snapshot"):
        Q.from_folder(tmp_path)
