"""XML's moment head trained on a benchmark's feature store and run as a moment baseline
(``var-bench moments train`` / ``predict``, docs/moments.md).

Inputs. A query is its sentence's embedding from a frozen text model
(:func:`~var_bench.models.text.sentence_embeddings`, default the offline MiniLM); a video is one
stream of the collection's feature store (mean over crops), its ``T`` snippets average-pooled by
``f = ceil(T / max_clips)`` into ``L = ceil(T / f)`` clips (XML's ``max_ctx_l``), so clip ``j``
covers ``[j f s, (j + 1) f s)`` seconds with ``s = snippet_frames / fps`` of the store.

Model (:class:`~var_bench.models.baselines.moments.MomentHead`): the start/end logits of XML's
``ConvSE`` over ``q . c_t`` and XML's video score ``max_t cos(q, c_t)``. Targets: a sentence's
gold ``[start_s, end_s]`` (its first segment) -> clips ``a = floor(start_s / (f s))``,
``b = max(a, ceil(end_s / (f s)) - 1)``, both clipped to ``[0, L - 1]``. Loss per batch:
``CE(st, a) + CE(ed, b) + w * ranking`` with ``ranking`` the bidirectional max-margin loss over
the batch's sentence x video scores (pairs of one video are no negatives). The epoch with the
best validation ``R@1,IoU=0.5`` of the grounding task is kept (never test).

Prediction. Grounding: the query's own video, the ``top`` spans ``[a, b]`` (``b - a <
max_len``) by ``P_st(a) P_ed(b)`` (softmax over the video's clips). Corpus moments (TVR's VCMR):
video probabilities ``softmax_v(alpha * score(q, v))`` over the split's gallery, the
``videos_per_query`` best videos, each span scored ``P(v) P_st(a) P_ed(b)``, the ``top`` best
kept. A span covers ``[a f s, min((b + 1) f s, duration)]`` seconds.
"""

from __future__ import annotations

import json
import logging
import math
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import torch
from pydantic import Field

from var_bench import readback
from var_bench._version import __version__
from var_bench.benchmarks import BenchmarkSpec, get_benchmark
from var_bench.errors import InputError
from var_bench.fsutil import atomic_path, atomic_write_text
from var_bench.models.baselines.moments import K, MomentHead, best_spans, entries, span_loss
from var_bench.training.runtime import resolve_device

log = logging.getLogger(__name__)

CONFIG_FILE = "config.json"
WEIGHTS_FILE = "head.safetensors"
FORMAT = "var_bench.moment_head/1"
#: The task the head trains and selects on: one video per sentence.
TRAIN_TASK = "grounding"

Positive = Annotated[int, Field(ge=1)]


@dataclass(frozen=True)
class MomentHeadConfig:
    """The head's options (``--set KEY=VALUE`` on the command line); formulas in the module
    docstring."""

    stream: str = "rgb"
    text_model: str = "offline"
    hidden: Positive = 128
    kernel: Positive = 5
    max_clips: Positive = 100  # XML's max_ctx_l
    max_len: Positive = 16  # longest predicted span, in clips
    epochs: Annotated[int, Field(ge=0)] = 10
    batch_size: Annotated[int, Field(ge=2)] = 128
    lr: Annotated[float, Field(gt=0)] = 1e-3
    margin: Annotated[float, Field(ge=0)] = 0.1
    ranking_weight: Annotated[float, Field(ge=0)] = 1.0
    alpha: Annotated[float, Field(gt=0)] = 20.0  # softmax temperature of the video scores
    videos_per_query: Positive = 10
    seed: Annotated[int, Field(ge=0)] = 0


@dataclass(frozen=True)
class HeadFile:
    """``config.json`` of a trained head (read back strictly)."""

    format: str
    var_bench: str
    benchmark: str
    config: MomentHeadConfig
    query_dim: Positive
    clip_dim: Positive
    best_epoch: int
    best_val: float | None
    history: list[dict[str, float]] = field(default_factory=list)


