"""``make bench``: measured speed of the pieces that set the cost of a sweep, printed in one run.

- featurization throughput on HIV (SMILES -> graphs, one process) and the cached-reload time;
- training throughput (molecules/s) of the paper GIN (5x300) and the smoke GIN;
- evaluation throughput (molecules/s) of the paper GIN on HIV's validation + test molecules;
- MolPeg / Soft Random training-epoch time at pruning 0.6 (same data and model), for the reference in
  train and in eval mode, next to its floor F = 1 + (b + c) / a measured in the same process on the same
  batches: a = a Soft Random training step (gather, forward, backward, Adam), b = the reference's no-grad
  forward in its mode, c = the EMA update. Epochs and components are measured interleaved, ``--repeats``
  times; medians are printed.
"""

from __future__ import annotations

import argparse
import copy
import logging
import statistics
import tempfile
import time

import numpy as np
import torch

from molpeg_bench.bench.selection import report as report_selection
from molpeg_bench.benchmark.data import load_dataset, make_split
from molpeg_bench.benchmark.data.graph_store import GraphStore
from molpeg_bench.benchmark.data.sources import get_source, resolve_file
from molpeg_bench.benchmark.losses import per_sample_bce, reduce_batch_loss
from molpeg_bench.benchmark.machine import cpu_model
from molpeg_bench.benchmark.models import GINConfig, GraphPredictor
from molpeg_bench.benchmark.models.gin_inference import evaluation_logits
from molpeg_bench.benchmark.tasks import BinaryTask
from molpeg_bench.benchmark.training import predict, train_epoch
from molpeg_bench.methods import MolPeg, SoftRandom
from molpeg_bench.methods.base import EpochPlan, shuffled_plan
from molpeg_bench.methods.driving import PrunerDriver


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
    train_epoch(model, optimizer, store, idx, plan, batch_size, BinaryTask(), torch.device("cpu"))
    plan = shuffled_plan(np.random.default_rng(1), np.arange(batch_size, n + batch_size))
    stats = train_epoch(model, optimizer, store, idx, plan, batch_size, BinaryTask(), torch.device("cpu"))
    return stats.visits / (stats.seconds_training + stats.seconds_scoring)


def bench_evaluation(store: GraphStore, config: GINConfig, batch_size: int = 1024) -> tuple[float, int]:
    """(molecules/s, molecules) of eval-mode prediction on the validation + test molecules of the
    paper's random split (HIV: 8,226), as a run evaluates them (the folded path of ``gin_inference``)."""
    split = make_split("random", store.smiles)
    idx = np.concatenate([split.valid, split.test])
    torch.manual_seed(0)
    model = GraphPredictor(store.num_tasks, config)
    predict(model, store, idx[:batch_size], batch_size, torch.device("cpu"), fn=evaluation_logits)  # warm-up
    t0 = time.perf_counter()
    predict(model, store, idx, batch_size, torch.device("cpu"), fn=evaluation_logits)
    return len(idx) / (time.perf_counter() - t0), len(idx)


