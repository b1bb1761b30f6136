"""Train/validation/test splits: seeded random 80/10/10 (the paper's) and Bemis-Murcko scaffold."""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from rdkit import Chem, RDLogger
from rdkit.Chem.Scaffolds import MurckoScaffold


@dataclass(frozen=True)
class Split:
    train: np.ndarray
    valid: np.ndarray
    test: np.ndarray

    def sizes(self) -> dict[str, int]:
        return {"train": len(self.train), "valid": len(self.valid), "test": len(self.test)}


def random_split(n: int, seed: int = 42, frac_train: float = 0.8, frac_valid: float = 0.1) -> Split:
    """As the official MolPeg code: ``random.shuffle`` of all indices seeded with ``seed``, cut points
    ``int(0.8 n)`` and ``int(0.1 n)`` (HIV: 32,901 / 4,112 / 4,114 with seed 42)."""
    order = list(range(n))
    random.Random(seed).shuffle(order)
    n_train, n_valid = int(frac_train * n), int(frac_valid * n)
    arr = np.asarray(order, dtype=np.int64)
    return Split(arr[:n_train], arr[n_train:n_train + n_valid], arr[n_train + n_valid:])


def murcko_scaffold(smiles: str) -> str:
    """Bemis-Murcko scaffold with chirality; '' for acyclic or unparsable molecules."""
    RDLogger.DisableLog("rdApp.*")
    try:
        mol = Chem.MolFromSmiles(smiles)
        if mol is None:
            return ""
        return MurckoScaffold.MurckoScaffoldSmiles(mol=mol, includeChirality=True)
    except Exception:  # RDKit raises on some exotic valences
        return ""
    finally:
        RDLogger.EnableLog("rdApp.*")


def scaffold_split(smiles: Sequence[str], frac_train: float = 0.8, frac_valid: float = 0.1) -> Split:
    """Deterministic scaffold split of Hu et al. / OGB: scaffold sets sorted by (size, index of their
    first molecule), descending — largest first; among equal sizes the set that first occurs later goes
    first, as Hu et al.'s ``sorted(..., key=(len, first index), reverse=True)`` — fill train, then
    valid, then test."""
    groups: dict[str, list[int]] = defaultdict(list)
    for i, s in enumerate(smiles):
        groups[murcko_scaffold(s)].append(i)
    ordered = sorted(groups.values(), key=lambda g: (len(g), g[0]), reverse=True)
    n = len(smiles)
    cut_train, cut_valid = frac_train * n, (frac_train + frac_valid) * n
    train: list[int] = []
    valid: list[int] = []
    test: list[int] = []
    for group in ordered:
        if len(train) + len(group) <= cut_train:
            train += group
        elif len(train) + len(valid) + len(group) <= cut_valid:
            valid += group
        else:
            test += group
    return Split(*(np.asarray(sorted(p), dtype=np.int64) for p in (train, valid, test)))


def make_split(kind: str, smiles: Sequence[str], seed: int = 42, name: str = "the data") -> Split:
    """The ``kind`` split of ``smiles``; a ValueError naming ``name`` when a part would be empty."""
    if kind == "random":
        split = random_split(len(smiles), seed)
    elif kind == "scaffold":
        split = scaffold_split(smiles)
    else:
        raise ValueError(f"unknown split {kind!r}; expected 'random' or 'scaffold'")
    if min(split.sizes().values()) == 0:
        sizes = ", ".join(f"{k} {v}" for k, v in split.sizes().items())
        raise ValueError(f"{name}: {len(smiles)} molecules are too few for a {kind} 80/10/10 split (it gives "
                         f"{sizes}); every part needs at least one molecule")
    return split