@dataclass
class Clips:
    """A split's videos as pooled clips: ``feats [V, L, D]`` (zero-padded), ``mask [V, L]``,
    ``seconds [V]`` per clip, ``duration [V]``; rows in ``ids`` order."""

    ids: list[str]
    feats: torch.Tensor
    mask: torch.Tensor
    seconds: np.ndarray
    duration: np.ndarray


def parse_overrides(overrides: tuple[str, ...] | list[str]) -> MomentHeadConfig:
    """``KEY=VALUE`` strings (YAML values) -> a checked :class:`MomentHeadConfig`.

    Raises:
        InputError: an unknown key, a value of the wrong type or range.

    Example:
        >>> parse_overrides(["epochs=3", "stream=rgb"]).epochs
        3
    """
    from var_bench.training.config import coerce_float, parse_override

    fields = MomentHeadConfig.__dataclass_fields__
    raw: dict[str, Any] = {}
    for item in overrides:
        path, value = parse_override(item)  # the trainer's --set syntax (YAML values)
        key = ".".join(path)
        if key not in fields:
            raise InputError(f"--set {key}: expected one of {', '.join(fields)}, got {key!r}")
        if key in ("stream", "text_model"):  # names and paths: the text as written
            value = str(item).partition("=")[2].strip() or None
        elif "float" in str(fields[key].type):
            value = coerce_float(value)  # 5e-5 is a string in YAML 1.1
        raw[key] = value
    return readback.validate(MomentHeadConfig, raw, "--set")


def _task(spec: BenchmarkSpec, name: str | None):
    task = spec.task(name)
    if getattr(task, "gold", None) != "moments" or not hasattr(task, "query_video"):
        raise InputError(
            f"--task: expected a moment task of {spec.name} "
            f"({', '.join(t.name for t in spec.tasks if getattr(t, 'gold', None) == 'moments')}"
            f" or none), got {task.name}"
        )
    if spec.query_modality != "text":
        raise InputError(f"{spec.name}: expected a benchmark of text queries, got audio queries")
    return task


def pool_clips(x: np.ndarray, max_clips: int) -> tuple[np.ndarray, int]:
    """Snippets ``[T, D]`` -> clips ``[ceil(T / f), D]``, each the mean of ``f = ceil(T /
    max_clips)`` consecutive snippets (the last of what remains); returns (clips, f).

    Example:
        >>> c, f = pool_clips(np.arange(5.0)[:, None], 2)
        >>> f, c[:, 0].tolist()
        (3, [1.0, 3.5])
    """
    f = max(1, math.ceil(len(x) / max_clips))
    n = math.ceil(len(x) / f)
    full = np.concatenate([x, np.zeros((n * f - len(x), x.shape[1]), x.dtype)])
    counts = np.minimum(f, len(x) - np.arange(n) * f)[:, None]
    return (full.reshape(n, f, -1).sum(1) / counts).astype(x.dtype), f


