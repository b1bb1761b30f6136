"""A PCBA-sized molecule CSV for measuring the suite at the paper's largest scale (PCBA itself cannot be
downloaded here): real MOSES molecules with synthetic binary assays.

    python -m molpeg_bench.bench.pcba_like --out data/pcba_like.csv          # 440,000 molecules x 128 tasks

Molecules: ``--molecules`` SMILES drawn without replacement (seeded) from ``moses_train.csv.gz`` in
``$MOLPEG_DATA_DIR`` (1.58 M drug-like ZINC molecules; 26 heavy atoms on average, as ogbg-molpcba's 26.0).
Labels: PCBA's shape, not its chemistry. Each task is a random linear function of a few counts read from
the SMILES (carbons, nitrogens, oxygens, halogens, ring closures, aromatic atoms, length) plus noise,
thresholded at the quantile that gives the task its positive rate; rates are log-uniform in [r/3, 3r]
for r = ``--positive-rate`` (0.0115: 1.5 % of the measured labels positive; PCBA: about 1.4 %). Each
label is missing (empty cell) with probability ``--missing`` (0.4, as ``bench.factor_memory`` assumes
for ogbg-molpcba). The file is written with ``benchmark.data.csv_source``'s defaults in mind: a
``smiles`` column and 0/1 task columns, so ``--dataset csv:PATH`` reads it as a multi-task
classification set scored by AP.
"""

from __future__ import annotations

import argparse
import gzip
import logging
import os
from pathlib import Path

import numpy as np
import pandas as pd

from molpeg_bench.fileio.atomic import write_atomic

log = logging.getLogger("molpeg_bench.bench.pcba_like")
COUNTED = {"carbons": r"[Cc]", "nitrogens": r"[Nn]", "oxygens": r"[Oo]", "halogens": r"Cl|Br|F|I",
           "ring_closures": r"\d", "aromatic": r"[cnos]", "branches": r"\("}


def smiles_features(smiles: pd.Series) -> np.ndarray:
    """Standardised counts of a few SMILES tokens and the string length, [n, 8] float32."""
    columns = [smiles.str.count(pattern).to_numpy(np.float32) for pattern in COUNTED.values()]
    columns.append(smiles.str.len().to_numpy(np.float32))
    x = np.stack(columns, axis=1)
    return (x - x.mean(0)) / np.maximum(x.std(0), 1e-6)


def synthetic_labels(features: np.ndarray, tasks: int, positive_rate: float, missing: float,
                     rng: np.random.Generator) -> np.ndarray:
    """[n, tasks] float32 of 0/1 with NaN for a missing label (see the module docstring)."""
    n = len(features)
    weights = rng.normal(size=(features.shape[1], tasks)).astype(np.float32)
    logits = features @ weights + rng.normal(scale=2.0, size=(n, tasks)).astype(np.float32)
    rates = np.exp(rng.uniform(np.log(positive_rate / 3), np.log(positive_rate * 3), size=tasks))
    thresholds = np.array([np.quantile(logits[:, t], 1 - rates[t]) for t in range(tasks)], dtype=np.float32)
    y = (logits > thresholds).astype(np.float32)
    y[rng.random((n, tasks), dtype=np.float32) < missing] = np.nan
    return y


def build(source: Path, molecules: int, tasks: int, positive_rate: float, missing: float,
          seed: int) -> pd.DataFrame:
    """The table: ``smiles`` then ``task_000`` ... (see the module docstring)."""
    with gzip.open(source, "rt") as handle:
        pool = pd.read_csv(handle)["SMILES"]
    if molecules > len(pool):
        raise ValueError(f"--molecules {molecules} exceeds the {len(pool)} SMILES of {source}")
    rng = np.random.default_rng(seed)
    smiles = pool.iloc[np.sort(rng.choice(len(pool), molecules, replace=False))].reset_index(drop=True)
    y = synthetic_labels(smiles_features(smiles), tasks, positive_rate, missing, rng)
    table = pd.DataFrame(y, columns=[f"task_{t:03d}" for t in range(tasks)]).astype("Int8")
    table.insert(0, "smiles", smiles)
    return table


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m molpeg_bench.bench.pcba_like",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", required=True, type=Path, help="CSV to write (e.g. data/pcba_like.csv)")
    parser.add_argument("--molecules", type=int, default=440_000)
    parser.add_argument("--tasks", type=int, default=128)
    parser.add_argument("--positive-rate", type=float, default=0.0115)
    parser.add_argument("--missing", type=float, default=0.4)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--data-dir", type=Path, default=Path(os.environ.get("MOLPEG_DATA_DIR", "data")))
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    source = args.data_dir / "moses_train.csv.gz"
    if not source.is_file():
        parser.error(f"{source} not found: point --data-dir or MOLPEG_DATA_DIR at the folder holding it")
    table = build(source, args.molecules, args.tasks, args.positive_rate, args.missing, args.seed)
    write_atomic(args.out, lambda handle: table.to_csv(handle, index=False))
    labelled = table.iloc[:, 1:].notna().to_numpy()
    positives = np.nansum(table.iloc[:, 1:].to_numpy(np.float32))
    log.info("wrote %s: %d molecules x %d tasks, %.1f %% labels missing, %.2f %% of labels positive",
             args.out, len(table), args.tasks, 100 * (1 - labelled.mean()), 100 * positives / labelled.sum())


if __name__ == "__main__":
    main()
