"""``make gpu-check``: the paper model on full HIV on one device, the three kinds of run the suite makes.

``whole``, MolPeg and EL2N (a static method with its own warm-up, ``warmup_epochs`` = the check's epochs) for
``--epochs`` epochs each (default 2) at 60 % pruned, each run twice with the same seed. Prints and writes
(``--out``, JSON) per run: seconds per training epoch, evaluation molecules/s, peak GPU memory and the mean
GPU utilisation sampled by ``nvidia-smi`` (CUDA only), and whether the second run's record (every epoch's
loss and metrics) equals the first. Ends with a SLURM profile line for one GPU per task, sized from the peak
memory and the measured time.

On CUDA, scatter-add (the GIN's message sum, ``index_add_``) uses atomics whose order varies between runs,
so the same seed may give a different record: the check reports it and does not fail on it (the suite's
guarantee of equal records is for CPU; ``--deterministic`` asks torch for deterministic kernels, which
raises where one has none). ``--preset ci --device cpu`` runs the same script in seconds (tests).
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import shutil
import subprocess
import threading
import time
from pathlib import Path

import torch

from molpeg_bench.benchmark.config import RunConfig
from molpeg_bench.benchmark.experiments.grids import preset_run
from molpeg_bench.benchmark.experiments.presets import get_preset
from molpeg_bench.benchmark.machine import machine_line
from molpeg_bench.benchmark.models.device import resolve_device
from molpeg_bench.benchmark.run import run_finetune

log = logging.getLogger("molpeg_bench.bench.gpu_check")
METHODS = (("whole", 0.0, {}), ("molpeg", 0.6, {}), ("el2n_20", 0.6, None))  # None: warm-up = the epochs


class Utilisation:
    """Mean GPU utilisation (%) sampled every 0.5 s by ``nvidia-smi`` while the block runs (NaN without it)."""

    def __init__(self, device: torch.device):
        self.enabled = device.type == "cuda" and shutil.which("nvidia-smi") is not None
        self.samples: list[float] = []
        self._stop = threading.Event()

    def _sample(self) -> None:
        while not self._stop.wait(0.5):
            out = subprocess.run(["nvidia-smi", "--query-gpu=utilization.gpu", "--format=csv,noheader,nounits"],
                                 capture_output=True, text=True, check=False).stdout.split()
            if out:
                self.samples.append(float(out[0]))

    def __enter__(self) -> Utilisation:
        if self.enabled:
            self._thread = threading.Thread(target=self._sample, daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        if self.enabled:
            self._thread.join()

    @property
    def mean(self) -> float:
        return sum(self.samples) / len(self.samples) if self.samples else math.nan


def check_configs(preset: str, device: str, epochs: int, data_dir: str | None) -> list[RunConfig]:
    """The check's runs: HIV at the preset's model, ``epochs`` epochs, on ``device``."""
    configs = []
    for method, ratio, options in METHODS:
        options = {"warmup_epochs": epochs} if options is None else options
        config = preset_run(get_preset(preset), "hiv", method, ratio, 0, None, method_options=options)
        configs.append(config.replace(epochs=epochs, device=device, data_dir=data_dir))
    return configs


def trajectory(record: dict) -> list[tuple]:
    return [(e["train_loss"], e["valid"], e["test"], e["n_trained"]) for e in record["epochs"]]


def measure(config: RunConfig) -> dict:
    """Run ``config`` twice; the first run's figures and whether the second gave the same record."""
    device = resolve_device(config.device)
    records, utilisation, peak = [], math.nan, math.nan
    for attempt in range(2):
        if device.type == "cuda":
            torch.cuda.reset_peak_memory_stats(device)
        with Utilisation(device) as gpu:
            record = run_finetune(config)
        if record.get("status") != "complete":
            raise RuntimeError(f"{config.method}: the run failed: {record.get('error')}")
        if attempt == 0 and device.type == "cuda":
            peak, utilisation = torch.cuda.max_memory_allocated(device) / 2**30, gpu.mean
        records.append(record)
    first = records[0]
    timings, epochs = first["timings"], len(first["epochs"])
    sizes = first["dataset"]["split_sizes"]
    n_eval = sizes["valid"] + sizes["test"]  # every epoch evaluates both splits
    return {"method": config.method, "prune_ratio": config.prune_ratio, "epochs": epochs,
            "epoch_s": timings["training"] / epochs, "warmup_s": timings["warmup"],
            "eval_molecules_per_s": n_eval * epochs / timings["evaluation"],
            "total_s": timings["total"], "peak_gpu_gib": peak, "gpu_utilisation_pct": utilisation,
            "same_record_twice": trajectory(records[0]) == trajectory(records[1])}


def slurm_profile(results: list[dict], full_epochs: int = 100) -> str:
    """One GPU per task, memory and time from the measurement (time for ``full_epochs`` epochs, 1.5x headroom)."""
    hours = max(r["epoch_s"] * full_epochs + r["warmup_s"] * 20 / max(1, r["epochs"]) for r in results) / 3600
    peak = max((r["peak_gpu_gib"] for r in results if not math.isnan(r["peak_gpu_gib"])), default=0.0)
    minutes = math.ceil(1.5 * hours * 60)
    return (f"gpus_per_node: 1, cpus_per_task: 4, mem_gb: {max(16, math.ceil(4 * peak))}, "
            f"timeout_min: {minutes}  (slowest run at {full_epochs} epochs x 1.5; peak GPU memory {peak:.1f} GiB)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m molpeg_bench.bench.gpu_check",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--preset", default="paper", help="model and batch of this preset (paper: GIN 5x300)")
    parser.add_argument("--device", default="cuda", help="cuda, cuda:N or cpu")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--deterministic", action="store_true", help="torch.use_deterministic_algorithms(True)")
    parser.add_argument("--out", default="out/gpu_check.json")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if args.deterministic:
        torch.use_deterministic_algorithms(True)
    device = resolve_device(args.device)
    print(f"gpu-check on {machine_line(device)}: HIV, preset {args.preset}, {args.epochs} epochs, each run twice")
    results = []
    for config in check_configs(args.preset, args.device, args.epochs, args.data_dir):
        started = time.perf_counter()
        results.append(measure(config))
        r = results[-1]
        print(f"  {r['method']:<8} {r['epoch_s']:7.1f} s/epoch  warm-up {r['warmup_s']:6.1f} s  "
              f"eval {r['eval_molecules_per_s']:9,.0f} mol/s  peak {r['peak_gpu_gib']:.2f} GiB  "
              f"GPU {r['gpu_utilisation_pct']:.0f} %  same record twice: {r['same_record_twice']}  "
              f"({time.perf_counter() - started:.0f} s)")
    profile = slurm_profile(results)
    print(f"SLURM profile for one GPU per task: {profile}")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"machine": machine_line(device), "preset": args.preset, "epochs": args.epochs,
                               "deterministic": args.deterministic, "runs": results, "slurm_profile": profile},
                              indent=2, default=str))
    print(out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
