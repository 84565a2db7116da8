"""``var-bench reproduce``: train N seeds with the paper's protocol, evaluate each on test, and
aggregate them beside the published row, with every deviation from the paper named.

Layout of ``out`` (default ``reproductions/<model>-<benchmark>``)::

    config.yaml              the resolved config every seed trains with (seed overridden)
    plan.json                deviations, paper values (stated / reading / guess), features and
                             each stream's provenance
    seeds/seed-<k>/run/      the training run (checkpoints, log.jsonl): resumes when rerun
    seeds/seed-<k>/test.json the seed's result record (its disclosure lists the deviations)
    seeds/seed-<k>/test.npz  the seed's submission
    report.md, report.html, summary.json

A seed whose ``test.json`` exists is not run again, so an interrupted reproduction resumes.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from var_bench.benchmarks import BenchmarkSpec, get_benchmark
from var_bench.errors import InputError
from var_bench.fsutil import atomic_write_text
from var_bench.models.deviations import DEVIATIONS_KEY, Deviation, disclosure_text
from var_bench.reproduce.paper import (
    PAPER_TEXT_MODEL,
    PaperValue,
    changed_stated_values,
    get_key,
    paper_values,
)

log = logging.getLogger(__name__)

#: The named configs ``--config`` accepts besides a file.
CONFIG_NAMES: tuple[str, ...] = ("paper", "tiny")

#: Deviation keys that ``--strict`` refuses (the issue's four; the rest are listed only).
STRICT_KEYS: tuple[str, ...] = (
    "alan.no_flow",
    "text.model",
    "text.fallback",
    "features.synthetic",
    "paper.changed",
)


class StrictRefusal(InputError):
    """``--strict`` refused the run: ``lines`` holds one line per deviation."""

    def __init__(self, lines: Sequence[str]) -> None:
        self.lines = list(lines)
        super().__init__(
            "reproduce --strict: refused, the run would not be the paper's: "
            + "; ".join(self.lines)
            + " (use --allow-deviation to run anyway)"
        )


@dataclass
class ReproducePlan:
    """What a reproduction will run: the resolved config (as a dict in the file layout), the
    paper values in force, the feature store's identity and the deviations found before
    training. ``strict``: refuse when a deviation in :data:`STRICT_KEYS` is present."""

    model: str
    benchmark: str
    config_label: str
    config: dict[str, Any]
    paper: tuple[PaperValue, ...]
    features: dict[str, Any]
    deviations: list[Deviation]
    strict: bool
    home: str | None
    #: The ablation trial's own settings (``{key: value}``): the paper's ablation row, not a
    #: deviation (``paper.changed`` skips them).
    ablation: dict[str, Any] = field(default_factory=dict)

    def refusals(self) -> list[Deviation]:
        return [d for d in self.deviations if d.key.split("[")[0] in STRICT_KEYS]

    def to_json(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "benchmark": self.benchmark,
            "config": self.config_label,
            "strict": self.strict,
            "features": self.features,
            "ablation": self.ablation,
            "deviations": [d.to_json() for d in self.deviations],
            "paper_values": [p.to_json() for p in self.paper],
        }


# ---------------------------------------------------------------- the plan


def resolve_home(
    features_store: str | Path | None, home: str | Path | None, spec: BenchmarkSpec
) -> str | None:
    """The data home of ``--features-store``: a data home, or a store folder
    ``<home>/features/<collection>`` (its home is two levels up; a store at its place before
    stores were kept per collection, ``<home>/features/<benchmark>/<version>``, three)."""
    if features_store is None:
        return None if home is None else str(home)
    p = Path(features_store).expanduser()
    if (
        (p / "manifest.json").is_file()
        and p.parent.name == "features"
        and p.name == spec.videos.name
    ):
        return str(p.parents[1])
    if (p / "manifest.json").is_file() and p.parent.name == spec.name:
        return str(p.parents[2])
    if p.is_dir():
        return str(p)
    raise InputError(
        f"--features-store: expected a data home or a feature-store folder of "
        f"{spec.name}, got {str(p)!r} (no such folder)"
    )


#: Where a stream's features come from (``stream_provenance``).
EXTRACTED, RELEASE, SYNTHETIC = "var-bench extraction", "public release", "synthetic"


def stream_provenance(
    streams: Sequence[str],
    identities: dict[str, dict] | None,
    matches: dict[str, str | None] | None,
    synthetic: bool,
) -> dict[str, dict[str, Any]]:
    """Per stream, where its features come from: ``origin`` (``var-bench extraction`` when the
    store's ``extraction.json`` names it, ``synthetic`` for a synth store, else ``public
    release``), and for an extraction its ``model``, ``flow_method`` (tvl1 / raft), ``recipe``,
    ``weights_sha256`` (``random`` for random weights) and ``decoder``; for a release the known
    release its fingerprint matched (``release``, ``verified``) or ``verified: False``.

    Example:
        >>> ids = {"flow": {"model": "i3d-flow", "flow": {"method": "tvl1"},
        ...                 "recipe": {"name": "ucf-crime-release"}, "weights": {"sha256": "ab"}}}
        >>> p = stream_provenance(["rgb", "flow"], ids, {"rgb": None}, False)
        >>> p["rgb"]["origin"], p["flow"]["origin"], p["flow"]["flow_method"]
        ('public release', 'var-bench extraction', 'tvl1')
    """
    identities = identities or {}
    matches = matches or {}
    out: dict[str, dict[str, Any]] = {}
    for stream in streams:
        ident = identities.get(stream)
        if ident is not None:
            weights = ident.get("weights") or {}
            dec = ident.get("decoder") or {}
            out[stream] = {
                "origin": EXTRACTED,
                "model": ident.get("model"),
                "flow_method": (ident.get("flow") or {}).get("method"),
                "recipe": (ident.get("recipe") or {}).get("name"),
                "weights_sha256": "random"
                if ident.get("random_weights")
                else weights.get("sha256"),
                "decoder": " ".join(str(dec[k]) for k in ("name", "version") if dec.get(k)) or None,
            }
        elif synthetic:
            out[stream] = {"origin": SYNTHETIC}
        else:
            release = matches.get(stream)
            out[stream] = {"origin": RELEASE, "release": release, "verified": release is not None}
    return out


def feature_identity(spec: BenchmarkSpec, home: str | None) -> dict[str, Any]:
    """The feature store's identity from its manifest: folder, streams, sizes, crops, dtype,
    synthetic marker, build date, counts, the manifest's sha256 and each stream's provenance
    (:func:`stream_provenance`, from the store's ``extraction.json`` and fingerprint matches)."""
    from var_bench.data.paths import features_dir
    from var_bench.features.extraction import read_store_identities
    from var_bench.features.manifest import MANIFEST, FeatureManifest

    folder = features_dir(spec, home)
    m = FeatureManifest.read(folder)
    if m is None:
        raise InputError(
            f"{spec.name}: expected a feature store in {folder}, got none "
            f"(var-bench build {spec.name} --features DIR, or --features-store)"
        )
    digest = hashlib.sha256((folder / MANIFEST).read_bytes()).hexdigest()
    return {
        "folder": str(folder),
        "streams": list(m.streams),
        "dims": dict(m.dims),
        "crops_mode": m.crops_mode,
        "num_crops": m.num_crops,
        "dtype": m.dtype,
        "layout": dict(m.layout),
        "synthetic": m.synthetic,
        "built_at": m.built_at,
        "counts": dict(m.counts),
        "var_bench": m.var_bench,
        "manifest_sha256": digest,
        "provenance": stream_provenance(
            list(m.streams), read_store_identities(folder), dict(m.matches), bool(m.synthetic)
        ),
    }


def _set_key(raw: dict[str, Any], key: str, value: Any) -> None:
    node = raw
    parts = key.split(".")
    for part in parts[:-1]:
        node = node.setdefault(part, {})
    node[parts[-1]] = value


def _section_fields(section: str) -> set[str] | None:
    from var_bench.training.config import DataConfig, TrainConfig

    cls = {"train": TrainConfig, "data": DataConfig}.get(section)
    return None if cls is None else {f.name for f in dataclasses.fields(cls)}


def resolve_config(
    model: str, spec: BenchmarkSpec, config: str | Path, overrides: Sequence[str] = ()
) -> tuple[dict[str, Any], str, list[Deviation]]:
    """``(config dict, label, deviations)``: ``paper`` = the benchmark config with the paper
    values applied (values for trainer options this build lacks become deviations); ``tiny`` or
    a file as they are; ``overrides`` last. The dict is validated by the trainer's config."""
    from var_bench.training.config import apply_overrides, from_dict, load_config

    devs: list[Deviation] = []
    label = str(config)
    if label == "paper":
        raw = load_config(None, model=model, benchmark=spec.name).to_dict()
        for pv in paper_values(model, spec.query_modality):
            section, _, name = pv.key.partition(".")
            known = _section_fields(section)
            if known is not None and name not in known:
                devs.append(
                    Deviation(
                        f"trainer.unsupported[{pv.key}]",
                        (
                            f"{pv.key} = {pv.value!r} ({pv.status}: {pv.source}) "
                            f"is not an option of this build's trainer; its default is in force"
                        ),
                    )
                )
                continue
            _set_key(raw, pv.key, pv.value)
    else:
        raw = load_config(config, model=model, benchmark=spec.name).to_dict()
        label = "tiny" if label == "tiny" else str(Path(label))
    raw = apply_overrides(raw, overrides)
    from_dict(raw, model=model)  # refuse bad keys and values now, before any training
    return raw, label, devs


def _text_model_in_force(raw: dict[str, Any]) -> str:
    present, own = get_key(raw, "model_args.text_model")
    return str(own) if present and own else str(raw.get("text_model") or PAPER_TEXT_MODEL)


def _extracted_deviation(stream: str, p: dict[str, Any], spec: BenchmarkSpec) -> Deviation:
    made = ", ".join(
        f"{k.replace('_', ' ')} {p[k]}"
        for k in ("model", "flow_method", "recipe", "weights_sha256", "decoder")
        if p.get(k)
    )
    return Deviation(
        f"features.extracted[{stream}]",
        (
            f"{stream} made by var-bench extract ({made}), not the features the paper used "
            f"(the {spec.videos.name} release or the authors' own extraction): expect a gap"
        ),
    )


def find_deviations(
    model: str,
    spec: BenchmarkSpec,
    raw: dict[str, Any],
    features: dict[str, Any],
    ablated: Sequence[str] = (),
) -> list[Deviation]:
    """Deviations of a resolved config on a feature store from the paper (before training);
    ``ablated``: keys an ablation trial sets on purpose (not ``paper.changed``)."""
    devs = []
    synth = features.get("synthetic")
    if synth:
        seed = synth.get("seed") if isinstance(synth, dict) else None
        devs.append(
            Deviation(
                "features.synthetic",
                (
                    f"synthetic features (var_bench.synth, seed {seed}) in {features['folder']}: "
                    f"not the paper's I3D / VGGish features"
                ),
            )
        )
    present, streams = get_key(raw, "model_args.streams")
    wanted = list(streams) if present and streams else ["rgb", "flow"]
    if model == "alan" and "flow" in wanted and "flow" not in features.get("streams", []):
        devs.append(
            Deviation(
                "alan.no_flow",
                (
                    "no flow stream in the feature store: ALAN would run RGB alone with no Cross "
                    "Encoder (paper: RGB + Flow; make Flow with var-bench extract)"
                ),
            )
        )
    if not synth:
        from var_bench.features.streams import query_streams

        queries = query_streams()
        for stream, p in (features.get("provenance") or {}).items():
            used = model != "alan" or stream in wanted or stream in queries
            if used and p.get("origin") == EXTRACTED:
                devs.append(_extracted_deviation(stream, p, spec))
    if spec.query_modality == "text" and model != "random":
        from var_bench.models.text import is_fallback

        name = _text_model_in_force(raw)
        if name != PAPER_TEXT_MODEL:
            devs.append(Deviation("text.model", f"text model {name!r} (paper: {PAPER_TEXT_MODEL})"))
        elif is_fallback(name):
            devs.append(
                Deviation(
                    "text.fallback",
                    (
                        f"{PAPER_TEXT_MODEL} is not in the local Hugging Face cache and the hub is "
                        f"unreachable: the offline MiniLM would be loaded instead"
                    ),
                )
            )
    for pv, got in changed_stated_values(raw, paper_values(model, spec.query_modality)):
        if pv.key == "text_model" or pv.key in ablated:
            continue  # reported as text.model above; an ablation's own setting
        devs.append(
            Deviation(
                f"paper.changed[{pv.key}]", f"{pv.key} = {got!r} (paper: {pv.value!r}; {pv.source})"
            )
        )
    return devs


def plan_reproduction(
    model: str,
    benchmark: str | BenchmarkSpec,
    *,
    config: str | Path = "paper",
    overrides: Sequence[str] = (),
    strict: bool | None = None,
    home: str | Path | None = None,
    features_store: str | Path | None = None,
    ablation: Sequence[str] = (),
) -> ReproducePlan:
    """Resolve the config, read the feature store and list the deviations; with ``strict``
    (default: True for ``config="paper"``) raise :class:`StrictRefusal` if any is refused.
    ``ablation``: ``KEY=VALUE`` settings of a paper ablation row, applied after ``overrides``
    and recorded as the row's settings, not as deviations."""
    from var_bench.models.registry import get_model

    spec = get_benchmark(benchmark)
    model = str(model).strip().lower().replace("_", "-")
    get_model(model)
    if str(config) not in CONFIG_NAMES and not Path(config).is_file():
        raise InputError(f"--config: expected paper, tiny or a YAML file, got {str(config)!r}")
    home_s = resolve_home(features_store, home, spec)
    raw, label, devs = resolve_config(model, spec, config, [*overrides, *ablation])
    features = feature_identity(spec, home_s)
    ablated = {}
    for item in ablation:
        key = item.partition("=")[0]
        ablated[key] = get_key(raw, key)[1]
    devs = find_deviations(model, spec, raw, features, tuple(ablated)) + devs
    strict = (label == "paper") if strict is None else bool(strict)
    plan = ReproducePlan(
        model,
        spec.name,
        label,
        raw,
        paper_values(model, spec.query_modality),
        features,
        devs,
        strict,
        home_s,
        ablated,
    )
    refused = plan.refusals()
    if strict and refused:
        raise StrictRefusal([str(d) for d in refused])
    return plan


# ---------------------------------------------------------------- one seed


@dataclass
class SeedRun:
    """One trained and evaluated seed. ``record``: the test record's path relative to the
    reproduction folder; ``score``: its test main score (the task's, SumR for retrieval);
    ``val_curve``: ``[epoch, val main score]`` pairs from the run log; ``peak_gpu_memory_bytes``:
    None on CPU."""

    seed: int
    record: str
    checkpoint: str
    score: float
    metrics: dict[str, dict[str, float]]
    wall_seconds: float
    peak_gpu_memory_bytes: int | None
    val_curve: list[list[float]] = field(default_factory=list)
    epochs_run: int = 0
    deviations: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> SeedRun:
        """A seed's ``done`` file (``SumR`` in files written before task types)."""
        raw = dict(raw)
        if "SumR" in raw:
            raw.setdefault("score", raw.pop("SumR"))
        return cls(**raw)


def val_curve(history: Sequence[dict[str, Any]]) -> list[list[float]]:
    """``[epoch, val main score]`` of every validated epoch of a run's history (log.jsonl
    entries; the main score is named by the entry, SumR before task types)."""
    out = []
    for e in history:
        key = f"val_{e.get('main_score', 'SumR')}"
        if e.get("kind", "epoch") == "epoch" and key in e:
            out.append([int(e["epoch"]), float(e[key])])
    return out


def read_log_history(run_dir: Path) -> list[dict[str, Any]]:
    """The epoch entries of ``run_dir/log.jsonl`` (last entry per epoch wins, as after a resume)."""
    path = run_dir / "log.jsonl"
    if not path.is_file():
        return []
    by_epoch: dict[int, dict[str, Any]] = {}
    for line in path.read_text("utf-8").splitlines():
        if line.strip():
            entry = json.loads(line)
            if entry.get("kind") == "epoch":
                by_epoch[int(entry["epoch"])] = entry
    return [by_epoch[k] for k in sorted(by_epoch)]


def run_seed(
    model: str,
    benchmark: str,
    config_file: str | Path,
    seed: int,
    folder: str | Path,
    *,
    home: str | None = None,
    device=None,
    deviations: Sequence[str] = (),
    progress: bool | None = False,
) -> SeedRun:
    """Train ``model`` with ``config_file`` and ``train.seed = seed`` into ``folder/run``, evaluate
    the configured checkpoint (``train.checkpoint``: ``last``, else the best-on-val one) on test,
    and save ``folder/test.json`` with ``deviations`` plus the model's own in its disclosure.
    A ``folder/seed.json`` from an earlier run is returned as it is (resume)."""
    import torch

    from var_bench.training.config import load_config
    from var_bench.training.evaluate import evaluate
    from var_bench.training.runtime import resolve_device
    from var_bench.training.trainer import train

    folder = Path(folder)
    done = folder / "seed.json"
    if done.is_file():
        return SeedRun.from_json(json.loads(done.read_text("utf-8")))
    folder.mkdir(parents=True, exist_ok=True)
    dev = resolve_device(device)
    cuda = dev.type == "cuda"
    if cuda:
        torch.cuda.reset_peak_memory_stats(dev)
    t0 = time.perf_counter()
    overrides = [f"train.seed={int(seed)}"]
    cfg = load_config(config_file, model=model, overrides=overrides)
    result = train(
        model,
        benchmark,
        config=config_file,
        out=folder / "run",
        home=home,
        device=dev,
        overrides=overrides,
        progress=progress,
    )
    choice = getattr(cfg.train, "checkpoint", "best-val")
    ckpt_dir = folder / "run" / "last"
    if choice != "last" and result.best_checkpoint is not None:
        ckpt_dir = Path(result.best_checkpoint)
    record = evaluate(
        ckpt_dir, benchmark, split="test", out=folder / "test.npz", home=home, device=dev
    )
    model_devs = [
        d
        for d in (record.disclosure.get(DEVIATIONS_KEY) or "none").split("; ")
        if d and d != "none"
    ]
    merged = list(dict.fromkeys([*deviations, *model_devs]))
    record.disclosure[DEVIATIONS_KEY] = disclosure_text(merged)
    record.name = f"{model} seed {seed}"
    record.save(folder / "test.json")
    wall = time.perf_counter() - t0
    history = result.history or read_log_history(folder / "run")
    run = SeedRun(
        seed=int(seed),
        record=str(folder / "test.json"),
        checkpoint=str(ckpt_dir),
        score=float(record.main_value),
        metrics={d: dict(v) for d, v in record.metrics.items()},
        wall_seconds=wall,
        peak_gpu_memory_bytes=int(torch.cuda.max_memory_allocated(dev)) if cuda else None,
        val_curve=val_curve(history),
        epochs_run=int(result.epochs_run),
        deviations=merged,
    )
    atomic_write_text(done, json.dumps(run.to_json(), indent=1) + "\n")
    return run


# ---------------------------------------------------------------- the whole reproduction


def reproduce(
    model: str,
    benchmark: str | BenchmarkSpec,
    *,
    seeds: int | Sequence[int] = 3,
    config: str | Path = "paper",
    overrides: Sequence[str] = (),
    strict: bool | None = None,
    out: str | Path | None = None,
    home: str | Path | None = None,
    features_store: str | Path | None = None,
    device=None,
    progress: bool | None = None,
):
    """Plan (see :func:`plan_reproduction`), run every seed (:func:`run_seed`), then write
    ``report.md``, ``report.html`` and ``summary.json`` into ``out``; returns the
    :class:`~var_bench.reproduce.report.Summary`."""
    from tqdm.auto import tqdm

    from var_bench.reproduce.report import summarise, write_reports

    plan = plan_reproduction(
        model,
        benchmark,
        config=config,
        overrides=overrides,
        strict=strict,
        home=home,
        features_store=features_store,
    )
    seed_list = list(range(int(seeds))) if isinstance(seeds, int) else [int(s) for s in seeds]
    if not seed_list:
        raise InputError("--seeds: expected at least one seed, got 0")
    out = Path(out) if out is not None else Path("reproductions") / f"{plan.model}-{plan.benchmark}"
    out.mkdir(parents=True, exist_ok=True)
    config_file = write_plan(plan, out)
    dev_lines = [str(d) for d in plan.deviations]
    t0 = time.perf_counter()
    runs = []
    for seed in tqdm(seed_list, desc=f"reproduce {plan.model}", disable=_disabled(progress)):
        runs.append(
            run_seed(
                plan.model,
                plan.benchmark,
                config_file,
                seed,
                out / "seeds" / f"seed-{seed}",
                home=plan.home,
                device=device,
                deviations=dev_lines,
                progress=False,
            )
        )
    summary = summarise(
        plan, runs, wall_seconds=time.perf_counter() - t0, device=str(device or "auto")
    )
    write_reports(summary, out)
    return summary


def _disabled(progress: bool | None) -> bool | None:
    """tqdm's ``disable`` for ``progress``: None = only on a terminal."""
    return None if progress is None else not progress


def write_plan(plan: ReproducePlan, out: Path) -> Path:
    """Write ``out/config.yaml`` (the resolved config) and ``out/plan.json``; returns the config."""
    import yaml

    config_file = out / "config.yaml"
    atomic_write_text(config_file, yaml.safe_dump(plan.config, sort_keys=False))
    atomic_write_text(out / "plan.json", json.dumps(plan.to_json(), indent=1, default=str) + "\n")
    return config_file
