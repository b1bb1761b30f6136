"""QM9 with its DFT geometries (130,831 molecules, hydrogens included) as a 3D ``GraphStore``.

Targets (eV): ``U0`` is the atomization energy ``(U0 - Σ ref_Z)·Ha``, the target of GeoSSL and of
PyG ``QM9.y[:, 12]``; ``zpve`` is the zero-point vibrational energy (PyG ``y[:, 6]``). The split is
the fixed ``RandomState(42)`` permutation of GeoSSL's ``qm9_random_customized_01`` (identical to
MolPeg's ``QM93D.get_idx_split(seed=42)``): 110,000 / 10,000 / 10,831. Graphs carry no bonds; the
models build their interaction graph from the coordinates.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import torch

from benchmark.data.dataset import cached_store, file_sha256
from benchmark.data.graph_store import GraphStore
from benchmark.data.sources import DatasetSource, resolve_file
from benchmark.data.splits import Split

HARTREE_EV = 27.211386246
# QM9 atomref.txt, U0 of the isolated atoms (Hartree)
ATOM_REF_U0_HA = {1: -0.500273, 6: -37.846772, 7: -54.583861, 8: -75.064579, 9: -99.718730}
ELEMENT_Z = {"H": 1, "C": 6, "N": 7, "O": 8, "F": 9}
QM9_TARGETS = ("U0", "zpve")
QM9_SPLIT_SIZES = (110_000, 10_000, 10_831)
QM9_VARIANT = "correct"  # the 130,831 characterized molecules, not DimeNet's off-by-one npz

QM9_SOURCE = DatasetSource("qm9", "QM9 with B3LYP geometries (130,831 molecules, with H)", ("qm9_3d.csv.xz",),
                           None, lambda path, **_: None, "mae")


def parse_qm9(path: Path) -> GraphStore:
    """Parse ``qm9_3d.csv.xz`` (columns gdb_idx, smiles, elements, xyz, zpve, U0, ... in Hartree)."""
    df = pd.read_csv(path, usecols=["gdb_idx", "smiles", "n_atoms", "elements", "xyz", "zpve", "U0"])
    n_atoms = df["n_atoms"].to_numpy(np.int64)
    symbols = "".join(df["elements"])
    if len(symbols) != n_atoms.sum() or set(symbols) - set(ELEMENT_Z):
        raise ValueError(f"{path}: 'elements' must hold one of {sorted(ELEMENT_Z)} per atom, n_atoms in total")
    z = np.frombuffer(symbols.encode(), dtype=np.uint8)
    lookup = np.zeros(128, dtype=np.int64)
    for sym, num in ELEMENT_Z.items():
        lookup[ord(sym)] = num
    z = lookup[z]
    pos = np.array(" ".join(df["xyz"]).split(), dtype=np.float64).reshape(-1, 3)
    if len(pos) != len(z):
        raise ValueError(f"{path}: 'xyz' holds {len(pos)} coordinates for {len(z)} atoms")
    graph_of_atom = np.repeat(np.arange(len(df)), n_atoms)
    ref = np.zeros(10)
    for num, e in ATOM_REF_U0_HA.items():
        ref[num] = e
    ref_sum = np.bincount(graph_of_atom, weights=ref[z], minlength=len(df))
    y = np.stack([(df["U0"].to_numpy() - ref_sum) * HARTREE_EV, df["zpve"].to_numpy() * HARTREE_EV], axis=1)
    x = np.stack([z - 1, np.zeros_like(z)], axis=1)
    no_edges = torch.zeros(len(df) + 1, dtype=torch.long)
    return GraphStore(
        x=torch.from_numpy(x), edge_index=torch.zeros(2, 0, dtype=torch.long),
        edge_attr=torch.zeros(0, 2, dtype=torch.long),
        node_ptr=torch.from_numpy(np.concatenate([[0], np.cumsum(n_atoms)])), edge_ptr=no_edges,
        y=torch.as_tensor(y, dtype=torch.float32), smiles=df["smiles"].astype(str).tolist(),
        meta={"gdb_idx": df["gdb_idx"].to_numpy(np.int64).tolist(), "task_names": list(QM9_TARGETS),
              "units": "eV", "qm9_variant": QM9_VARIANT, "n_molecules": len(df), "metric": "mae"},
        pos=torch.as_tensor(pos, dtype=torch.float32),
    )


def load_qm9(data_dir: str | Path | None = None, cache_dir: str | Path | None = None) -> GraphStore:
    """QM9 as a 3D store with both targets (y [N, 2]: U0 atomization energy, ZPVE; eV), cached."""
    path = resolve_file(QM9_SOURCE, data_dir, cache_dir, download=False)
    digest = file_sha256(path)

    def build() -> GraphStore:
        store = parse_qm9(path)
        store.meta.update(dataset="qm9", source_file=str(path), source_sha256=digest, featurizer="qm9-z-pos-v1")
        return store

    return cached_store("qm9", digest, {"variant": QM9_VARIANT}, cache_dir, build)


def select_target(store: GraphStore, target: str) -> GraphStore:
    """The store with the single label column ``target`` (one of ``QM9_TARGETS``)."""
    names = store.meta.get("task_names", [])
    if target not in names:
        raise ValueError(f"unknown QM9 target {target!r}; expected one of {names}")
    column = names.index(target)
    return GraphStore(store.x, store.edge_index, store.edge_attr, store.node_ptr, store.edge_ptr,
                      store.y[:, column:column + 1].clone(), store.smiles,
                      dict(store.meta, task_names=[target], target=target), store.pos)


def qm9_split(n: int = sum(QM9_SPLIT_SIZES), seed: int = 42) -> Split:
    """The fixed split (independent of the run seed): ``RandomState(seed).permutation(n)`` cut at
    110,000 and 120,000. ``n`` other than 130,831 scales the cuts (tests, subsets)."""
    perm = np.random.RandomState(seed).permutation(n).astype(np.int64)
    full = sum(QM9_SPLIT_SIZES)
    n_train = QM9_SPLIT_SIZES[0] * n // full
    n_valid = QM9_SPLIT_SIZES[1] * n // full
    return Split(perm[:n_train], perm[n_train:n_train + n_valid], perm[n_train + n_valid:])


def standardisation(y_train: np.ndarray | torch.Tensor) -> tuple[float, float]:
    """Mean and unbiased standard deviation of the training targets (shared by every method)."""
    y = np.asarray(y_train, dtype=np.float64).reshape(-1)
    if len(y) < 2:
        raise ValueError(f"standardisation needs at least 2 training targets, got {len(y)}")
    return float(y.mean()), float(y.std(ddof=1))
