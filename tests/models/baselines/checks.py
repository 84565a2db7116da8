"""Shared checks for the baseline model tests: small models, loss and encodings, padding
invariance, gradient flow and the tiny configs. Each model's mechanism tests stay in its own
file."""

from __future__ import annotations

import torch

from var_bench.models.registry import get_model
from var_bench.training.config import load_config

from .fakebatch import TEXT, UCF, XD, evaluate_pair, make_batch, make_ctx, pad_batch


def build_small(cls, args: dict, benchmark: str, store=("rgb", "flow"), **kw):
    """``cls`` from ``{**args, **kw}`` for ``benchmark`` whose feature store has the video streams
    ``store`` (the frozen offline text options on UCF)."""
    torch.manual_seed(0)
    args = {**args, **kw}
    if benchmark == UCF:
        args["text"] = TEXT
    return cls.from_config(args, make_ctx(benchmark, store))


def model_ctx(model):
    """The :func:`make_ctx` context of ``model``'s benchmark (UCF for text queries, else XD)."""
    if hasattr(model, "query_modality"):
        text = model.query_modality == "text"
    else:
        text = model.text_encoder is not None
    return make_ctx(UCF if text else XD)


def loss_and_encodings(model, batch: dict):
    """Check the training loss is a finite scalar, then return ``(query, gallery, similarity)``
    of ``batch`` against itself in eval mode."""
    model.train()
    out = model(batch)
    assert out["loss"].dim() == 0 and torch.isfinite(out["loss"])
    model.eval()
    with torch.no_grad():
        q, g = model.encode_query(batch), model.encode_gallery(batch)
        sim = model.similarity(q, g)
    return q, g, sim


def encodings_ignore_padding(model, batch: dict, extra: int, keys=("emb",)) -> None:
    """Encoding ``batch`` with ``extra`` more padded positions leaves ``keys`` of both sides
    unchanged."""
    model.eval()
    with torch.no_grad():
        q0, g0 = model.encode_query(batch), model.encode_gallery(batch)
        padded = pad_batch(batch, extra=extra)
        q1, g1 = model.encode_query(padded), model.encode_gallery(padded)
    for key in keys:
        assert torch.allclose(g0[key], g1[key], atol=1e-5), key
        assert torch.allclose(q0[key], q1[key], atol=1e-5), key


def gradient_reaches_all_but_frozen_text(model, batch: dict) -> None:
    """After one backward pass every parameter has a non-zero gradient, except the frozen text
    encoder's (which must not be trainable)."""
    model.train()
    model.zero_grad()
    model(batch)["loss"].backward()
    for name, p in model.named_parameters():
        if name.startswith("text_encoder."):
            assert not p.requires_grad  # frozen in this small configuration
            continue
        assert p.grad is not None and p.grad.abs().sum() > 0, name


def tiny_model(
    name: str, benchmark: str, streams=("rgb", "flow"), config_benchmark: str | None = None
):
    """``(model, ctx, cfg)``: the ``tiny`` config of ``name`` (for ``config_benchmark`` when given)
    built for a :func:`make_ctx` context of ``benchmark``."""
    extra = {} if config_benchmark is None else {"benchmark": config_benchmark}
    cfg = load_config("tiny", model=name, **extra)
    ctx = make_ctx(benchmark, streams)
    ctx = type(ctx)(**{**ctx.__dict__, "text_model": cfg.text_model})
    torch.manual_seed(0)
    return get_model(cfg.model).from_config(cfg.model_args, ctx), ctx, cfg


def tiny_forward_backward(name: str, benchmark: str):
    """The tiny config of ``name`` on ``benchmark``: one finite loss with a backward pass;
    returns ``(model, batch, cfg)``."""
    model, ctx, cfg = tiny_model(name, benchmark, config_benchmark=benchmark)
    batch = make_batch(ctx, batch_size=cfg.train.batch_size)
    loss = model(batch)["loss"]
    loss.backward()
    assert torch.isfinite(loss)
    return model, batch, cfg


def losses_decrease(model, batch: dict, lr: float, steps: int = 4) -> None:
    """Adam on the same ``batch`` (dropout off) lowers a finite loss over ``steps`` steps."""
    opt = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=lr)
    model.eval()  # dropout off: the same batch must then fit better step after step
    losses = []
    for _ in range(steps):
        opt.zero_grad()
        loss = model(batch)["loss"]
        loss.backward()
        opt.step()
        losses.append(float(loss.detach()))
    assert all(torch.isfinite(torch.tensor(losses))) and losses[-1] < losses[0]


def padding_batches(model):
    """The padded-batch pair of the score-padding tests: a batch of lengths 9, 3, 6, 9 and the
    same with 3 more padded positions."""
    batch = make_batch(model_ctx(model), 4, 9, lengths=[9, 3, 6, 9], seed=1)
    return batch, pad_batch(batch, 3)


def unmask(padded: dict) -> dict:
    """``padded`` with every mask set to all True (padding read as real snippets)."""
    for key in [k for k in padded if k.endswith("_mask")]:
        padded[key] = torch.ones_like(padded[key])
    return padded


def blocks_equal_one_block(model, module, monkeypatch) -> None:
    """Scoring one video per block (``module.BLOCK_ELEMENTS = 1``) gives the one-block scores."""
    batch = make_batch(model_ctx(model), 6, 7, lengths=[7, 7, 2, 5, 7, 1], seed=4)
    whole = evaluate_pair(model, batch, batch)
    monkeypatch.setattr(module, "BLOCK_ELEMENTS", 1)  # one video per block
    assert torch.allclose(whole, evaluate_pair(model, batch, batch), atol=1e-6)


def shapes_batch(model) -> dict:
    """The mixed-length batch of the shapes tests (5 videos, up to 10 snippets)."""
    return make_batch(model_ctx(model), 5, 10, lengths=[10, 4, 7, 1, 10])


def eval_encodings(model, batch: dict, queries: int):
    """Gallery and query encodings of ``batch`` in eval mode, and the first ``queries`` queries'
    similarity to the whole gallery: ``(gallery, query, sim)``."""
    model.eval()
    with torch.no_grad():
        g = model.encode_gallery(batch)
        q = model.encode_query(batch)
        s = model.similarity({k: v[:queries] for k, v in q.items()}, g)
    return g, q, s