def load_clips(
    spec: BenchmarkSpec, split: str, stream: str, max_clips: int, gold, home=None
) -> Clips:
    """The gold gallery's videos from the collection's store, pooled (module docstring), with
    the durations the task scores against (``gold.gallery_meta["duration_s"]``).

    Raises:
        InputError: a video or the stream missing from the store. NotBuiltError: no store.
    """
    from var_bench.data.paths import features_dir
    from var_bench.features.manifest import FeatureManifest
    from var_bench.loaders.dataset import FeatureDataset
    from var_bench.loaders.hf import load_dataset

    ids = gold.gallery.ids()
    rows = load_dataset(spec.name, split, features=True, videos=True, home=home, download=False)
    where = {str(v): i for i, v in enumerate(rows["video_id"])}
    missing = [v for v in ids if v not in where]
    if missing:
        raise InputError(
            f"{spec.name} {split}: expected features for every video, {len(missing)} missing "
            f"from the store (e.g. {missing[0]}); build the store for {spec.name}"
        )
    data = FeatureDataset(
        rows.select([where[v] for v in ids]), streams=(stream,), crop="mean", text_column=None
    )
    m = FeatureManifest.read(features_dir(spec, home))
    snippet_s = int(getattr(m, "snippet_frames", None) or spec.snippet_frames) / spec.fps
    pooled, seconds = [], []
    for i in range(len(ids)):
        clips, f = pool_clips(np.asarray(data[i][stream], dtype=np.float32), max_clips)
        pooled.append(clips)
        seconds.append(f * snippet_s)
    width = max((len(p) for p in pooled), default=1)
    dim = pooled[0].shape[1] if pooled else 1
    feats = np.zeros((len(ids), width, dim), np.float32)
    mask = np.zeros((len(ids), width), bool)
    for i, p in enumerate(pooled):
        feats[i, : len(p)] = p
        mask[i, : len(p)] = True
    return Clips(
        ids,
        torch.from_numpy(feats),
        torch.from_numpy(mask),
        np.asarray(seconds),
        np.asarray(gold.gallery_meta["duration_s"], dtype=np.float64),
    )


