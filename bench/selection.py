"""``make bench`` (selection part): what the static methods' warm-ups and scoring cost next to training.

One process runs, at a preset's settings on one dataset (default: smoke, HIV), a one-epoch whole-dataset
run twice (the faster one's training time is the unit: one full-data training epoch) and a one-epoch run
of every registered method at pruning 0.6. From the run records:

- per static method, its scoring time after the warm-up (``timings.scoring``) / one full-data epoch at the
  first ratio of a setting, at a further ratio (which reuses the budget-independent scores cached per
  warm-up), and per run over Table 1's six ratios (target <= 1);
- the share of a Table 1 grid's compute spent in warm-ups and scoring, from per-run costs in epoch
  units: a static run at keep ratio q costs E·(q + v) + s_m (v: evaluation per epoch, s_m: its scoring),
  a dynamic run E·q·(t_m + c_m) + E·v (t_m, c_m: its training and per-epoch scoring per kept fraction),
  the whole-dataset run E·(1 + v), and each distinct warm-up run (per dataset and seed, shared by all
  methods through the cache) W·w (W: its longest length, w: seconds per warm-up epoch / unit). Seeds and
  datasets scale every term alike, so the share depends on E and the ratios only: it is given for the
  measured preset's E and for the paper's (E = 100, Table 1's ratios).
"""

from __future__ import annotations

import argparse
import logging
from dataclasses import dataclass

from molpeg_bench.benchmark.experiments import preset_run
from molpeg_bench.benchmark.experiments.presets import TABLE1_RATIOS, get_preset
from molpeg_bench.benchmark.run import run_finetune
from molpeg_bench.methods.registry import available_methods, get_method

PAPER_EPOCHS = 100
FURTHER_RATIO = 0.4


@dataclass(frozen=True)
class MethodCost:
    """Costs of one method in full-data-epoch units (per kept fraction for training and dynamic scoring)."""

    family: str
    scoring: float  # static: once per run; dynamic: per epoch per kept fraction
    training: float  # per epoch per kept fraction
    warmups: tuple[tuple[str, int], ...] = ()  # (warm-up key, epochs used)
    scoring_reused: float | None = None  # static: scoring at a further ratio of the same setting

    def scoring_per_run(self, n_ratios: int) -> float:
        """Static: mean scoring per run over ``n_ratios`` ratios sharing one warm-up's scores."""
        further = self.scoring if self.scoring_reused is None else self.scoring_reused
        return (self.scoring + (n_ratios - 1) * further) / n_ratios


def grid_share(costs: dict[str, MethodCost], epochs: int, ratios: tuple[float, ...], evaluation: float,
               warmup_epoch: float) -> dict[str, float]:
    """Share of a Table 1 grid (every method x ratio + whole, per dataset and seed) spent in warm-ups, in
    static scoring and in dynamic per-epoch scoring (see the module docstring)."""
    keeps = [1.0 - r for r in ratios]
    longest: dict[str, int] = {}
    for cost in costs.values():
        for key, used in cost.warmups:
            longest[key] = max(longest.get(key, 0), used)
    warmup = warmup_epoch * sum(longest.values())
    static = sum(len(keeps) * c.scoring_per_run(len(keeps)) for c in costs.values() if c.family == "static")
    dynamic = sum(epochs * q * c.scoring for c in costs.values() if c.family == "dynamic" for q in keeps)
    training = epochs * (1.0 + evaluation) + sum(epochs * (q * c.training + evaluation)
                                                 for c in costs.values() for q in keeps)
    total = warmup + static + dynamic + training
    return {"warmup": warmup / total, "static_scoring": static / total, "dynamic_scoring": dynamic / total}


def measure(preset: str, dataset: str, ratio: float = 0.6) -> tuple[dict[str, MethodCost], float, float, float]:
    """(costs per registered method, seconds of one full-data epoch, evaluation per epoch and seconds per
    warm-up epoch, both in epoch units)."""
    base = preset_run(get_preset(preset), dataset, "whole", 0.0, 0, None).replace(epochs=1)
    # the faster of two runs: the first one in a process also pays one-off start-up costs
    whole = min((run_finetune(base)["timings"] for _ in range(2)), key=lambda t: t["training"])
    unit = whole["training"]
    costs, warm_seconds, warm_epochs = {}, 0.0, 0  # recorded cost of the warm-up epochs (trained or reused)
    for name in available_methods():
        if name == "whole":
            continue
        record = run_finetune(base.replace(method=name, prune_ratio=ratio))
        t, keep = record["timings"], record["pruner"]["keep_ratio"]
        uses = (record.get("context") or {}).get("warmups") or []
        for use in uses:
            warm_seconds += use["seconds_charged"]
            warm_epochs += use["epochs_used"]
        family = get_method(name).family
        scoring = t["scoring"] / unit if family == "static" else t["scoring"] / (keep * unit)
        reused = None
        if family == "static":  # a further ratio of the same setting: the cached scores are reused
            reused = run_finetune(base.replace(method=name, prune_ratio=FURTHER_RATIO))["timings"]["scoring"] / unit
        costs[name] = MethodCost(family, scoring, t["training"] / (keep * unit),
                                 tuple((u["key"], u["epochs_used"]) for u in uses), reused)
    warmup_epoch = warm_seconds / warm_epochs / unit if warm_epochs else 0.0
    return costs, unit, whole["evaluation"] / unit, warmup_epoch


def report(preset: str, dataset: str) -> None:
    costs, unit, evaluation, warmup_epoch = measure(preset, dataset)
    n = len(TABLE1_RATIOS)
    print(f"static scoring after warm-up / one full-data training epoch ({preset} preset, {dataset}, "
          f"epoch = {unit:.2f} s; first ratio, a further ratio, per run over {n} ratios; target <= 1 per run):")
    for name, cost in costs.items():
        if cost.family == "static":
            per_run = cost.scoring_per_run(n)
            flag = "" if per_run <= 1.0 else "  ABOVE TARGET"
            print(f"  {name:18s} {cost.scoring:6.2f} {cost.scoring_reused:6.2f} {per_run:6.2f}{flag}")
    settings = get_preset(preset)
    for label, epochs in ((f"{preset} (E = {settings.run['epochs']})", settings.run["epochs"]),
                          (f"paper proportions (E = {PAPER_EPOCHS})", PAPER_EPOCHS)):
        share = grid_share(costs, epochs, TABLE1_RATIOS, evaluation, warmup_epoch)
        pct = {k: f"{100 * v:.1f} %" for k, v in share.items()}
        both = 100 * (share["warmup"] + share["static_scoring"])
        print(f"Table 1 grid compute at {label}: warm-ups {pct['warmup']}, static scoring {pct['static_scoring']}, "
              f"dynamic per-epoch scoring {pct['dynamic_scoring']}; warm-ups + static scoring {both:.1f} % "
              f"(target <= 10 %)")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m molpeg_bench.bench.selection", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--preset", default="smoke")
    parser.add_argument("--dataset", default="hiv")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    report(args.preset, args.dataset)


if __name__ == "__main__":
    main()
