"""ALAN, the Anomaly-Led Alignment Network (Wu et al., TIP 2024), as a registered retrieval model.

Per batch (see :mod:`var_bench.loaders` for the batch layout):

1. The anomaly detector scores every real snippet of the full (masked) video; its top-k BCE loss
   against the video label is ``L_topk`` (plus the audio detector's on XDViolence-AR).
2. FS and AS pick ``N`` snippets each (sampling is not differentiable; the detector's scores are
   detached); the video encoder gives ``g_v``, ``h_v`` per stream (object = ``rgb``, motion =
   ``flow``; RGB alone when no Flow is in the store).
3. The query (UCF: BERT text; XD: the audio encoder over VGGish with its own detector and FS/AS)
   gives per-stream GEU embeddings and stream weights ``w``.
4. ``s = alpha * sum_s w_g,s cos(g_q,s, g_v,s) + (1 - alpha) * sum_s w_h,s cos(h_q,s, h_v,s)``;
   ``L_rank`` = bidirectional max-margin ranking loss on the ``[B, B]`` matrix.
5. Text benchmarks: ``L_mpm`` = VPMPM cross-entropy, NP pass + VP pass.

``loss = w_rank L_rank + w_topk L_topk + w_mpm L_mpm`` (paper: 1, 0.1, 0.01).
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor

from var_bench.errors import InputError
from var_bench.features.streams import (
    VIDEO_STREAMS,
    query_streams,
)  # object (I3D RGB), motion (I3D Flow)
from var_bench.models.alan.detector import AnomalyDetector, topk_bce_loss
from var_bench.models.alan.encoders import (
    POSITION_EMBEDDINGS,
    SEQUENCES,
    WEIGHT_INPUTS,
    MultiStreamEncoder,
    QueryEmbedding,
    QueryHead,
    TextSide,
)
from var_bench.models.alan.phrases import KINDS, MASK_KINDS
from var_bench.models.alan.sampling import EVAL_MODES, anomaly_led_indices, fixed_frame_indices
from var_bench.models.alan.vpmpm import VPMPM, PhraseMasker
from var_bench.models.base import ModelConfig, ModelContext, RetrievalModel
from var_bench.models.deviations import Deviation, note
from var_bench.models.losses import RANKING_REDUCTIONS, max_margin_ranking_loss, same_video
from var_bench.models.registry import register_model

log = logging.getLogger(__name__)

#: What may feed the video anomaly detector.
DETECTOR_INPUTS: tuple[str, ...] = ("rgb", "rgb+flow")


@dataclass(frozen=True)
class ALANConfig(ModelConfig):
    """ALAN's hyper-parameters (``model_args`` of a config file). Defaults are the paper's where it
    states them; the others are this implementation's choices, explained in docs/alan.md."""

    d: int = 768  # paper: features projected to 768
    n: int = 50  # paper: N = 50 snippets per sampled sequence
    tau: float = 0.7  # paper: anomaly-led sampling temperature
    alpha: float = 0.5  # paper: weight of the CLS (global) similarity
    margin: float = 0.05  # paper: ranking margin
    rank_reduction: str = "mmt"  # "mmt": one mean over all 2B(B-1) terms (MMT's code); "sum"
    weights_from: str = "text"  # stream weights from: "text" (pre-GEU g_t, MMT's moe_fc_txt)
    # or "embeddings" (post-GEU g_to, g_tm: the paper's wording)
    w_rank: float = 1.0  # paper: loss weights
    w_topk: float = 0.1
    w_mpm: float = 0.01
    sequences: tuple[str, ...] = SEQUENCES  # ("fs",), ("as",) for the paper's ablations
    streams: tuple[str, ...] = VIDEO_STREAMS  # used when present in the feature store
    self_layers: int = 4  # open: MMT's 4 layers
    cross_layers: int = 1  # open: one cross layer per stream
    heads: int = 4  # open: MMT's 4 heads
    ff_dim: int | None = None  # None: 4 d
    dropout: float = 0.1
    position: str = "time"  # "time" | "order" (encoders.positions)
    position_embedding: str = "learned"  # "learned" (MMT's code) | "sinusoidal" (the paper's
    # reference [78]); a choice: the paper does not say
    detector_input: str = "rgb"  # "rgb" | "rgb+flow"
    detector_channels: tuple[int, ...] = (128, 32)
    detector_kernel: int = 7
    detector_dropout: float = 0.6
    topk_divisor: int = 16  # k = max(1, floor(T / 16))
    as_eval: str = "systematic"  # deterministic AS at evaluation: "systematic" | "topk"
    max_snippets: int = 512  # loader pools longer videos to this many snippets
    text_model: str | None = None  # None: the context's text model (bert-base-cased)
    text_freeze: bool = False  # paper: BERT fine-tuned
    text_cache: bool = False  # cache frozen text outputs per caption (CPU configs)
    text_max_length: int = 64
    text_dropout: float | None = 0.3  # paper: BERT dropout 0.3
    vpmpm: bool = True  # text benchmarks only
    vpmpm_kinds: tuple[str, ...] = KINDS  # Table VI: (RW,) random words, (N, V) noun&verb words
    vpmpm_head: str = "tied"  # "tied" | "linear"
    vpmpm_heads: int = 8
    vpmpm_dropout: float = 0.1
    vpmpm_prompt_detach: bool = False  # True: VPMPM gradients do not reach the video encoder

    @classmethod
    def from_args(cls, args: dict[str, Any] | None, model: str = "alan") -> ALANConfig:
        """Typed config from a ``model_args`` dict; unknown keys and bad choices are InputError."""
        args = dict(args or {})
        known = {f.name: f for f in dataclasses.fields(cls)}
        unknown = sorted(set(args) - set(known))
        if unknown:
            raise InputError(
                f"alan model_args: expected keys among {', '.join(known)}, "
                f"got unknown {', '.join(unknown)}"
            )
        for key in ("sequences", "streams", "detector_channels", "vpmpm_kinds"):
            if key in args:
                value = args[key]
                args[key] = tuple([value] if isinstance(value, str) else value)
        cfg = cls(**args)
        cfg.validate()
        return cfg

    def validate(self, label: str = "alan model_args") -> None:
        def bad(what: str, got: Any) -> InputError:
            return InputError(f"alan model_args: expected {what}, got {got!r}")

        if (
            not self.sequences
            or set(self.sequences) - set(SEQUENCES)
            or len(set(self.sequences)) != len(self.sequences)
        ):
            raise bad(f"sequences a non-empty subset of {list(SEQUENCES)}", list(self.sequences))
        query = query_streams()
        if (
            not self.streams
            or any(not isinstance(s, str) or s in query for s in self.streams)
            or len(set(self.streams)) != len(self.streams)
        ):
            raise bad(
                f"streams a non-empty list of distinct video stream names (e.g. "
                f"{list(VIDEO_STREAMS)})",
                list(self.streams),
            )
        if self.detector_input not in DETECTOR_INPUTS:
            raise bad(f"detector_input one of {list(DETECTOR_INPUTS)}", self.detector_input)
        if self.rank_reduction not in RANKING_REDUCTIONS:
            raise bad(f"rank_reduction one of {list(RANKING_REDUCTIONS)}", self.rank_reduction)
        if self.weights_from not in WEIGHT_INPUTS:
            raise bad(f"weights_from one of {list(WEIGHT_INPUTS)}", self.weights_from)
        if self.position_embedding not in POSITION_EMBEDDINGS:
            raise bad(
                f"position_embedding one of {list(POSITION_EMBEDDINGS)}", self.position_embedding
            )
        if self.as_eval not in EVAL_MODES:
            raise bad(f"as_eval one of {list(EVAL_MODES)}", self.as_eval)
        if set(self.vpmpm_kinds) - set(MASK_KINDS):
            raise bad(f"vpmpm_kinds a subset of {list(MASK_KINDS)}", list(self.vpmpm_kinds))
        if not 0.0 <= self.alpha <= 1.0:
            raise bad("alpha in [0, 1]", self.alpha)
        if self.tau <= 0 or self.n < 1 or self.d < 1 or self.topk_divisor < 1:
            raise bad(
                "tau > 0, n >= 1, d >= 1, topk_divisor >= 1",
                (self.tau, self.n, self.d, self.topk_divisor),
            )
        if self.d % self.heads:
            raise bad(f"heads dividing d = {self.d}", self.heads)


