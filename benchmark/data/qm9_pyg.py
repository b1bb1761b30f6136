"""PyG's ``torch_geometric.datasets.QM9`` root as a QM9 source (``benchmark.data.qm9``, source ``pyg``).

Read here rather than through ``QM9(root)``: that class downloads whatever raw file is missing and
processes into a PyG-version-specific pickle, while a run only needs Z, positions and two targets from
the files the user already has. Both of PyG's raw forms are read: ``gdb9.sdf`` + ``gdb9.sdf.csv`` +
``uncharacterized.txt`` (what PyG downloads with RDKit installed) and the preprocessed ``qm9_v3.pt``
(without RDKit).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from molpeg_bench.benchmark.data.graph_store import GraphStore
from molpeg_bench.benchmark.data.qm9_base import HARTREE_EV, Qm9Files, atomization_energy_ev, check_elements, qm9_store
from molpeg_bench.benchmark.data.sources import read_table

PYG_RAW_FILES = ("gdb9.sdf", "gdb9.sdf.csv", "uncharacterized.txt")
PYG_PROCESSED_FILE = "qm9_v3.pt"
PYG_U0_ATOM, PYG_ZPVE = 12, 6  # columns of PyG's QM9.y (19 targets, eV)
NO_SMILES = "<no SMILES>"
_GDB_NAME = re.compile(r"gdb_(\d+)")


def read_uncharacterized(path: Path) -> set[int]:
    """0-based indices of QM9's ``uncharacterized.txt`` (1-based indices, one per line, after a header).
    PyG reads lines ``[9:-2]``; this reads every line that starts with an index: the same 3,054 on QM9's
    file, and also a copy with another number of header lines."""
    text = Path(path).read_text(errors="replace")
    indices = [int(line.split()[0]) - 1 for line in text.split("\n") if line.split() and line.split()[0].isdigit()]
    if not indices:
        raise ValueError(f"{path}: no molecule index found; expected QM9's uncharacterized.txt (a header, then "
                         "one line per molecule starting with its 1-based index)")
    return set(indices)


def _sdf_smiles(mol) -> str:
    """RDKit's SMILES of a molecule read unsanitized (heavy atoms, no stereo); ``NO_SMILES`` when it does
    not sanitize."""
    from rdkit import Chem

    try:
        copy = Chem.Mol(mol)
        Chem.SanitizeMol(copy)
        return Chem.MolToSmiles(Chem.RemoveHs(copy), isomericSmiles=False)
    except Exception:  # RDKit's sanitization errors
        return NO_SMILES


def _check_gdb_names(names: Sequence[object], gdb_idx: np.ndarray, path: Path, what: str) -> None:
    """Names of the form ``gdb_<n>`` (csv ``mol_id``, PyG ``name``) must agree with the index; others are
    not checked."""
    for name, idx in zip(names, gdb_idx, strict=True):
        match = _GDB_NAME.fullmatch(str(name))
        if match and int(match.group(1)) != idx:
            raise ValueError(f"{path}: {what} {name!r} at QM9 index {idx}; expected gdb_{idx} (molecules in "
                             "QM9 order)")


def parse_pyg_raw(sdf: Path, csv: Path, uncharacterized: Path) -> GraphStore:
    """PyG's raw QM9 (``gdb9.sdf``, ``gdb9.sdf.csv``, ``uncharacterized.txt``), as ``QM9.process`` reads it."""
    from rdkit import Chem, RDLogger

    table = read_table(csv)
    missing = [c for c in ("zpve", "u0") if c not in table.columns]
    if missing:
        raise ValueError(f"{csv}: expected columns {missing} (Hartree) not found; columns are {list(table.columns)}")
    skip = read_uncharacterized(uncharacterized)
    supplier = Chem.SDMolSupplier(str(sdf), removeHs=False, sanitize=False)
    n_total = len(supplier)
    if n_total != len(table):
        raise ValueError(f"{sdf}: {n_total} molecules but {csv} has {len(table)} rows; expected one row per "
                         "molecule, in the same order")
    if max(skip) >= n_total:
        raise ValueError(f"{uncharacterized}: index {max(skip) + 1} beyond the {n_total} molecules of {sdf}")
    kept, z, pos, n_atoms, smiles = [], [], [], [], []
    RDLogger.DisableLog("rdApp.*")
    try:
        for i, mol in enumerate(supplier):
            if i in skip:
                continue
            if mol is None or mol.GetNumConformers() == 0:
                raise ValueError(f"{sdf}: molecule {i + 1} could not be read; expected a molblock with 3D coordinates")
            kept.append(i)
            z.append(np.array([atom.GetAtomicNum() for atom in mol.GetAtoms()], dtype=np.int64))
            pos.append(mol.GetConformer().GetPositions())
            n_atoms.append(mol.GetNumAtoms())
            smiles.append(_sdf_smiles(mol))
    finally:
        RDLogger.EnableLog("rdApp.*")
    if not kept:
        raise ValueError(f"{uncharacterized}: lists every molecule of {sdf}; expected some to keep")
    z_all = np.concatenate(z)
    check_elements(z_all, sdf)
    n_atoms = np.asarray(n_atoms, dtype=np.int64)
    rows = table.iloc[kept]
    gdb_idx = np.asarray(kept, dtype=np.int64) + 1
    if "mol_id" in rows.columns:
        _check_gdb_names(rows["mol_id"].tolist(), gdb_idx, csv, "mol_id")
    u0, zpve = (pd.to_numeric(rows[c], errors="coerce").to_numpy(np.float64) for c in ("u0", "zpve"))
    if np.isnan(u0).any() or np.isnan(zpve).any():
        raise ValueError(f"{csv}: non-numeric u0 or zpve; expected energies in Hartree")
    return qm9_store(z_all, np.concatenate(pos), n_atoms, atomization_energy_ev(z_all, n_atoms, u0),
                     zpve * HARTREE_EV, gdb_idx, smiles,
                     {"n_skipped_uncharacterized": n_total - len(kept), "n_without_smiles": smiles.count(NO_SMILES)})


