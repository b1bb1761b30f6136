"""``python -m molpeg_bench.bench.cost``: what the paper's Table 1 grid costs, from measured throughputs.

The grid is the suite's own (``build_grid("table1", "paper")``: HIV and PCBA, 20 methods + whole, six
ratios, five seeds, 100 epochs); the warm-ups are those the static methods declare (``Requirements``),
shared as the warm-up cache shares them (one run per dataset, seed and start, as long as the longest asks).
A run's work is counted in molecule passes and priced with throughputs given on the command line:

- training: epochs x the molecules an epoch trains (keep ratio x training set; whole: all of it), at
  ``--train-rate``; a dynamic method that scores with a second model (MolPeg's reference forward + EMA)
  pays ``--reference-cost`` more per trained molecule (measured on HIV: 0.39);
- evaluation: epochs x (validation + test) at ``--eval-rate``;
- warm-up: its epochs x the training set at ``--train-rate``; scoring: one full-data pass per static method
  and warm-up (``make bench`` measures every method at <= 1 such pass, computed once for all ratios).

Defaults are this machine's measured figures (``make bench``, 2 CPU threads, GIN 5x300); ``--gpu-speedup``
turns them into a GPU estimate, which stays an assumption until measured on one. Disk: the featurized
graphs and one warm-up cache per dataset and seed, at the sizes ``bench.scale`` measured.
"""

from __future__ import annotations

import argparse
from collections import defaultdict

from molpeg_bench.benchmark.experiments.grids import build_grid
from molpeg_bench.benchmark.machine import machine_line
from molpeg_bench.methods.base import DynamicPruner
from molpeg_bench.methods.registry import get_method

# molecules (train, valid + test) under the paper's random 80/10/10 split
SIZES = {"hiv": (32_901, 8_226), "pcba": (350_343, 87_586)}
REFERENCE_SCORED = ("molpeg",)
# disk, GB (bench.scale): featurized graphs per dataset; one 20-epoch warm-up (20 model snapshots of 7.6 MB,
# PCBA: + 20 packed correctness arrays of 5.6 MB)
GRAPHS_GB = {"hiv": 0.09, "pcba": 1.0}
WARMUP_GB = {"hiv": 0.15, "pcba": 0.26}


def family(method: str) -> str:
    if method == "whole":
        return "whole"
    return "dynamic" if issubclass(get_method(method), DynamicPruner) else "static"


def molecule_passes(reference_cost: float) -> dict[tuple[str, str], dict[str, float]]:
    """(dataset, family) -> molecule passes of training, evaluation, warm-up and scoring over the grid."""
    totals: dict[tuple[str, str], dict[str, float]] = defaultdict(lambda: defaultdict(float))
    warmups: dict[tuple[str, int], int] = {}
    scored: set[tuple[str, int, str]] = set()
    for config in build_grid("table1", "paper"):
        train, evaluate = SIZES[config.dataset]
        kind = family(config.method)
        cell = totals[(config.dataset, kind)]
        extra = reference_cost if config.method in REFERENCE_SCORED else 0.0
        cell["training"] += config.epochs * config.keep_ratio * train * (1 + extra)
        cell["evaluation"] += config.epochs * evaluate
        cell["runs"] += 1
        if kind == "static":
            method = get_method(config.method)
            needs = method.requirements(method.Options())
            key = (config.dataset, config.seed)
            warmups[key] = max(warmups.get(key, 0), needs.warmup_epochs)
            if (config.dataset, config.seed, config.method) not in scored:
                scored.add((config.dataset, config.seed, config.method))
                cell["scoring"] += train
    for (dataset, _), epochs in warmups.items():
        totals[(dataset, "static")]["warm-up"] += epochs * SIZES[dataset][0]
    return totals


DEFAULT_TRAIN_RATE = 668.0
DEFAULT_RATES_MACHINE = "Intel Xeon, 2 cores, torch 2.13 CPU build"  # where make bench measured the defaults


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m molpeg_bench.bench.cost", description=__doc__.split("\n\n")[0])
    parser.add_argument("--train-rate", type=float, default=DEFAULT_TRAIN_RATE, help="molecules/s trained (GIN 5x300)")
    parser.add_argument("--eval-rate", type=float, default=2_700.0, help="molecules/s evaluated")
    parser.add_argument("--reference-cost", type=float, default=0.39)
    parser.add_argument("--gpu-speedup", type=float, default=20.0, help="assumed GPU / 2-core CPU throughput")
    parser.add_argument("--gpus", type=int, nargs="+", default=[8, 32], help="GPUs working at once")
    args = parser.parse_args(argv)
    totals = molecule_passes(args.reference_cost)
    rates = {"training": args.train_rate, "warm-up": args.train_rate, "scoring": args.train_rate,
             "evaluation": args.eval_rate}
    print("| dataset | family | runs | training | evaluation | warm-up + scoring | CPU-hours (2 cores) "
          "| GPU-hours (est.) |")
    print("|---|---|---|---|---|---|---|---|")
    grand = 0.0
    for (dataset, kind), cell in sorted(totals.items()):
        hours = {part: cell.get(part, 0.0) / rate / 3600 for part, rate in rates.items()}
        total = sum(hours.values())
        grand += total
        print(f"| {dataset} | {kind} | {int(cell['runs'])} | {hours['training']:,.0f} h | {hours['evaluation']:,.0f} h "
              f"| {hours['warm-up'] + hours['scoring']:,.0f} h | {total:,.0f} | {total / args.gpu_speedup:,.0f} |")
    gpu = grand / args.gpu_speedup
    print(f"\nwhole grid: {grand:,.0f} CPU-hours on 2 cores = {gpu:,.0f} GPU-hours at {args.gpu_speedup:g}x; "
          + "; ".join(f"{n} GPUs: {gpu / n:,.1f} h ({gpu / n / 24:,.1f} days)" for n in args.gpus))
    disk = sum(GRAPHS_GB.values()) + 5 * sum(WARMUP_GB.values())
    print(f"disk: {disk:.1f} GB of caches (graphs + one warm-up per dataset and seed) + run records (KB each)")
    print(f"rates: {args.train_rate:g} molecules/s trained, {args.eval_rate:g} evaluated"
          + (f" (defaults: {DEFAULT_RATES_MACHINE}, make bench)" if args.train_rate == DEFAULT_TRAIN_RATE else "")
          + f"; GPU {args.gpu_speedup:g}x assumed, not measured; this machine: {machine_line()}")


if __name__ == "__main__":
    main()
