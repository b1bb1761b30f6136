"""Pretraining runs: presets, the run on the seeded, resumable epoch loop (``pretrain.loop``), the final
checkpoint, throughput.

Reproducibility: the model is initialised from ``seed``; each epoch's molecule order and its
masking / augmentation draws come from a CPU generator seeded by (seed, epoch); dropout uses the
global torch RNG, whose state is saved after every epoch. So on the CPU the same command gives the
same weights, and a run stopped after any epoch and rerun ends bitwise where an uninterrupted one does.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
from torch import nn

from molpeg_bench.benchmark.data.featurize import FEATURIZER_VERSION
from molpeg_bench.benchmark.data.graph_store import GraphStore
from molpeg_bench.benchmark.models.device import resolve_device
from molpeg_bench.benchmark.models.gin import GINConfig
from molpeg_bench.pretrain.checkpoint import save_pretrained
from molpeg_bench.pretrain.corpus import load_corpus
from molpeg_bench.pretrain.graphcl import GraphCL
from molpeg_bench.pretrain.graphmae import GraphMAE
from molpeg_bench.pretrain.loop import (
    ResumableRun,
    RunSettings,
    cpu_threads,
    epoch_batches,
    epoch_generator,
    train_step,
)

log = logging.getLogger(__name__)

METHODS = ("graphmae", "graphcl")


@dataclass(frozen=True)
class PretrainConfig(RunSettings):
    """One GraphMAE or GraphCL run (the settings every pretraining run has: ``RunSettings``)."""

    method: str
    corpus: str = "nci"
    batch_size: int = 256
    lr: float = 1e-3
    gin: GINConfig = GINConfig(dropout=0.0)
    seed: int = 0
    mask_rate: float = 0.25  # GraphMAE
    gamma: float = 1.0  # GraphMAE (alpha_l)
    aug1: str = "random"  # GraphCL
    aug2: str = "random"
    aug_ratio: float = 0.2
    temperature: float = 0.1
    subgraph_mode: str = "grow"  # GraphCL: "grow" (as described) or "official" (as the reference code ran)

    def method_hyperparameters(self) -> dict:
        keys = ("mask_rate", "gamma") if self.method == "graphmae" else (
            "aug1", "aug2", "aug_ratio", "temperature", "subgraph_mode")
        return {k: getattr(self, k) for k in ("batch_size", "lr", "weight_decay", *keys)}


# smoke: offline, the small GIN of the fine-tuning smoke preset, one CPU thread (for graphs this
# small a second thread gains little on an idle 2-core machine and slows every op many times on a
# busy one). paper: the methods' published molecular settings (GraphMAE chem/pretraining.py:
# 100 epochs, batch 256, lr 1e-3, dropout 0, mask 0.25, alpha_l 1; GraphCL chem/pretrain_graphcl.py:
# batch 256, lr 1e-3, dropout 0, views random/random, ratio 0.2, T 0.1, and its finetune.sh loads
# the epoch-80 checkpoint).
SMOKE_GIN = GINConfig(num_layers=3, emb_dim=64, dropout=0.2)
PAPER_GIN = GINConfig(num_layers=5, emb_dim=300, dropout=0.0)
PRESETS: dict[str, dict[str, dict]] = {
    "smoke": {m: dict(corpus="nci", epochs=10, batch_size=128, gin=SMOKE_GIN, device="cpu",
                      num_threads=1) for m in METHODS},
    # the release preset's encoder: GraphMAE on 100,000 MOSES molecules, the smoke GIN, one thread
    "release": {m: dict(corpus="moses", max_molecules=100_000, epochs=20, batch_size=256, gin=SMOKE_GIN, device="cpu",
                        num_threads=1) for m in METHODS},
    "paper": {"graphmae": dict(corpus="pcqm4mv2", epochs=100, batch_size=256, gin=PAPER_GIN, device="auto"),
              "graphcl": dict(corpus="pcqm4mv2", epochs=80, batch_size=256, gin=PAPER_GIN, device="auto")},
}


def preset_config(preset: str, method: str, **overrides: object) -> PretrainConfig:
    """The preset's settings for ``method``; ``overrides`` (None values ignored) replace fields,
    with ``num_layers``, ``emb_dim`` and ``dropout`` going into the GIN config."""
    if preset not in PRESETS:
        raise ValueError(f"unknown preset {preset!r}; expected one of {sorted(PRESETS)}")
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; expected one of {METHODS}")
    fields = dict(PRESETS[preset][method], method=method, preset=preset)
    overrides = {k: v for k, v in overrides.items() if v is not None}
    gin_fields = {k: overrides.pop(k) for k in ("num_layers", "emb_dim", "dropout") if k in overrides}
    fields["gin"] = dataclasses.replace(fields["gin"], **gin_fields)
    return PretrainConfig(**{**fields, **overrides})


def build_model(cfg: PretrainConfig) -> nn.Module:
    """The method's model; ``.encoder`` is the GIN that gets saved, ``.loss(batch, generator)``."""
    if cfg.method == "graphmae":
        return GraphMAE(cfg.gin, cfg.mask_rate, cfg.gamma)
    if cfg.method == "graphcl":
        return GraphCL(cfg.gin, cfg.aug1, cfg.aug2, cfg.aug_ratio, cfg.temperature, cfg.subgraph_mode)
    raise ValueError(f"unknown method {cfg.method!r}; expected one of {METHODS}")


