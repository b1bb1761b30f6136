"""GeoSSL-DDM pretraining runs for the 3D encoders (PaiNN for QM9, SchNet for HIV-3D).

The same seeded, resumable epoch loop as GraphMAE / GraphCL (``pretrain.loop``), checkpoint files,
metadata layout and bitwise resume, plus the GeoSSL protocol: Adam 5e-4, the learning rate of
``CosineAnnealingLR(T_max=epochs)`` set per epoch (its closed form, so a resumed run needs no scheduler
state), and two checkpoints: ``<name>.pt`` at the epoch with the lowest training loss (GeoSSL's
``model.pth``, the one fine-tuning loads) and ``<name>.final.pt`` after the last epoch.
"""

from __future__ import annotations

import copy
import dataclasses
import logging
import math
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch
from torch import nn

from molpeg_bench.benchmark.data.conformers import ConformerOptions
from molpeg_bench.benchmark.data.graph_store import GraphStore
from molpeg_bench.benchmark.models.device import resolve_device
from molpeg_bench.benchmark.models.painn import PaiNNConfig, PaiNNEncoder
from molpeg_bench.benchmark.models.schnet import SchNetConfig, SchNetEncoder
from molpeg_bench.pretrain.checkpoint import save_pretrained
from molpeg_bench.pretrain.corpus3d import load_corpus_3d
from molpeg_bench.pretrain.geossl import GeoSSLDDM
from molpeg_bench.pretrain.loop import ResumableRun, RunSettings, cpu_threads
from molpeg_bench.pretrain.subgraph_mask import check_mask_ratio
from molpeg_bench.pretrain.train import corpus_metadata

log = logging.getLogger(__name__)

METHOD = "geossl_ddm"
ENCODERS = ("painn", "schnet")


@dataclass(frozen=True)
class GeoSSLConfig(RunSettings):
    """One GeoSSL-DDM run; ``hydrogens`` None means the encoder's policy (PaiNN with H, SchNet without)."""

    encoder: str = "painn"
    painn: PaiNNConfig = PaiNNConfig()
    schnet: SchNetConfig = SchNetConfig()
    corpus: str = "auto"  # PCQM4Mv2 SDF when in the data directory, else MOSES with RDKit conformers
    conformer_mode: str = "etkdg_mmff"
    hydrogens: bool | None = None
    batch_size: int = 128
    lr: float = 5e-4
    num_levels: int = 50
    gamma: float = 2.0
    view_sigma: float = 0.3
    mask_ratio: float = 0.0  # GeoSSL's config.py defaults to 0.3; its grid tried 0 and 0.3
    seed: int = 42
    method: str = field(default=METHOD, init=False)

    def __post_init__(self) -> None:
        if self.encoder not in ENCODERS:
            raise ValueError(f"GeoSSL encoder must be one of {ENCODERS}, got {self.encoder!r}")
        check_mask_ratio(self.mask_ratio, "GeoSSL mask_ratio")

    @property
    def keeps_hydrogens(self) -> bool:
        return self.encoder == "painn" if self.hydrogens is None else self.hydrogens

    @property
    def architecture(self) -> PaiNNConfig | SchNetConfig:
        return self.painn if self.encoder == "painn" else self.schnet

    def method_hyperparameters(self) -> dict:
        keys = ("batch_size", "lr", "weight_decay", "num_levels", "gamma", "view_sigma", "mask_ratio")
        return {**{k: getattr(self, k) for k in keys}, "sigma_range": [10.0, 0.01], "pairs": "all i<j",
                "distance_sample_ratio": 1.0, "schedule": "cosine per epoch",
                "noisy_view_graph": "recomputed"}


SMOKE = {"painn": PaiNNConfig(hidden=64, num_layers=3), "schnet": SchNetConfig(64, 64, 3, 25, 10.0)}
CI = {"painn": PaiNNConfig(hidden=16, num_layers=1, num_rbf=8), "schnet": SchNetConfig(16, 16, 2, 10, 10.0)}
PRESETS: dict[str, dict] = {
    "ci": dict(max_molecules=64, conformer_mode="etkdg", num_levels=10, epochs=1, batch_size=32, num_threads=1),
    # smoke: 2,000 molecules, not 5,000: PaiNN on MOSES with H has ~5x the edges of a QM9 molecule
    "smoke": dict(max_molecules=2000, epochs=3, num_threads=1),
    "paper": dict(max_molecules=1_000_000, epochs=100, device="auto"),
}


def geossl_preset(preset: str, encoder: str, **overrides: object) -> GeoSSLConfig:
    """The preset's GeoSSL-DDM settings for ``encoder``; ``overrides`` (None values ignored) replace fields."""
    if preset not in PRESETS:
        raise ValueError(f"unknown preset {preset!r}; expected one of {sorted(PRESETS)}")
    fields = dict(PRESETS[preset], encoder=encoder, preset=preset)
    if preset in ("ci", "smoke"):
        table = CI if preset == "ci" else SMOKE
        fields.update(painn=table["painn"], schnet=table["schnet"])
    overrides = {k: v for k, v in overrides.items() if v is not None}
    atom_index = overrides.pop("atom_index", None)
    if atom_index is not None:  # an encoder field: both architectures take it
        for name in ENCODERS:
            fields[name] = dataclasses.replace(fields.get(name, getattr(GeoSSLConfig, name)), atom_index=atom_index)
    return GeoSSLConfig(**{**fields, **overrides})


