"""The QM9 building blocks every QM9 reader shares: units and atom references, the store layout, the
element check and the files a store is built from (``Qm9Files``). The CSV reader and the source
resolution are in ``benchmark.data.qm9``, PyG's readers in ``benchmark.data.qm9_pyg``; both import this."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from molpeg_bench.benchmark.data.graph_store import GraphStore
from molpeg_bench.fileio.checksums import file_sha256

HARTREE_EV = 27.211386246
# QM9 atomref.txt, U0 of the isolated atoms (Hartree)
ATOM_REF_U0_HA = {1: -0.500273, 6: -37.846772, 7: -54.583861, 8: -75.064579, 9: -99.718730}
ELEMENT_Z = {"H": 1, "C": 6, "N": 7, "O": 8, "F": 9}
QM9_TARGETS = ("U0", "zpve")
QM9_SPLIT_SIZES = (110_000, 10_000, 10_831)
QM9_VARIANT = "correct"  # the 130,831 characterized molecules, not DimeNet's off-by-one npz
QM9_FEATURIZER = "qm9-z-pos-v1"


def qm9_store(z: np.ndarray, pos: np.ndarray, n_atoms: np.ndarray, u0_ev: np.ndarray, zpve_ev: np.ndarray,
              gdb_idx: Sequence[int], smiles: list[str], meta: dict | None = None) -> GraphStore:
    """The store of every source: atoms (Z, positions in Å) in molecule order, ``n_atoms`` per molecule,
    the two targets in eV."""
    n = len(n_atoms)
    x = np.stack([z - 1, np.zeros_like(z)], axis=1)
    no_edges = torch.zeros(n + 1, dtype=torch.long)
    return GraphStore(
        x=torch.from_numpy(x), edge_index=torch.zeros(2, 0, dtype=torch.long),
        edge_attr=torch.zeros(0, 2, dtype=torch.long),
        node_ptr=torch.from_numpy(np.concatenate([[0], np.cumsum(n_atoms)])), edge_ptr=no_edges,
        y=torch.as_tensor(np.stack([u0_ev, zpve_ev], axis=1), dtype=torch.float32), smiles=smiles,
        meta={"gdb_idx": [int(i) for i in gdb_idx], "task_names": list(QM9_TARGETS), "units": "eV",
              "qm9_variant": QM9_VARIANT, "n_molecules": n, "metric": "mae", **(meta or {})},
        pos=torch.as_tensor(pos, dtype=torch.float32),
    )


def atomization_energy_ev(z: np.ndarray, n_atoms: np.ndarray, u0_ha: np.ndarray) -> np.ndarray:
    """``(U0 - Σ ref_Z)·Ha`` per molecule from the total U0 (Hartree)."""
    ref = np.zeros(10)
    for num, e in ATOM_REF_U0_HA.items():
        ref[num] = e
    graph_of_atom = np.repeat(np.arange(len(n_atoms)), n_atoms)
    ref_sum = np.bincount(graph_of_atom, weights=ref[z], minlength=len(n_atoms))
    return (u0_ha - ref_sum) * HARTREE_EV


def check_elements(z: np.ndarray, path: Path) -> None:
    unknown = sorted(set(np.unique(z).tolist()) - set(ELEMENT_Z.values()))
    if unknown:
        raise ValueError(f"{path}: atomic numbers {unknown} found; QM9 holds only {sorted(ELEMENT_Z.values())}")


@dataclass(frozen=True)
class Qm9Files:
    """The files a QM9 store is built from; ``kind`` is ``csv``, ``pyg-raw`` or ``pyg-processed``."""

    kind: str
    paths: tuple[Path, ...]

    def sha256(self) -> str:
        """The CSV's own sha256; for a PyG root, the sha256 over the names and sha256 of its files."""
        if self.kind == "csv":
            return file_sha256(self.paths[0])
        text = "".join(f"{p.name} {file_sha256(p)}\n" for p in self.paths)
        return hashlib.sha256(text.encode()).hexdigest()