def _targets(segments: np.ndarray, seconds: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Gold ``[N, 2]`` seconds -> ``[N, 2]`` start/end clips (module docstring)."""
    a = np.floor(segments[:, 0] / seconds)
    b = np.maximum(a, np.ceil(segments[:, 1] / seconds) - 1)
    top = (lengths - 1)[:, None]
    return np.clip(np.stack([a, b], 1), 0, top).astype(np.int64)


def train_moment_head(
    benchmark: str,
    out: str | os.PathLike,
    *,
    overrides: tuple[str, ...] | list[str] = (),
    home: str | os.PathLike | None = None,
    device: str | None = None,
) -> HeadFile:
    """Train XML's moment head on the train split's sentences, keeping the epoch with the best
    validation grounding ``R@1,IoU=0.5``; write ``out/config.json`` and ``out/head.safetensors``.

    Args:
        benchmark: a benchmark with a ``grounding`` task over a text-query feature store (UCA).
        out: the run folder (created; an earlier head there is replaced).
        overrides: ``KEY=VALUE`` of :class:`MomentHeadConfig`.
        home, device: the data home; ``cpu`` or ``cuda[:N]`` (default: cuda when available).

    Returns:
        The written :class:`HeadFile` (per-epoch ``history``: loss and val score).

    Raises:
        InputError: a benchmark without a grounding task, bad overrides, a stream the store lacks.
        NotBuiltError: no built dataset or feature store.

    Example:
        >>> run = train_moment_head("uca", "runs/head", overrides=["epochs=5"])  # doctest: +SKIP
        >>> run.best_val  # doctest: +SKIP
        12.4
    """
    cfg = parse_overrides(overrides)
    spec = get_benchmark(benchmark)
    if TRAIN_TASK not in {t.name for t in spec.tasks}:
        raise InputError(
            f"{spec.name}: expected a benchmark with a {TRAIN_TASK} task (sentences with their "
            f"[start_s, end_s], uca), got tasks {', '.join(t.name for t in spec.tasks)}"
        )
    task = _task(spec, TRAIN_TASK)
    dev = resolve_device(device)
    torch.manual_seed(cfg.seed)
    rng = np.random.default_rng(cfg.seed)
    train = _split_inputs(spec, task, "train", cfg, home)
    queries, video, clips = train.queries, train.video, train.clips
    lengths = clips.mask.sum(1).numpy()
    segments = train.gold.segments[train.first]  # a sentence's first gold segment
    target = torch.from_numpy(_targets(segments, clips.seconds[video], lengths[video]))
    val = _split_inputs(spec, task, "val", cfg, home)
    head = MomentHead(queries.shape[1], clips.feats.shape[2], cfg.hidden, cfg.kernel).to(dev)
    opt = torch.optim.Adam(head.parameters(), lr=cfg.lr)
    from var_bench.models.losses import max_margin_ranking_loss

    out = Path(out)
    history: list[dict[str, float]] = []
    best_epoch, best_val, best_state = 0, None, _state(head)
    for epoch in range(1, cfg.epochs + 1):
        head.train()
        order = rng.permutation(len(video))
        total = 0.0
        for idx in _batches(order, lengths[video], cfg.batch_size, rng):
            v = video[idx]
            width = int(lengths[v].max())
            c = clips.feats[v, :width].to(dev)
            mk = clips.mask[v, :width].to(dev)
            q, c = head.query(queries[idx].to(dev)), head.clip(c)  # projected once
            st, ed = head.spans(q, c, mk)
            loss = span_loss(st, ed, target[idx, 0].to(dev), target[idx, 1].to(dev))
            if cfg.ranking_weight:
                same = torch.from_numpy(v[:, None] == v[None, :]).to(dev)
                sim = head.projected_scores(q, c, mk)
                loss = loss + cfg.ranking_weight * max_margin_ranking_loss(
                    sim, cfg.margin, same=same
                )
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += float(loss) * len(idx)
        score = _val_score(head, spec, task, val, cfg, home, dev)
        history.append({"epoch": epoch, "loss": total / len(order), "val": score})
        log.info(
            "moment head epoch %d: loss %.4f, val %s %.2f",
            epoch,
            total / len(order),
            task.main_score,
            score,
        )
        if best_val is None or score > best_val:
            best_epoch, best_val, best_state = epoch, score, _state(head)
    result = HeadFile(
        FORMAT,
        __version__,
        spec.name,
        cfg,
        int(queries.shape[1]),
        int(clips.feats.shape[2]),
        best_epoch,
        best_val,
        history,
    )
    _save(out, result, best_state)
    return result


def _batches(order: np.ndarray, lengths: np.ndarray, size: int, rng) -> list[np.ndarray]:
    """Batches of ``order`` (a permutation) with similar clip counts: blocks of 16 batches are
    sorted by their videos' lengths before cutting (padding, not clips, dominated the cost of
    mixed batches); the batches then run in a random order."""
    block = 16 * size
    parts = []
    for s in range(0, len(order), block):
        chunk = order[s : s + block]
        chunk = chunk[np.argsort(lengths[chunk], kind="stable")]
        parts += [chunk[i : i + size] for i in range(0, len(chunk), size)]
    return [parts[i] for i in rng.permutation(len(parts))]


def _state(head: MomentHead) -> dict[str, torch.Tensor]:
    return {k: v.detach().to("cpu").clone().contiguous() for k, v in head.state_dict().items()}


def _save(out: Path, result: HeadFile, state: dict[str, torch.Tensor]) -> None:
    from safetensors.torch import save_file

    out.mkdir(parents=True, exist_ok=True)
    with atomic_path(out / WEIGHTS_FILE) as tmp:
        save_file(state, str(tmp))
    atomic_write_text(out / CONFIG_FILE, json.dumps(asdict(result), indent=1) + "\n")


@dataclass
class _Inputs:
    """A split of a moment task: its gold, the sentence embeddings, per query the gallery index
    of its first positive video (``video``) and that positive's row in ``gold.segments``
    (``first``), and the gallery's clips."""

    gold: Any
    queries: torch.Tensor
    video: np.ndarray
    first: np.ndarray
    clips: Clips


def _split_inputs(spec, task, split: str, cfg: MomentHeadConfig, home) -> _Inputs:
    from var_bench.data.gold import load_gold
    from var_bench.models.text import sentence_embeddings

    gold = load_gold(spec, task, split, home=home)
    texts = [str(s) for s in gold.query_meta[spec.text_column]]
    indptr, indices = gold.positives
    return _Inputs(
        gold,
        torch.from_numpy(sentence_embeddings(texts, model_dir=cfg.text_model)),
        indices[indptr[:-1]],
        indptr[:-1],
        load_clips(spec, split, cfg.stream, cfg.max_clips, gold, home),
    )