def build_encoder(cfg: GeoSSLConfig) -> nn.Module:
    return PaiNNEncoder(cfg.painn) if cfg.encoder == "painn" else SchNetEncoder(cfg.schnet)


def build_model(cfg: GeoSSLConfig) -> GeoSSLDDM:
    return GeoSSLDDM(build_encoder(cfg), cfg.architecture.hidden, cfg.num_levels, cfg.gamma, cfg.view_sigma,
                     cfg.mask_ratio)


def cosine_lr(base: float, epoch: int, epochs: int) -> float:
    """``CosineAnnealingLR(T_max=epochs, eta_min=0)`` at ``epoch`` (0-based), closed form."""
    return base * 0.5 * (1.0 + math.cos(math.pi * epoch / epochs))


def pretrain_geossl(cfg: GeoSSLConfig, out_dir: str | Path, name: str | None = None,
                    store: GraphStore | None = None,
                    data_dir: str | Path | None = None, cache_dir: str | Path | None = None,
                    processes: int = 1, restart: bool = False,
                    on_epoch_end: Callable[[int, float], None] | None = None) -> Path:
    """Train ``cfg``; write ``<name>.pt`` (best epoch), ``<name>.final.pt`` and their ``.json``;
    resume from ``<name>.resume.pt`` unless ``restart``. ``processes`` generate the corpus conformers."""
    name, out_dir = name or f"{METHOD}_{cfg.encoder}", Path(out_dir)
    if store is None:
        store = load_corpus_3d(cfg.corpus, cfg.max_molecules, cfg.seed, cfg.keeps_hydrogens,
                               ConformerOptions(mode=cfg.conformer_mode), processes, data_dir, cache_dir)
    if cfg.corpus == "auto":  # the corpus actually used names the run (and must match on resume)
        cfg = dataclasses.replace(cfg, corpus=store.meta.get("corpus", "moses"))
    device = resolve_device(cfg.device)
    with cpu_threads(cfg.num_threads):
        run = ResumableRun.build(name, cfg, build_model, store, out_dir, device)
        progress = run.resume_or_start(restart, asdict(GeoSSLConfig()), best_epoch=0, best_state=None)

        def cosine(epoch: int) -> None:
            for group in run.optimizer.param_groups:
                group["lr"] = cosine_lr(cfg.lr, epoch, cfg.epochs)

        def best_so_far(before: dict, epoch: int, loss: float) -> dict:
            if not before["losses"] or loss < min(before["losses"]):
                return {"best_epoch": epoch + 1, "best_state": copy.deepcopy(run.model.encoder.state_dict())}
            return {"best_epoch": before["best_epoch"], "best_state": before["best_state"]}

        progress = run.epochs(progress, on_epoch_end, before_epoch=cosine, after_epoch=best_so_far)
    meta = _metadata(cfg, name, store, progress, device)
    save_pretrained(run.model.encoder, out_dir / f"{name}.final.pt", dict(meta, checkpoint="final"))
    best_encoder = build_encoder(cfg)
    best_encoder.load_state_dict(progress["best_state"])
    path = save_pretrained(best_encoder, out_dir / f"{name}.pt", dict(meta, checkpoint="best training loss"))
    log.info("%s: wrote %s (best epoch %d)", name, path, progress["best_epoch"])
    return path


def _label(corpus: str, mode: str) -> str:
    if corpus == "pcqm4mv2":
        return "GeoSSL-DDM on PCQM4Mv2 (DFT geometries)"
    return f"GeoSSL-DDM on {corpus.upper()}-{mode} (PCQM4Mv2 substitute)"


def _metadata(cfg: GeoSSLConfig, name: str, store: GraphStore, progress: dict, device: torch.device) -> dict:
    meta = store.meta
    corpus = {**corpus_metadata(meta, cfg.corpus),
              "label": _label(meta.get("corpus", cfg.corpus), cfg.conformer_mode),
              "conformer_mode": meta.get("conformer_mode", cfg.conformer_mode),
              "conformer_tiers": meta.get("conformer_tiers"),
              "n_dropped_2d": meta.get("n_dropped_2d"), "hydrogens": cfg.keeps_hydrogens}
    return {"name": name, "method": METHOD, "preset": cfg.preset, "corpus": corpus, "n_molecules": len(store),
            "epochs": progress["epoch"], "steps": progress["steps"],
            "final_loss": progress["losses"][-1] if progress["losses"] else None,
            "epoch_losses": progress["losses"], "best_epoch": progress["best_epoch"],
            "train_seconds": round(sum(progress["seconds"]), 2), "featurizer": meta.get("featurizer"),
            "encoder": cfg.encoder, "architecture": asdict(cfg.architecture), "atom_index": cfg.architecture.atom_index,
            "hyperparameters": cfg.method_hyperparameters(), "seed": cfg.seed, "device": str(device)}