def floor_components(model: torch.nn.Module, pruner: MolPeg, store: GraphStore, train_idx: np.ndarray,
                     plan: EpochPlan, batch_size: int) -> tuple[float, float, float]:
    """Seconds of (a) the training steps, (b) the reference forwards, (c) the EMA updates over ``plan``'s
    batches, each part timed on its own (a copy of the model and optimizer, so nothing else changes)."""
    model, pruner = copy.deepcopy(model), copy.deepcopy(pruner)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    a = b = c = 0.0
    model.train()
    for positions, weights in plan.batches(batch_size):
        t0 = time.perf_counter()
        batch = store.batch(train_idx[positions])
        losses = per_sample_bce(model(batch), batch.y)
        loss = reduce_batch_loss(losses, torch.as_tensor(weights), batch.y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        t1 = time.perf_counter()
        per_sample_bce(pruner.reference_forward(batch), batch.y)
        t2 = time.perf_counter()
        pruner.after_step(model)
        t3 = time.perf_counter()
        a, b, c = a + t1 - t0, b + t2 - t1, c + t3 - t2
    return a, b, c


def bench_molpeg_ratio(dataset: str, subsample: int, repeats: int, config: GINConfig | None = None,
                       batch_size: int = 256, prune_ratio: float = 0.6) -> dict[str, dict[str, float]]:
    """Median seconds per training epoch (training + pruner cost, no evaluation) of Soft Random and of
    MolPeg with the reference in train and eval mode, and the median floor components of each mode."""
    store = load_dataset(dataset)
    store = store.subset(np.sort(np.random.default_rng(0).choice(len(store), min(subsample, len(store)),
                                                                 replace=False)))
    train_idx = make_split("random", store.smiles).train
    n, keep = len(train_idx), 1.0 - prune_ratio
    torch.manual_seed(0)
    template = GraphPredictor(store.num_tasks, config or GINConfig())
    runners = {"soft_random": SoftRandom(n, keep)}
    runners.update({mode: MolPeg(n, keep, options={"reference_mode": mode}) for mode in ("train", "eval")})
    models = {name: copy.deepcopy(template) for name in runners}
    optimizers = {name: torch.optim.Adam(m.parameters(), lr=1e-3) for name, m in models.items()}
    for name in ("train", "eval"):
        runners[name].setup(models[name])
    samples: dict[str, list[float]] = {name: [] for name in [*runners, "a", "b_train", "c_train", "b_eval",
                                                              "c_eval"]}
    cpu = torch.device("cpu")
    for epoch in range(1, repeats + 2):  # epoch 1 warms up and is not counted
        for name, pruner in runners.items():
            plan = pruner.plan_epoch(epoch)
            stats = train_epoch(models[name], optimizers[name], store, train_idx, plan, batch_size, BinaryTask(),
                                cpu, PrunerDriver(pruner))
            if epoch > 1:
                samples[name].append(stats.seconds_training + stats.seconds_scoring)
        plan = shuffled_plan(np.random.default_rng(epoch), np.arange(runners["train"].k))
        for mode in ("train", "eval"):
            a, b, c = floor_components(models["soft_random"], runners[mode], store, train_idx, plan, batch_size)
            if epoch > 1:
                samples["a"].append(a)
                samples[f"b_{mode}"].append(b)
                samples[f"c_{mode}"].append(c)
    med = {name: statistics.median(values) for name, values in samples.items()}
    k = runners["train"].k
    return {mode: {"soft_random": med["soft_random"], "molpeg": med[mode], "molpeg_rate": k / med[mode],
                   "ratio": med[mode] / med["soft_random"],
                   "floor": 1.0 + (med[f"b_{mode}"] + med[f"c_{mode}"]) / med["a"],
                   "a": med["a"], "b": med[f"b_{mode}"], "c": med[f"c_{mode}"]} for mode in ("train", "eval")}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m molpeg_bench.bench.finetune", description=__doc__)
    parser.add_argument("--dataset", default="hiv", help="dataset for all measurements (default hiv)")
    parser.add_argument("--subsample", type=int, default=10000, help="molecules for the epoch-time ratio")
    parser.add_argument("--repeats", type=int, default=3, help="measured epochs per variant (median)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    print(f"machine: {cpu_model()}, {torch.get_num_threads()} torch threads, torch {torch.__version__}, device cpu")

    rate, reload_s, n = bench_featurization(args.dataset)
    print(f"featurization ({args.dataset}, {n} molecules): {rate:,.0f} molecules/s; "
          f"cached reload {reload_s:.2f} s (target <= 2 s)")

    store = load_dataset(args.dataset)
    for label, cfg in (("paper GIN 5x300", GINConfig()), ("smoke GIN 3x64", GINConfig(3, 64, 0.2))):
        print(f"training throughput, {label}, batch 256: {bench_training(store, cfg):,.0f} molecules/s")

    rate, n_eval = bench_evaluation(store, GINConfig())
    print(f"evaluation throughput, paper GIN 5x300, batch 1024 ({n_eval} validation + test molecules): "
          f"{rate:,.0f} molecules/s ({n_eval / rate:.2f} s)")

    results = bench_molpeg_ratio(args.dataset, args.subsample, args.repeats)
    for mode, r in results.items():
        print(f"reference_mode={mode}: epoch at pruning 0.6 (paper GIN, {args.subsample} molecules, median of "
              f"{args.repeats}): soft random {r['soft_random']:.2f} s, MolPeg {r['molpeg']:.2f} s; floor parts "
              f"a {r['a']:.2f} s, b {r['b']:.2f} s, c {r['c']:.3f} s; MolPeg trains {r['molpeg_rate']:,.0f} "
              f"molecules/s with its reference")
        print(f"MolPeg / Soft Random = {r['ratio']:.2f} (floor {r['floor']:.2f}), reference_mode={mode}; "
              f"target R <= 1.05 F = {1.05 * r['floor']:.2f}")
    report_selection("smoke", args.dataset)


if __name__ == "__main__":
    main()
