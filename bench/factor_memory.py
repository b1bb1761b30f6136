"""Peak memory and time of the last-layer-factor selections at PCBA scale on synthetic factors.

``python -m molpeg_bench.bench.factor_memory [--n 350000 --tasks 128 --dim 300]`` prints, per method, the
seconds and the tracemalloc peak of ``select`` (numpy allocations), both above the context's own inputs
and in total. The context holds float32 factors e [N, T], h̃ [N, d+1], logits and labels with 40 %
missing, like ogbg-molpcba; nothing else of the suite is involved.
"""

from __future__ import annotations

import argparse
import time
import tracemalloc
from dataclasses import dataclass

import numpy as np

from molpeg_bench.methods import make_pruner

FACTOR_METHODS = ("grand_20", "el2n_20", "influence", "glister", "craig", "dp")


@dataclass
class SyntheticFactorContext:
    """A ``SelectionContext`` whose models are placeholders and whose factors are fixed float32 arrays."""

    e: np.ndarray
    ht: np.ndarray
    z: np.ndarray
    labels: np.ndarray
    e_valid: np.ndarray
    ht_valid: np.ndarray
    z_valid: np.ndarray
    valid_labels: np.ndarray
    task_type: str = "binary"
    lr: float = 1e-3

    def __post_init__(self):
        self.n_samples, self.num_tasks = self.labels.shape
        self.rng = np.random.default_rng(0)

    def warmup_model(self, epochs: int, seed_index: int = 0) -> None:
        return None

    def logits(self, model, split: str = "train") -> np.ndarray:
        return self.z if split == "train" else self.z_valid

    def last_layer_factors(self, model, split: str = "train") -> tuple[np.ndarray, np.ndarray]:
        return (self.e, self.ht) if split == "train" else (self.e_valid, self.ht_valid)

    def describe(self) -> dict:
        return {"synthetic": True}


def synthetic_context(n: int, tasks: int, dim: int, seed: int = 0, missing: float = 0.4) -> SyntheticFactorContext:
    rng = np.random.default_rng(seed)

    def split(rows: int):
        h = rng.standard_normal((rows, dim + 1), dtype=np.float32)
        h[:, -1] = 1.0
        z = rng.standard_normal((rows, tasks), dtype=np.float32)
        y = (rng.random((rows, tasks), dtype=np.float32) < 0.5).astype(np.float32)
        y[rng.random((rows, tasks), dtype=np.float32) < missing] = np.nan
        e = 1.0 / (1.0 + np.exp(-z)) - y
        e[np.isnan(y)] = 0.0
        return e, h, z, y

    e, h, z, y = split(n)
    ev, hv, zv, yv = split(max(1, n // 8))
    return SyntheticFactorContext(e, h, z, y, ev, hv, zv, yv)


def measure(method: str, ctx: SyntheticFactorContext, keep_ratio: float, options: dict | None = None) -> dict:
    """Seconds and peak MiB (above the inputs, and in total) of one selection."""
    was_tracing = tracemalloc.is_tracing()
    if not was_tracing:
        tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    inputs = sum(a.nbytes for a in vars(ctx).values() if isinstance(a, np.ndarray))
    tracemalloc.reset_peak()
    t0 = time.perf_counter()
    pruner = make_pruner(method, n_samples=ctx.n_samples, keep_ratio=keep_ratio, options=options)
    sel = pruner.select(ctx)
    seconds = time.perf_counter() - t0
    peak = tracemalloc.get_traced_memory()[1]
    if not was_tracing:
        tracemalloc.stop()
    assert len(sel.indices) == pruner.k
    return {"method": method, "seconds": seconds, "peak_above_inputs_mib": (peak - base) / 2 ** 20,
            "peak_total_mib": (peak - base + inputs) / 2 ** 20, "inputs_mib": inputs / 2 ** 20}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m molpeg_bench.bench.factor_memory", description=__doc__)
    parser.add_argument("--n", type=int, default=350_000)
    parser.add_argument("--tasks", type=int, default=128)
    parser.add_argument("--dim", type=int, default=300)
    parser.add_argument("--keep", type=float, default=0.4)
    parser.add_argument("--methods", nargs="*", default=list(FACTOR_METHODS))
    args = parser.parse_args(argv)
    ctx = synthetic_context(args.n, args.tasks, args.dim)
    print(f"N={args.n} T={args.tasks} d={args.dim} keep={args.keep}")
    for method in args.methods:
        r = measure(method, ctx, args.keep)
        print(f"{method:10s} {r['seconds']:8.1f} s  peak {r['peak_above_inputs_mib']:7.0f} MiB above the "
              f"{r['inputs_mib']:.0f} MiB inputs, {r['peak_total_mib']:7.0f} MiB in total", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
