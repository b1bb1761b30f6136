"""``make bench``, 3D part: the speeds that set the cost of Tables 2 and 3, printed in one run.

- conformer generation rate (molecules/s, one process) on an evenly spaced HIV sample, per mode;
- training and evaluation throughput (molecules/s) of PaiNN on QM9 (batch 128) and SchNet on HIV-3D
  (batch 256), at the paper and the smoke sizes;
- GeoSSL-DDM pretraining throughput of the smoke PaiNN on QM9 molecules (with H);
- for calibration on a shared machine, the same process's speed on two references whose idle-machine
  values ``make bench`` reports: 2D featurization of the conformer sample and GIN 5x300 training.
"""

from __future__ import annotations

import argparse
import logging
import time

import numpy as np
import torch
from torch import nn

from molpeg_bench.benchmark.data import featurize_smiles, load_dataset
from molpeg_bench.benchmark.data.conformers import ConformerOptions
from molpeg_bench.benchmark.data.graph_store import GraphStore
from molpeg_bench.benchmark.data.hiv3d import add_conformers
from molpeg_bench.benchmark.data.qm9 import load_qm9, qm9_split, select_target
from molpeg_bench.benchmark.models import GINConfig, GraphPredictor
from molpeg_bench.benchmark.models.painn import PaiNNConfig, PaiNNPredictor
from molpeg_bench.benchmark.models.schnet import SchNetConfig, SchNetPredictor
from molpeg_bench.benchmark.tasks import BinaryTask, RegressionTask, Task
from molpeg_bench.benchmark.training import predict, train_epoch
from molpeg_bench.methods.base import shuffled_plan
from molpeg_bench.pretrain.geossl import GeoSSLDDM
from molpeg_bench.pretrain.loop import epoch_generator

CPU = torch.device("cpu")


def bench_conformers(store: GraphStore, mode: str) -> tuple[float, GraphStore]:
    """(molecules/s, the store with conformers) for one conformer mode in one process."""
    t0 = time.perf_counter()
    out = add_conformers(store, ConformerOptions(mode=mode))
    return len(store) / (time.perf_counter() - t0), out


def bench_model(model: nn.Module, task: Task, store: GraphStore, idx: np.ndarray, batch_size: int,
                steps: int) -> tuple[float, float]:
    """(training, evaluation) molecules/s: ``steps`` batches of forward + backward + Adam after one
    warm-up batch; then eval-mode prediction of the same molecules."""
    torch.manual_seed(0)
    optimizer = torch.optim.Adam(model.parameters(), lr=5e-4)
    idx = np.resize(idx, batch_size * (steps + 1))
    warm = shuffled_plan(np.random.default_rng(0), np.arange(batch_size))
    train_epoch(model, optimizer, store, idx, warm, batch_size, task, CPU)
    plan = shuffled_plan(np.random.default_rng(1), np.arange(batch_size, len(idx)))
    stats = train_epoch(model, optimizer, store, idx, plan, batch_size, task, CPU)
    t0 = time.perf_counter()
    predict(model, store, idx[batch_size:], 4 * batch_size, CPU)
    return stats.visits / (stats.seconds_training + stats.seconds_scoring), (len(idx) - batch_size) / (
        time.perf_counter() - t0)


def bench_ddm(store: GraphStore, config: PaiNNConfig, idx: np.ndarray, batch_size: int, steps: int) -> float:
    """GeoSSL-DDM molecules/s (two encoder passes, both heads, backward, Adam)."""
    torch.manual_seed(0)
    model = GeoSSLDDM(PaiNNPredictor(1, config).encoder, config.hidden)
    optimizer = torch.optim.Adam(model.parameters(), lr=5e-4)
    generator = epoch_generator(0, 0)
    batches = [idx[i * batch_size:(i + 1) * batch_size] for i in range(steps + 1)]
    t0 = 0.0
    for k, b in enumerate(batches):
        if k == 1:
            t0 = time.perf_counter()
        loss = model.loss(store.batch(b), generator)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return batch_size * steps / (time.perf_counter() - t0)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m molpeg_bench.bench.models_3d", description=__doc__)
    parser.add_argument("--conformer-molecules", type=int, default=200, help="HIV molecules for the conformer rate")
    parser.add_argument("--steps", type=int, default=4, help="timed training batches per model")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    print(f"machine: {torch.get_num_threads()} torch threads, torch {torch.__version__}, device cpu")

    hiv = load_dataset("hiv")
    sample = hiv.subset(np.linspace(0, len(hiv) - 1, args.conformer_molecules).astype(int))
    t0 = time.perf_counter()
    featurize_smiles(sample.smiles, sample.y.numpy(), {}, desc="featurize")
    print(f"reference: 2D featurization of the same molecules {len(sample) / (time.perf_counter() - t0):,.0f} "
          "molecules/s")
    tr, _ = bench_model(GraphPredictor(1, GINConfig()), BinaryTask(), hiv, np.arange(4096), 256, args.steps)
    print(f"reference: GIN 5x300 on HIV, batch 256: training {tr:,.0f} molecules/s")
    hiv3d = None
    for mode in ("etkdg", "etkdg_mmff"):
        rate, hiv3d = bench_conformers(sample, mode)
        print(f"conformers {mode} ({len(sample)} HIV molecules, 1 process): {rate:,.1f} molecules/s; "
              f"all 41,127 ≈ {41127 / rate / 60:,.0f} min per process")

    qm9 = select_target(load_qm9(), "U0")
    train = qm9_split(len(qm9)).train
    regression = RegressionTask(-76.1, 10.3)
    rng = np.random.default_rng(0)
    for label, cfg in (("paper PaiNN 128x3", PaiNNConfig()), ("smoke PaiNN 64x3", PaiNNConfig(hidden=64))):
        tr, ev = bench_model(PaiNNPredictor(1, cfg), regression, qm9, rng.choice(train, 4096, replace=False), 128,
                             args.steps)
        print(f"{label} on QM9, batch 128: training {tr:,.0f} molecules/s, evaluation {ev:,.0f} molecules/s")
    for label, cfg in (("paper SchNet 300/128/6", SchNetConfig()),
                       ("smoke SchNet 64/64/3", SchNetConfig(64, 64, 3, 25, 10.0))):
        tr, ev = bench_model(SchNetPredictor(1, cfg), BinaryTask(), hiv3d, np.arange(len(hiv3d)), 256, args.steps)
        print(f"{label} on HIV-3D, batch 256: training {tr:,.0f} molecules/s, evaluation {ev:,.0f} molecules/s")
    rate = bench_ddm(qm9, PaiNNConfig(hidden=64), rng.choice(train, 128 * (args.steps + 1), replace=False), 128,
                     args.steps)
    print(f"GeoSSL-DDM, smoke PaiNN 64x3 on QM9 molecules (with H), batch 128: {rate:,.0f} molecules/s")


if __name__ == "__main__":
    main()