def parse_pyg_processed(path: Path) -> GraphStore:
    """PyG's preprocessed QM9 (``qm9_v3.pt``: one dict per molecule with ``z``, ``pos``, ``y`` [1, 19] in PyG's
    units, ``idx`` (0-based SDF index), ``name``), loaded as PyG's ``fs.torch_load`` does."""
    try:
        data = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # truncated, not a torch file, foreign pickles
        raise ValueError(f"{path}: not readable by torch.load ({exc}); expected PyG's qm9_v3.pt") from None
    if not isinstance(data, list) or not data or not all(isinstance(d, dict) for d in data):
        raise ValueError(f"{path}: expected a non-empty list of dicts (PyG's qm9_v3.pt), got {type(data).__name__}")
    missing = sorted({"z", "pos", "y", "idx"} - set(data[0]))
    if missing:
        raise ValueError(f"{path}: the molecules lack keys {missing}; keys are {sorted(data[0])}")
    z = [np.asarray(d["z"], dtype=np.int64).reshape(-1) for d in data]
    n_atoms = np.array([len(a) for a in z], dtype=np.int64)
    pos = np.concatenate([np.asarray(d["pos"], dtype=np.float64).reshape(-1, 3) for d in data])
    z_all = np.concatenate(z)
    if len(pos) != len(z_all):
        raise ValueError(f"{path}: {len(pos)} positions for {len(z_all)} atoms")
    check_elements(z_all, path)
    y = np.stack([np.asarray(d["y"], dtype=np.float64).reshape(-1) for d in data])
    if y.shape[1] != 19:
        raise ValueError(f"{path}: y has {y.shape[1]} targets per molecule; expected PyG's 19")
    gdb_idx = np.array([int(d["idx"]) for d in data], dtype=np.int64) + 1
    if "name" in data[0]:
        _check_gdb_names([d.get("name") for d in data], gdb_idx, path, "name")
    smiles = [d["smiles"] if isinstance(d.get("smiles"), str) else NO_SMILES for d in data]
    return qm9_store(z_all, pos, n_atoms, y[:, PYG_U0_ATOM], y[:, PYG_ZPVE], gdb_idx, smiles,
                     {"n_without_smiles": smiles.count(NO_SMILES)})


def pyg_files(root: str | Path) -> Qm9Files:
    """The files of a PyG QM9 root: the raw layout (read with RDKit, as PyG does when it is installed), else
    the preprocessed ``qm9_v3.pt``."""
    raw = Path(root) / "raw"
    paths = tuple(raw / name for name in PYG_RAW_FILES)
    if all(p.is_file() for p in paths):
        return Qm9Files("pyg-raw", paths)
    if (raw / PYG_PROCESSED_FILE).is_file():
        return Qm9Files("pyg-processed", (raw / PYG_PROCESSED_FILE,))
    present = [p.name for p in paths if p.is_file()]
    lacks = f" (it has {', '.join(present)} but lacks the rest)" if present else ""
    raise FileNotFoundError(f"PyG QM9 root {root}: expected {raw} to hold {', '.join(PYG_RAW_FILES)} (PyG's raw "
                            f"QM9) or {PYG_PROCESSED_FILE} (PyG's preprocessed QM9){lacks}")
