"""``make bench``: measured speed of the pieces that set the cost of a sweep, printed in one run.

- featurization throughput on HIV (SMILES -> graphs, one process) and the cached-reload time;
- training throughput (molecules/s) of the paper GIN (5x300) and the smoke GIN;
- the MolPeg / Soft Random training-epoch time ratio at pruning 0.6 (same data, model, batches),
  MolPeg's extra cost being its reference forward and EMA step.
"""

from __future__ import annotations

import argparse
import logging
import tempfile
import time

import numpy as np
import torch

from benchmark.bench_selection import report as report_selection
from benchmark.config import RunConfig
from benchmark.data import load_dataset
from benchmark.data.sources import get_source, resolve_file
from benchmark.models import GINConfig, GraphPredictor
from benchmark.run import run_finetune
from benchmark.training import train_epoch
from methods.base import shuffled_plan


def bench_featurization(dataset: str) -> tuple[float, float, int]:
    """(molecules/s featurizing, seconds to reload from the cache, molecules)."""
    resolve_file(get_source(dataset))  # fail early, before timing, when the file is missing
    with tempfile.TemporaryDirectory() as cache:
        t0 = time.perf_counter()
        store = load_dataset(dataset, cache_dir=cache)
        featurize_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        load_dataset(dataset, cache_dir=cache)
        reload_s = time.perf_counter() - t0
    return len(store) / featurize_s, reload_s, len(store)


def bench_training(store, config: GINConfig, n: int = 2048, batch_size: int = 256) -> float:
    """Molecules/s of forward + backward + Adam step (after one warm-up batch)."""
    torch.manual_seed(0)
    model = GraphPredictor(store.num_tasks, config)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    idx = np.random.default_rng(0).choice(len(store), n + batch_size, replace=False)
    plan = shuffled_plan(np.random.default_rng(0), np.arange(batch_size))
    train_epoch(model, optimizer, store, idx, plan, batch_size, "official", torch.device("cpu"))
    plan = shuffled_plan(np.random.default_rng(1), np.arange(batch_size, n + batch_size))
    stats = train_epoch(model, optimizer, store, idx, plan, batch_size, "official", torch.device("cpu"))
    return stats.visits / (stats.seconds_training + stats.seconds_scoring)


def bench_molpeg_ratio(dataset: str, subsample: int, epochs: int) -> dict[str, float]:
    """Seconds per training epoch (training + pruner cost, no evaluation) of MolPeg and Soft Random."""
    base = RunConfig(dataset=dataset, subsample=subsample, epochs=epochs, method="soft_random",
                     prune_ratio=0.6, eval_batch_size=4096)
    out = {}
    for method in ("soft_random", "molpeg"):
        record = run_finetune(base.replace(method=method))
        t = record["timings"]
        out[method] = (t["training"] + t["scoring"]) / epochs
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmark.bench", description=__doc__)
    parser.add_argument("--dataset", default="hiv", help="dataset for all measurements (default hiv)")
    parser.add_argument("--subsample", type=int, default=10000, help="molecules for the epoch-time ratio")
    parser.add_argument("--epochs", type=int, default=2)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    print(f"machine: {torch.get_num_threads()} torch threads, torch {torch.__version__}, device cpu")

    rate, reload_s, n = bench_featurization(args.dataset)
    print(f"featurization ({args.dataset}, {n} molecules): {rate:,.0f} molecules/s; "
          f"cached reload {reload_s:.2f} s (target <= 2 s)")

    store = load_dataset(args.dataset)
    for label, cfg in (("paper GIN 5x300", GINConfig()), ("smoke GIN 3x64", GINConfig(3, 64, 0.2))):
        print(f"training throughput, {label}, batch 256: {bench_training(store, cfg):,.0f} molecules/s")

    epoch_s = bench_molpeg_ratio(args.dataset, args.subsample, args.epochs)
    ratio = epoch_s["molpeg"] / epoch_s["soft_random"]
    print(f"epoch time at pruning 0.6 (paper GIN, {args.subsample} molecules): soft random "
          f"{epoch_s['soft_random']:.2f} s, MolPeg {epoch_s['molpeg']:.2f} s; "
          f"MolPeg / Soft Random = {ratio:.2f} (target <= 1.35)")
    report_selection("smoke", args.dataset)


if __name__ == "__main__":
    main()