def _val_score(head, spec, task, val: _Inputs, cfg, home, dev) -> float:
    from var_bench.scoring.score import score

    found = _grounding(head, val, cfg, dev, top=K)
    rec = score(found, spec, task=task.name, split="val", home=home, slices=False)
    return float(rec.main_value)


def read_head_file(run: str | os.PathLike) -> HeadFile:
    """A run folder's ``config.json``, read back strictly.

    Raises:
        InputError: a folder without a head, a config of another format.
    """
    run = Path(run)
    path = run / CONFIG_FILE
    if not path.is_file() or not (run / WEIGHTS_FILE).is_file():
        raise InputError(
            f"{run}: expected a moment-head run folder ({CONFIG_FILE} and {WEIGHTS_FILE}, "
            f"written by 'var-bench moments train'), got none"
        )
    info = readback.validate(HeadFile, readback.read_json(path, CONFIG_FILE), path)
    if info.format != FORMAT:
        raise InputError(f"{path}: expected format {FORMAT}, got {info.format!r}")
    return info


def load_moment_head(run: str | os.PathLike, device=None) -> tuple[MomentHead, HeadFile]:
    """A trained head and its ``config.json`` from a run folder.

    Raises:
        InputError: as :func:`read_head_file`; weights that do not fit the config.
    """
    from safetensors.torch import load_file

    info = read_head_file(run)
    cfg = info.config
    head = MomentHead(info.query_dim, info.clip_dim, cfg.hidden, cfg.kernel)
    weights = Path(run) / WEIGHTS_FILE
    try:
        head.load_state_dict(load_file(str(weights)))
    except (RuntimeError, OSError, ValueError) as e:
        raise InputError(
            f"{weights}: expected the weights of the head its config describes, "
            f"got ones that do not fit ({' '.join(str(e).split())[:160]})"
        ) from None
    return head.to(torch.device(device or "cpu")).eval(), info


def head_disclosure(run: str | os.PathLike) -> dict[str, str]:
    """What a trained head's submissions declare: its training data (the benchmark's train
    split, so scoring flags a test split it overlaps, e.g. UCFCrime-AR test in UCA train) and
    the epoch selection on val."""
    return {
        "training_data": read_head_file(run).benchmark,
        "checkpoint_selection": "val split",
        "tuned_on_test": "no",
    }


def _rows(
    clips: Clips, videos: np.ndarray, st: np.ndarray, ed: np.ndarray, weight, cfg, top: int
) -> list[list]:
    """One query's ``top`` predictions from its candidate videos' start/end probabilities
    (:func:`~var_bench.models.baselines.moments.best_spans`); ends clipped to the duration, a
    span equal to a better one after clipping dropped."""
    lengths = clips.mask[videos].sum(1).numpy()
    width = st.shape[1]
    row, a, b, score = best_spans(
        st, ed, max_len=cfg.max_len, k=top + width, weight=weight, lengths=lengths
    )
    sec, dur = clips.seconds[videos][row], clips.duration[videos][row]
    start = a * sec
    end = np.minimum((b + 1) * sec, np.maximum(dur, start))
    seen: set[tuple[int, float, float]] = set()
    out = []
    for r, s, e, z in zip(row.tolist(), start.tolist(), end.tolist(), score.tolist()):
        if (r, s, e) in seen:
            continue
        seen.add((r, s, e))
        out.append([clips.ids[videos[r]], s, e, z])
        if len(out) == top:
            break
    return out


def _probs(head, q, clips: Clips, v: np.ndarray, dev) -> tuple[np.ndarray, np.ndarray]:
    width = int(clips.mask[v].sum(1).max())
    with torch.no_grad():
        st, ed = head(q.to(dev), clips.feats[v, :width].to(dev), clips.mask[v, :width].to(dev))
    return st.softmax(-1).cpu().numpy(), ed.softmax(-1).cpu().numpy()


