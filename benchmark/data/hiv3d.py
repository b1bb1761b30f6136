"""HIV with RDKit conformers: the 2D HIV store plus heavy-atom coordinates, generated once and cached.

The cache key adds the conformer options (mode, seed, RDKit version) and the failure policy to the
HIV source hash. Policy ``2d`` keeps all 41,127 molecules (those whose embedding fails get 2D
coordinates, as the official pickle); ``drop`` removes them. The count of each cascade tier is in
``meta["conformer_tiers"]`` and each molecule's tier in ``meta["conformer_tier"]``.
"""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path

import numpy as np

from molpeg_bench.benchmark.data.conformers import (
    DEFAULT_CONFORMERS,
    FAILURE_POLICIES,
    ConformerOptions,
    generate_conformers,
    tier_counts,
)
from molpeg_bench.benchmark.data.dataset import cached_store, file_sha256, load_dataset
from molpeg_bench.benchmark.data.graph_store import GraphStore
from molpeg_bench.benchmark.data.sources import get_source, resolve_file

log = logging.getLogger(__name__)


def add_conformers(store: GraphStore, options: ConformerOptions, failure: str = "2d",
                   processes: int = 1, hydrogens: bool = False) -> GraphStore:
    """``store`` with conformer coordinates for each of its SMILES (see the module docstring);
    ``hydrogens``: the store's graphs carry explicit H atoms (featurized after ``Chem.AddHs``)."""
    if failure not in FAILURE_POLICIES:
        raise ValueError(f"conformer failure policy must be one of {FAILURE_POLICIES}, got {failure!r}")
    t0 = time.perf_counter()
    positions, tiers = generate_conformers(store.smiles, options, processes, "conformers", hydrogens)
    seconds = time.perf_counter() - t0
    counts = (store.node_ptr[1:] - store.node_ptr[:-1]).numpy()
    mismatched = [i for i, p in enumerate(positions) if len(p) != counts[i]]
    if mismatched:
        raise RuntimeError(f"conformer atom counts differ from the 2D graphs for molecules {mismatched[:5]}")
    meta = {"conformer_mode": options.mode, "conformer_seed": options.seed, "conformer_failure": failure,
            "conformer_tiers": tier_counts(tiers), "conformer_tier": tiers.tolist(),
            "conformer_seconds": seconds, "conformer_processes": processes, "hydrogens": hydrogens}
    out = store.with_positions(np.concatenate(positions) if positions else np.zeros((0, 3)), meta)
    if failure == "drop":
        out = out.subset(np.flatnonzero(tiers < 3))
        out.meta["n_dropped_2d"] = int((tiers == 3).sum())
    log.info("conformers: %d molecules in %.0f s (%.1f mol/s), tiers %s", len(store), seconds,
             len(store) / max(seconds, 1e-9), meta["conformer_tiers"])
    return out


def load_hiv3d(data_dir: str | Path | None = None, cache_dir: str | Path | None = None,
               options: ConformerOptions = DEFAULT_CONFORMERS, failure: str = "2d",
               processes: int | None = None, subsample: int | None = None, subsample_seed: int = 42) -> GraphStore:
    """HIV-3D, cached; generated on first use with ``processes`` workers (default: all cores).
    ``subsample`` keeps that many molecules (drawn with ``subsample_seed``) before the conformers."""
    path = resolve_file(get_source("hiv"), data_dir, cache_dir)
    key_options = dict(options.cache_options(), failure=failure, subsample=subsample,
                       subsample_seed=None if subsample is None else subsample_seed)

    def build() -> GraphStore:
        store = load_dataset("hiv", data_dir=data_dir, cache_dir=cache_dir)
        if subsample is not None and subsample < len(store):
            rng = np.random.default_rng(subsample_seed)
            store = store.subset(np.sort(rng.choice(len(store), subsample, replace=False)))
        out = add_conformers(store, options, failure, processes or os.cpu_count() or 1)
        out.meta["dataset"] = "hiv3d"
        return out

    return cached_store("hiv3d", file_sha256(path), key_options, cache_dir, build)
