"""SMILES -> molecular graph with the featurization of Hu et al. (pretrain-gnns, ICLR 2020).

Node features (2 integers per atom): atom type = atomic number - 1 (0..117), with id 119 shared by
the mask token and any atom the vocabulary does not cover (dummy atoms, atomic number 0); chirality
tag (0 unspecified, 1 CW, 2 CCW; any other tag maps to 0, as the published embedding has 3 rows).
Edge features (2 integers per directed edge): bond type (0 single, 1 double, 2 triple, 3 aromatic;
4 is the self-loop id and 5 the mask id, both added by the model, never here; dative and other bond
types map to single), bond direction (0 none, 1 end-up-right, 2 end-down-right; others map to 0).

OGB's ``smiles2graph`` uses a different 9-feature scheme, so the Hu scheme is written here on RDKit.
SMILES that RDKit cannot sanitize are parsed with ``sanitize=False`` (as OGB keeps all 41,127 HIV
graphs) and counted; SMILES that cannot be parsed at all are skipped and counted by the caller.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from rdkit import Chem, RDLogger

FEATURIZER_VERSION = "hu2020-v1"

NUM_ATOM_TYPE = 120  # 118 elements + unknown + mask (ids 118 unused, 119 mask/unknown)
MASK_ATOM_ID = 119
NUM_CHIRALITY_TAG = 3
NUM_BOND_TYPE = 6  # single, double, triple, aromatic, self-loop (4), mask (5)
SELF_LOOP_BOND_ID = 4
MASK_BOND_ID = 5
NUM_BOND_DIRECTION = 3

_CHIRALITY = {
    Chem.rdchem.ChiralType.CHI_UNSPECIFIED: 0,
    Chem.rdchem.ChiralType.CHI_TETRAHEDRAL_CW: 1,
    Chem.rdchem.ChiralType.CHI_TETRAHEDRAL_CCW: 2,
}
_BOND_TYPE = {
    Chem.rdchem.BondType.SINGLE: 0,
    Chem.rdchem.BondType.DOUBLE: 1,
    Chem.rdchem.BondType.TRIPLE: 2,
    Chem.rdchem.BondType.AROMATIC: 3,
}
_BOND_DIR = {
    Chem.rdchem.BondDir.NONE: 0,
    Chem.rdchem.BondDir.ENDUPRIGHT: 1,
    Chem.rdchem.BondDir.ENDDOWNRIGHT: 2,
}


@dataclass(frozen=True)
class MolGraph:
    """One molecule: ``x`` [n_atoms, 2] int, ``edge_index`` [2, n_edges] int (both directions),
    ``edge_attr`` [n_edges, 2] int. ``sanitized`` is False for the sanitize=False fallback."""

    x: np.ndarray
    edge_index: np.ndarray
    edge_attr: np.ndarray
    sanitized: bool


def parse_smiles(smiles: str) -> tuple[Chem.Mol | None, bool]:
    """Parse with sanitization, falling back to ``sanitize=False``; returns (mol or None, sanitized)."""
    RDLogger.DisableLog("rdApp.*")
    try:
        mol = Chem.MolFromSmiles(smiles)
        if mol is not None:
            return mol, True
        mol = Chem.MolFromSmiles(smiles, sanitize=False)
        if mol is not None:
            mol.UpdatePropertyCache(strict=False)
        return mol, False
    finally:
        RDLogger.EnableLog("rdApp.*")


def mol_to_graph(mol: Chem.Mol, sanitized: bool = True) -> MolGraph:
    """Featurize an RDKit molecule with the Hu et al. scheme."""
    x = np.empty((mol.GetNumAtoms(), 2), dtype=np.int64)
    for i, atom in enumerate(mol.GetAtoms()):
        z = atom.GetAtomicNum()
        x[i, 0] = z - 1 if 1 <= z <= 118 else MASK_ATOM_ID
        x[i, 1] = _CHIRALITY.get(atom.GetChiralTag(), 0)
    n_bonds = mol.GetNumBonds()
    edge_index = np.empty((2, 2 * n_bonds), dtype=np.int64)
    edge_attr = np.empty((2 * n_bonds, 2), dtype=np.int64)
    for j, bond in enumerate(mol.GetBonds()):
        a, b = bond.GetBeginAtomIdx(), bond.GetEndAtomIdx()
        feat = (_BOND_TYPE.get(bond.GetBondType(), 0), _BOND_DIR.get(bond.GetBondDir(), 0))
        edge_index[:, 2 * j] = (a, b)
        edge_index[:, 2 * j + 1] = (b, a)
        edge_attr[2 * j] = feat
        edge_attr[2 * j + 1] = feat
    return MolGraph(x=x, edge_index=edge_index, edge_attr=edge_attr, sanitized=sanitized)


def smiles_to_graph(smiles: str, hydrogens: bool = False) -> MolGraph | None:
    """Featurize one SMILES; None when RDKit cannot parse it even without sanitization. ``hydrogens``
    adds explicit H atoms after the heavy atoms (``Chem.AddHs``; None when RDKit cannot add them)."""
    mol, sanitized = parse_smiles(smiles)
    if mol is None or mol.GetNumAtoms() == 0:
        return None
    if hydrogens:
        try:
            mol = Chem.AddHs(mol)
        except Exception:  # RDKit raises on exotic valences of unsanitized molecules
            return None
    return mol_to_graph(mol, sanitized)