def _grounding(head, inp: _Inputs, cfg, dev, top: int, chunk: int = 512) -> list[dict]:
    head.eval()
    ids = inp.gold.queries.ids()
    rows: list[list] = []
    for start in range(0, len(ids), chunk):
        v = inp.video[start : start + chunk]
        st, ed = _probs(head, inp.queries[start : start + chunk], inp.clips, v, dev)
        rows += [
            _rows(inp.clips, v[i : i + 1], st[i : i + 1], ed[i : i + 1], None, cfg, top)
            for i in range(len(v))
        ]
    return entries(ids, rows)


def _corpus(head, inp: _Inputs, cfg, dev, top: int, chunk: int = 256) -> list[dict]:
    head.eval()
    ids = inp.gold.queries.ids()
    clips = inp.clips
    rows: list[list] = []
    n_v = min(cfg.videos_per_query, len(clips.ids))
    mask = clips.mask.to(dev)
    with torch.no_grad():
        gallery = head.clip(clips.feats.to(dev))  # [V, L, H], projected once
        for start in range(0, len(ids), chunk):
            q = head.query(inp.queries[start : start + chunk].to(dev))
            prob = (cfg.alpha * head.projected_scores(q, gallery, mask)).softmax(-1).cpu().numpy()
            best = np.argsort(-prob, axis=1, kind="stable")[:, :n_v]
            flat = torch.from_numpy(best.reshape(-1)).to(dev)
            st, ed = head.spans(q.repeat_interleave(n_v, 0), gallery[flat], mask[flat])
            st = st.softmax(-1).cpu().numpy().reshape(len(q), n_v, -1)
            ed = ed.softmax(-1).cpu().numpy().reshape(len(q), n_v, -1)
            rows += [
                _rows(clips, best[i], st[i], ed[i], prob[i, best[i]], cfg, top)
                for i in range(len(q))
            ]
    return entries(ids, rows)


def predict_moments(
    run: str | os.PathLike,
    benchmark: str,
    *,
    task: str | None = None,
    split: str = "test",
    top: int = K,
    home: str | os.PathLike | None = None,
    device: str | None = None,
) -> list[dict]:
    """Moment predictions of a trained head for every query of a moment task (module docstring).

    Args:
        run: the folder :func:`train_moment_head` wrote.
        benchmark, task: any benchmark over a store with the head's stream and text queries, and
            one of its moment tasks (default its first: ``uca`` corpus moments; ``grounding``;
            ``ucfcrime-ar`` ``moments``, the anomaly-moment track).
        split, top: the split; predictions per query (1 to 100).
        home, device: the data home; the torch device.

    Returns:
        Submission entries ``{query_id, predictions: [[video_id, start_s, end_s, score], ...]}``.

    Raises:
        InputError: not a moment task, ``top`` out of range, a store whose stream width is not the
            head's.

    Example:
        >>> found = predict_moments("runs/uca-head", "uca", task="grounding")  # doctest: +SKIP
    """
    if not 1 <= top <= K:
        raise InputError(f"--top: expected 1 to {K} predictions per query, got {top}")
    dev = resolve_device(device or "cpu")
    head, info = load_moment_head(run, dev)
    spec = get_benchmark(benchmark)
    t = _task(spec, task)
    inp = _split_inputs(spec, t, split, info.config, home)
    if inp.clips.feats.shape[2] != info.clip_dim or inp.queries.shape[1] != info.query_dim:
        raise InputError(
            f"{run}: expected {info.config.stream} features of width {info.clip_dim} and "
            f"{info.query_dim}-d sentence embeddings, got {inp.clips.feats.shape[2]} and "
            f"{inp.queries.shape[1]}"
        )
    if t.type_name == "grounding":
        return _grounding(head, inp, info.config, dev, top)
    return _corpus(head, inp, info.config, dev, top)
