"""``make bench`` (pretraining part): GraphMAE / GraphCL throughput on the bundled NCI molecules at the
smoke and the paper model size, on the CPU (the paper preset's own device is a GPU)."""

from __future__ import annotations

import logging

from molpeg_bench.pretrain.corpus import load_corpus
from molpeg_bench.pretrain.train import METHODS, measure_throughput


def main() -> None:
    logging.basicConfig(level=logging.WARNING)
    store = load_corpus("nci")
    for preset, label in (("smoke", "GIN 3x64, batch 128, 1 thread"), ("paper", "GIN 5x300, batch 256")):
        for method in METHODS:
            rate = measure_throughput(method, preset, store=store, device="cpu")
            print(f"pretraining throughput, {method}, {preset} ({label}): {rate:,.0f} molecules/s")


if __name__ == "__main__":
    main()