def _cosines(
    query: dict[str, Tensor],
    gallery: dict[str, Tensor],
    weights: Tensor,
    prefix: str,
    streams: tuple[str, ...],
) -> Tensor:
    """``sum_s w[:, s] * (q_s @ v_s^T)`` over streams -> ``[Nq, Nv]`` (inputs L2-normalised)."""
    total = None
    for i, s in enumerate(streams):
        q, v = query[f"{prefix}_{s}"], gallery[f"{prefix}_{s}"]
        term = weights[:, i : i + 1].to(q.dtype) * (q @ v.t().to(q.dtype))
        total = term if total is None else total + term
    return total


@register_model("alan")
class ALAN(RetrievalModel):
    """ALAN (see the module docstring). Build with :meth:`from_config`."""

    config_class = ALANConfig

    def __init__(self, cfg: ALANConfig, ctx: ModelContext) -> None:
        super().__init__()
        self.cfg = cfg
        # Streams of cfg.streams the store lacks are dropped (RGB alone without Flow).
        self.init_inputs(ctx, cfg.streams, missing_ok=True)
        streams = self.streams
        missing = [s for s in cfg.streams if s not in streams]
        if missing:
            # Named, not silent: one stream means no Cross Encoder, a different model.
            dev = note(
                self,
                Deviation(
                    "alan.no_" + "_".join(missing),
                    (
                        f"no {', '.join(missing)} stream in the feature store: ALAN runs on "
                        f"{', '.join(streams)} alone with no Cross Encoder (paper: RGB + Flow, "
                        f"two streams with cross attention)"
                    ),
                ),
            )
            log.warning("alan: %s", dev.message)
        elif tuple(streams) != ("rgb", "flow"):  # chosen in model_args.streams, not missing
            how = (
                f"each stream's Cross Encoder attends to the other {len(streams) - 1} concatenated"
                if len(streams) > 1
                else "no Cross Encoder"
            )
            dev = note(
                self,
                Deviation(
                    "alan.streams",
                    (
                        f"video streams {', '.join(streams)}: {how} (paper: RGB + Flow, "
                        f"two streams with cross attention)"
                    ),
                ),
            )
            log.info("alan: %s", dev.message)
        dims = {s: int(ctx.dims.get(s, 1024)) for s in streams}
        self.detector_streams = (
            ("rgb", "flow")
            if cfg.detector_input == "rgb+flow" and "flow" in streams
            else (streams[0],)
        )
        if cfg.detector_input == "rgb+flow" and "flow" not in streams:
            log.info(
                "alan: detector_input rgb+flow but no flow stream: the detector reads %s",
                streams[0],
            )
        self.detector = self._detector(sum(dims[s] for s in self.detector_streams))
        self.video = self._encoder(dims, cfg.cross_layers)
        self.text: TextSide | None = None
        self.vpmpm_module: VPMPM | None = None
        if self.query_modality == "text":
            self.text = TextSide(
                cfg.text_model or ctx.text_model,
                cfg.d,
                streams,
                freeze=cfg.text_freeze,
                cache=cfg.text_cache,
                max_length=cfg.text_max_length,
                dropout=cfg.text_dropout,
                weights_from=cfg.weights_from,
            )
            if cfg.vpmpm and cfg.vpmpm_kinds:
                hidden = self.text.hidden_size
                self.vpmpm_module = VPMPM(
                    hidden,
                    cfg.d,
                    len(self.text.encoder.tokenizer),
                    heads=cfg.vpmpm_heads,
                    dropout=cfg.vpmpm_dropout,
                    head=cfg.vpmpm_head,
                    word_embeddings=self._word_embeddings,
                )
                self._masker = PhraseMasker(self.text.encoder.tokenizer, cfg.text_max_length)
        else:
            audio_dim = int(ctx.dims.get("audio", 128))
            self.audio_detector = self._detector(audio_dim)
            self.audio = self._encoder({"audio": audio_dim}, 0)
            self.audio_head = QueryHead(cfg.d, cfg.d, streams, weights_from=cfg.weights_from)

    def _detector(self, in_dim: int) -> AnomalyDetector:
        c = self.cfg
        return AnomalyDetector(in_dim, c.detector_channels, c.detector_kernel, c.detector_dropout)

    def _encoder(self, dims: dict[str, int], cross_layers: int) -> MultiStreamEncoder:
        c = self.cfg
        return MultiStreamEncoder(
            dims,
            c.d,
            c.n,
            self_layers=c.self_layers,
            cross_layers=cross_layers,
            heads=c.heads,
            ff_dim=c.ff_dim,
            dropout=c.dropout,
            position=c.position,
            position_embedding=c.position_embedding,
        )

    def _word_embeddings(self) -> Tensor:
        return self.text.encoder.model.get_input_embeddings().weight

    def loader_options(self) -> dict:
        return {"max_snippets": self.cfg.max_snippets}

    # -- sampling and encoding ----------------------------------------------------------------

    def _sample(self, scores: Tensor, mask: Tensor) -> dict[str, Tensor]:
        """FS and/or AS indices ``[B, N]`` (random in training, deterministic in eval mode)."""
        c = self.cfg
        out = {}
        if "fs" in c.sequences:
            out["fs"] = fixed_frame_indices(mask.sum(dim=1), c.n, train=self.training)
        if "as" in c.sequences:
            out["as"] = anomaly_led_indices(
                scores.detach(), mask, c.n, c.tau, train=self.training, eval_mode=c.as_eval
            )
        return out

    def _video(self, batch: dict) -> tuple[dict, Tensor, Tensor, Tensor]:
        """``(stream outputs, detector scores, mask, indices)`` of the gallery side."""
        mask = batch[f"{self.streams[0]}_mask"].bool()
        feats = {s: batch[s].float() for s in self.streams}
        det_in = torch.cat([feats[s] for s in self.detector_streams], dim=-1)
        scores = self.detector(det_in, mask)
        indices = self._sample(scores, mask)
        return self.video(feats, mask.sum(dim=1), indices), scores, mask, indices

    def _audio(self, batch: dict) -> tuple[QueryEmbedding, Tensor, Tensor]:
        """``(query embedding, audio detector scores, audio mask)``."""
        mask = batch["audio_mask"].bool()
        feats = batch["audio"].float()
        scores = self.audio_detector(feats, mask)
        out = self.audio({"audio": feats}, mask.sum(dim=1), self._sample(scores, mask))["audio"]
        return self.audio_head(out.g, out.h), scores, mask

    @staticmethod
    def _gallery_dict(video: dict) -> dict[str, Tensor]:
        out = {}
        for s, o in video.items():
            out[f"g_{s}"] = torch.nn.functional.normalize(o.g.float(), dim=-1)
            out[f"h_{s}"] = torch.nn.functional.normalize(o.h.float(), dim=-1)
        return out

    def _query_dict(self, q: QueryEmbedding) -> dict[str, Tensor]:
        out = {"w_g": q.w_g.float(), "w_h": q.w_h.float()}
        for s in self.streams:
            out[f"g_{s}"] = q.g[s].float()
            out[f"h_{s}"] = q.h[s].float()
        return out

    def encode_gallery(self, batch: dict) -> dict[str, Tensor]:
        """Video embeddings: ``g_<stream>``, ``h_<stream>`` ``[B, d]``, L2-normalised."""
        return self._gallery_dict(self._video(batch)[0])

    def encode_query(self, batch: dict) -> dict[str, Tensor]:
        """Query embeddings ``g_<stream>``, ``h_<stream>`` ``[B, d]`` and weights ``w_g``, ``w_h``
        ``[B, S]`` (text on UCFCrime-AR, audio on XDViolence-AR)."""
        if self.query_modality == "text":
            return self._query_dict(self.text(list(batch["text"]))[1])
        return self._query_dict(self._audio(batch)[0])

    def similarity(self, query: dict, gallery: dict) -> Tensor:
        """``alpha * s_g + (1 - alpha) * s_h`` -> ``[Nq, Nv]`` (see the module docstring)."""
        a = self.cfg.alpha
        s_g = _cosines(query, gallery, query["w_g"], "g", self.streams)
        s_h = _cosines(query, gallery, query["w_h"], "h", self.streams)
        return a * s_g + (1.0 - a) * s_h

    def search_vectors(self, outputs: dict, side: str) -> Tensor:
        """The similarity as one inner product: gallery ``[g_s..., h_s...]``, query
        ``[alpha w_g[s] g_s..., (1 - alpha) w_h[s] h_s...]`` (``s`` over the streams)."""
        parts = []
        for prefix, weight in (("g", self.cfg.alpha), ("h", 1.0 - self.cfg.alpha)):
            for i, s in enumerate(self.streams):
                x = outputs[f"{prefix}_{s}"].float()
                if side == "query":
                    x = weight * outputs[f"w_{prefix}"][:, i : i + 1].float() * x
                parts.append(x)
        return torch.cat(parts, dim=1)

    # -- training ---------------------------------------------------------------------------

    def forward(self, batch: dict) -> dict[str, Tensor]:
        """Training losses: ``loss`` (weighted total), ``rank``, ``topk``, ``mpm``."""
        c = self.cfg
        video, scores, mask, _ = self._video(batch)
        labels = batch["video_label"].float()
        topk = topk_bce_loss(scores, mask, labels, c.topk_divisor)
        gallery = self._gallery_dict(video)
        mpm = scores.new_zeros((), dtype=torch.float32)
        if self.query_modality == "text":
            text_out, q = self.text(list(batch["text"]))
            if self.vpmpm_module is not None and c.w_mpm:
                mpm = self._vpmpm(list(batch["text"]), text_out, video)
        else:
            q, a_scores, a_mask = self._audio(batch)
            topk = topk + topk_bce_loss(a_scores, a_mask, labels, c.topk_divisor)
        sim = self.similarity(self._query_dict(q), gallery)
        rank = max_margin_ranking_loss(
            sim, c.margin, c.rank_reduction, same_video(batch, sim.device)
        )
        loss = c.w_rank * rank + c.w_topk * topk + c.w_mpm * mpm
        return {"loss": loss, "rank": rank.detach(), "topk": topk.detach(), "mpm": mpm.detach()}

    def _vpmpm(self, texts: list[str], text_out, video: dict) -> Tensor:
        """NP pass + VP pass of the masked-phrase decoder, prompted by the paired videos."""
        prompts = torch.cat([video[s].tokens for s in self.streams], dim=1)
        if self.cfg.vpmpm_prompt_detach:
            prompts = prompts.detach()
        total = None
        for kind in self.cfg.vpmpm_kinds:
            pmask = self._masker.masks(texts, kind, text_out.tokens.shape[1])
            part = self.vpmpm_module(
                text_out.tokens,
                text_out.mask,
                text_out.ids,
                pmask.to(text_out.tokens.device),
                prompts,
            )
            total = part if total is None else total + part
        return total.float()
