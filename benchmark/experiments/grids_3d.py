"""The 3D grids: Table 2 (PaiNN on QM9 U0 and ZPVE), Table 3 (SchNet on HIV-3D) and the QM9 pretraining
check, at the ci / smoke / paper presets.

Sizes (docs/3d.md): ``ci`` runs in seconds (QM9: 192/32/32 molecules of the fixed split, PaiNN 16x1;
HIV-3D: 400 molecules with ETKDG conformers, SchNet 16/16/2; at 200 the test split held no active, so every
run's ROC-AUC was undefined; at 400 valid and test hold 2 each). ``smoke`` runs every cell once on 2 CPU
cores (QM9: the first 2,000 training and 500 validation / test molecules of the fixed split, PaiNN 64x3,
10 epochs; HIV-3D: the 24,000-molecule subset of the 2D smoke preset with cached ETKDG+MMFF conformers,
SchNet 64/64/3 with 25 Gaussians, 5 epochs). Measured throughput put each smoke table at about 40 min on
an idle 2-core machine (the first plan had 5,000 / 1,000 QM9 molecules and all of HIV at an assumed
PaiNN speed about 2-4x above the measured one).
``paper``: PaiNN 128x3, 1000 epochs, batch 128, Adam 5e-4 with the epoch cosine; SchNet 300/128/6,
100 epochs, batch 256, Adam 1e-3; 5 seeds (a GPU cluster).
"""

from __future__ import annotations

from collections.abc import Iterable

from molpeg_bench.benchmark.config import RunConfig
from molpeg_bench.benchmark.experiments.presets import Preset
from molpeg_bench.benchmark.experiments.protocols import GEOSSL_FIELDS
from molpeg_bench.methods import available_methods

TABLE2_DATASETS = ("qm9_u0", "qm9_zpve")
TABLE2_METHODS = ("random", "dp", "infobatch", "molpeg")
TABLE2_RATIOS = (0.9, 0.8, 0.7, 0.6, 0.4, 0.2)
TABLE3_METHODS = ("soft_random", "molpeg")
TABLE3_RATIOS = (0.6, 0.4, 0.2)
PRETRAINING_SEEDS = (0, 1, 2)

_PAINN = dict(model="painn", weight_decay=0.0, dropout=0.0, **GEOSSL_FIELDS)
_SCHNET = dict(model="schnet", lr=1e-3, weight_decay=0.0, dropout=0.0, dataset="hiv3d")
TABLE2_RUN: dict[str, dict] = {
    "ci": dict(_PAINN, num_layers=1, emb_dim=16, model_options={"num_rbf": 8}, batch_size=32, epochs=2,
               eval_batch_size=256, data_options={"train_pool": 192, "eval_pool": 32}),
    "smoke": dict(_PAINN, num_layers=3, emb_dim=64, batch_size=128, epochs=10, eval_batch_size=512,
                  data_options={"train_pool": 2000, "eval_pool": 500}),
    "paper": dict(_PAINN, num_layers=3, emb_dim=128, batch_size=128, epochs=1000, device="auto"),
}
TABLE3_RUN: dict[str, dict] = {
    "ci": dict(_SCHNET, num_layers=2, emb_dim=16, model_options={"num_filters": 16, "num_gaussians": 10},
               data_options={"conformer_mode": "etkdg"}, subsample=400, batch_size=64, epochs=2),
    "smoke": dict(_SCHNET, num_layers=3, emb_dim=64, model_options={"num_filters": 64, "num_gaussians": 25},
                  subsample=24000, batch_size=256, epochs=5, eval_batch_size=1024),
    "paper": dict(_SCHNET, num_layers=6, emb_dim=300, model_options={"num_filters": 128, "num_gaussians": 51},
                  batch_size=256, epochs=100, device="auto"),
}
CI_RATIOS = {"table2": (0.8, 0.4), "table3": (0.6, 0.2)}


def _sizing(table: dict[str, dict], preset: Preset, grid: str) -> dict:
    if preset.name not in table:
        raise ValueError(f"grid {grid!r} has no sizing for preset {preset.name!r}; expected one of {sorted(table)}")
    return dict(table[preset.name])


def _ratios(preset: Preset, grid: str, ratios: tuple[float, ...]) -> tuple[float, ...]:
    return CI_RATIOS[grid] if preset.name == "ci" else ratios


def table2(preset: Preset, checkpoint: str | None = None, methods: Iterable[str] = TABLE2_METHODS) -> list[RunConfig]:
    """Random, DP, InfoBatch and MolPeg at six ratios on U0 and ZPVE, plus the whole-data run (p = 0)."""
    run = _sizing(TABLE2_RUN, preset, "table2")
    chosen = [m for m in methods if m in available_methods()]
    configs = []
    for dataset in TABLE2_DATASETS:
        for seed in preset.seeds:
            base = RunConfig(dataset=dataset, seed=seed, checkpoint=checkpoint, preset=preset.name, **run)
            configs.append(base)
            configs += [base.replace(method=m, prune_ratio=r) for m in chosen
                        for r in _ratios(preset, "table2", TABLE2_RATIOS)]
    return configs


def table3(preset: Preset, checkpoint: str | None = None) -> list[RunConfig]:
    """Soft Random and MolPeg at pruning 60 / 40 / 20 % on HIV-3D, plus the whole dataset."""
    run = _sizing(TABLE3_RUN, preset, "table3")
    configs = []
    for seed in preset.seeds:
        base = RunConfig(seed=seed, checkpoint=checkpoint, preset=preset.name, **run)
        configs.append(base)
        configs += [base.replace(method=m, prune_ratio=r) for m in TABLE3_METHODS
                    for r in _ratios(preset, "table3", TABLE3_RATIOS)]
    return configs


def qm9_pretraining(preset: Preset, checkpoints: list[str]) -> list[RunConfig]:
    """Whole-data QM9 U0 from each GeoSSL checkpoint and from scratch, at least 3 seeds."""
    run = _sizing(TABLE2_RUN, preset, "qm9_pretraining")
    return [RunConfig(dataset="qm9_u0", seed=seed, checkpoint=ckpt, preset=preset.name, **run)
            for ckpt in [None, *checkpoints] for seed in sorted(set(PRETRAINING_SEEDS) | set(preset.seeds))]