def pretrain(cfg: PretrainConfig, out_dir: str | Path, name: str | None = None,
             store: GraphStore | None = None, data_dir: str | Path | None = None,
             cache_dir: str | Path | None = None, download: bool = True, restart: bool = False,
             on_epoch_end: Callable[[int, float], None] | None = None) -> Path:
    """Train ``cfg`` and write ``<out_dir>/<name>.pt`` + ``.json`` (name defaults to the method).
    Resumes from ``<name>.resume.pt`` in ``out_dir`` when present (``restart`` ignores it).
    ``store`` replaces the corpus named by ``cfg``; ``on_epoch_end(epoch, loss)`` runs after each
    epoch's state is saved."""
    name, out_dir = name or cfg.method, Path(out_dir)
    if store is None:
        store = load_corpus(cfg.corpus, cfg.max_molecules, cfg.seed, data_dir, cache_dir, download)
    device = resolve_device(cfg.device)
    with cpu_threads(cfg.num_threads):
        run = ResumableRun.build(name, cfg, build_model, store, out_dir, device)
        progress = run.resume_or_start(restart, asdict(PretrainConfig(cfg.method)))
        log.info("%s: %s on %s (%d molecules), %d epochs, batch %d, %s, device %s", name, cfg.method,
                 store.meta.get("corpus", cfg.corpus), len(store), cfg.epochs, cfg.batch_size, cfg.gin, device)
        progress = run.epochs(progress, on_epoch_end)
    path = save_pretrained(run.model.encoder, out_dir / f"{name}.pt", _metadata(cfg, name, store, progress, device))
    log.info("%s: wrote %s", name, path)
    return path


def corpus_metadata(meta: dict, default_name: str) -> dict:
    """What a checkpoint records of its corpus, from the corpus store's metadata."""
    return {"name": meta.get("corpus", default_name), "path": meta.get("source_file"),
            "sha256": meta.get("source_sha256"), "rows_in_file": meta.get("rows_in_file"),
            "max_molecules": meta.get("max_molecules"), "subsample_seed": meta.get("subsample_seed"),
            "n_skipped_unparsable": meta.get("n_skipped_unparsable")}


def _metadata(cfg: PretrainConfig, name: str, store: GraphStore, progress: dict,
              device: torch.device) -> dict:
    corpus = corpus_metadata(store.meta, cfg.corpus)
    return {"name": name, "method": cfg.method, "preset": cfg.preset, "corpus": corpus,
            "n_molecules": len(store), "epochs": progress["epoch"], "steps": progress["steps"],
            "final_loss": progress["losses"][-1] if progress["losses"] else None,
            "epoch_losses": progress["losses"], "train_seconds": round(sum(progress["seconds"]), 2),
            "featurizer": FEATURIZER_VERSION, "architecture": asdict(cfg.gin),
            "hyperparameters": cfg.method_hyperparameters(), "seed": cfg.seed, "device": str(device)}


def pretrain_both(preset: str = "smoke", out_dir: str | Path = "checkpoints/smoke",
                  **overrides: object) -> dict[str, Path]:
    """GraphMAE and GraphCL checkpoints of one preset in ``out_dir`` (``graphmae.pt``, ``graphcl.pt``).
    ``overrides``: config fields (see ``preset_config``) and ``data_dir``, ``cache_dir``, ``download``,
    ``restart`` (see ``pretrain``)."""
    run_keys = ("data_dir", "cache_dir", "download", "restart")
    run_args = {k: overrides.pop(k) for k in run_keys if k in overrides}
    return {m: pretrain(preset_config(preset, m, **overrides), out_dir, **run_args) for m in METHODS}


def measure_throughput(method: str, preset: str = "smoke", steps: int = 5, store: GraphStore | None = None,
                       device: str = "cpu", **overrides: object) -> float:
    """Training throughput (molecules/s: forward, backward and Adam step, masking / augmentation
    included) of ``method`` with the preset's model and batch size, over ``steps`` batches after one
    warm-up batch, on ``store`` (default: the bundled NCI molecules)."""
    cfg = preset_config(preset, method, device=device, **overrides)
    store = store if store is not None else load_corpus("nci")
    with cpu_threads(cfg.num_threads):
        return _throughput(cfg, store, steps)


def _throughput(cfg: PretrainConfig, store: GraphStore, steps: int) -> float:
    torch.manual_seed(cfg.seed)
    model = build_model(cfg).to(resolve_device(cfg.device)).train()
    optimizer = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    generator = epoch_generator(cfg.seed, 0)
    batches = epoch_batches(len(store), cfg.batch_size, generator)[: steps + 1]
    train_step(model, optimizer, store, batches[0], generator)
    start = time.perf_counter()
    for indices in batches[1:]:
        train_step(model, optimizer, store, indices, generator)
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    return sum(len(b) for b in batches[1:]) / (time.perf_counter() - start)
