"""RDKit conformers for a SMILES dataset (HIV-3D): heavy-atom coordinates aligned with the 2D graphs.

Each molecule is embedded from the same RDKit mol the 2D featurizer uses, with hydrogens added for the
embedding (RDKit appends them after the heavy atoms, so the first n rows are the heavy atoms; this is
checked). Modes: ``etkdg_mmff`` (ETKDGv3, then MMFF94 with 200 iterations when MMFF has all
parameters), ``etkdg``, and ``gem_mmff10`` (10 conformers, all MMFF-optimised, the lowest energy kept:
the PaddleHelix GEM recipe of the official HIV-3D pickle). Failure cascade, the tier of each molecule
recorded: 1 ETKDGv3; 2 the same with random initial coordinates; 3 ``Compute2DCoords`` (z = 0).
Molecules with more than ``MAX_ATOMS_3D`` atoms including H go straight to tier 3; every embedding
attempt has a wall-clock timeout.
"""

from __future__ import annotations

import logging
import multiprocessing
import sys
from collections import Counter
from dataclasses import dataclass

import numpy as np
import rdkit
from rdkit import Chem, RDLogger
from rdkit.Chem import AllChem, rdDepictor, rdDistGeom
from tqdm.auto import tqdm

from molpeg_bench.benchmark.data.featurize import parse_smiles

log = logging.getLogger(__name__)

CONFORMER_MODES = ("etkdg_mmff", "etkdg", "gem_mmff10")
FAILURE_POLICIES = ("2d", "drop")
MAX_ATOMS_3D = 400
TIER_NAMES = {1: "etkdg", 2: "etkdg_random_coords", 3: "2d_coords"}


@dataclass(frozen=True)
class ConformerOptions:
    mode: str = "etkdg_mmff"
    seed: int = 42
    timeout_s: int = 30  # per embedding attempt, then the next tier
    mmff_max_iters: int = 200

    def __post_init__(self) -> None:
        if self.mode not in CONFORMER_MODES:
            raise ValueError(f"conformer mode must be one of {CONFORMER_MODES}, got {self.mode!r}")

    def cache_options(self) -> dict:
        return {"conformer_mode": self.mode, "conformer_seed": self.seed, "rdkit": rdkit.__version__,
                "timeout_s": self.timeout_s, "mmff_max_iters": self.mmff_max_iters}


DEFAULT_CONFORMERS = ConformerOptions()


def _embed_params(options: ConformerOptions, random_coords: bool) -> rdDistGeom.EmbedParameters:
    params = rdDistGeom.ETKDGv3()
    params.randomSeed = options.seed
    params.numThreads = 1
    params.timeout = options.timeout_s
    params.useRandomCoords = random_coords
    return params


def _embed_3d(mol_h: Chem.Mol, options: ConformerOptions, random_coords: bool) -> int | None:
    """Embed ``mol_h`` in place; the id of the conformer to keep, or None when embedding failed."""
    params = _embed_params(options, random_coords)
    if options.mode == "gem_mmff10":
        ids = list(rdDistGeom.EmbedMultipleConfs(mol_h, 10, params))
        if not ids:
            return None
        if not AllChem.MMFFHasAllMoleculeParams(mol_h):
            return ids[0]
        energies = AllChem.MMFFOptimizeMoleculeConfs(mol_h, numThreads=1, maxIters=options.mmff_max_iters)
        return ids[int(np.argmin([e for _, e in energies]))]
    if rdDistGeom.EmbedMolecule(mol_h, params) != 0:
        return None
    if options.mode == "etkdg_mmff" and AllChem.MMFFHasAllMoleculeParams(mol_h):
        AllChem.MMFFOptimizeMolecule(mol_h, maxIters=options.mmff_max_iters)
    return mol_h.GetConformer().GetId()


def _kept_positions(mol: Chem.Mol, mol_h: Chem.Mol, conf_id: int, hydrogens: bool) -> np.ndarray:
    """All atoms of ``mol_h`` when ``hydrogens``, else its first ``mol.GetNumAtoms()`` (the heavy atoms)."""
    n = mol_h.GetNumAtoms() if hydrogens else mol.GetNumAtoms()
    for i in range(mol.GetNumAtoms()):
        if mol_h.GetAtomWithIdx(i).GetAtomicNum() != mol.GetAtomWithIdx(i).GetAtomicNum():
            raise RuntimeError("AddHs changed the heavy-atom order")
    return np.asarray(mol_h.GetConformer(conf_id).GetPositions()[:n], dtype=np.float32)


def _coords_2d(mol: Chem.Mol) -> np.ndarray:
    mol = Chem.Mol(mol)
    rdDepictor.Compute2DCoords(mol)
    pos = np.asarray(mol.GetConformer().GetPositions(), dtype=np.float32)
    pos[:, 2] = 0.0
    return pos


def molecule_conformer(smiles: str, options: ConformerOptions = DEFAULT_CONFORMERS,
                       hydrogens: bool = False) -> tuple[np.ndarray, int]:
    """Coordinates [n, 3] (Å) of ``smiles`` and the cascade tier that produced them: of the heavy atoms
    of the 2D featurizer's mol, or with ``hydrogens`` of all atoms of ``Chem.AddHs`` of it."""
    mol, sanitized = parse_smiles(smiles)
    if mol is None or mol.GetNumAtoms() == 0:
        raise ValueError(f"SMILES {smiles!r} cannot be parsed; expected a molecule the 2D featurizer keeps")
    RDLogger.DisableLog("rdApp.*")
    try:
        if not sanitized:
            Chem.GetSymmSSSR(mol)
        try:
            mol_h = Chem.AddHs(mol)
        except Exception:  # RDKit raises on exotic valences of unsanitized molecules
            if hydrogens:
                raise ValueError(f"SMILES {smiles!r}: RDKit cannot add hydrogens") from None
            return _coords_2d(mol), 3
        flat = mol_h if hydrogens else mol
        if mol_h.GetNumAtoms() > MAX_ATOMS_3D:
            return _coords_2d(flat), 3
        for tier, random_coords in ((1, False), (2, True)):
            try:
                conf_id = _embed_3d(mol_h, options, random_coords)
            except Exception:  # force-field or embedding errors: next tier
                conf_id = None
            if conf_id is not None:
                return _kept_positions(mol, mol_h, conf_id, hydrogens), tier
            mol_h.RemoveAllConformers()
        return _coords_2d(flat), 3
    finally:
        RDLogger.EnableLog("rdApp.*")


def _worker(args: tuple[str, ConformerOptions, bool]) -> tuple[np.ndarray, int]:
    return molecule_conformer(*args)


def generate_conformers(smiles: list[str], options: ConformerOptions = DEFAULT_CONFORMERS,
                        processes: int = 1, desc: str = "conformers",
                        hydrogens: bool = False) -> tuple[list[np.ndarray], np.ndarray]:
    """Conformers of every SMILES (in order) and their tiers; ``processes`` > 1 spreads the molecules
    over a process pool (the result does not depend on it: every molecule has its own seed)."""
    jobs = [(s, options, hydrogens) for s in smiles]
    bar = dict(total=len(jobs), desc=desc, disable=not sys.stderr.isatty(), mininterval=2)
    if processes > 1:
        with multiprocessing.get_context("spawn").Pool(processes) as pool:
            results = list(tqdm(pool.imap(_worker, jobs, chunksize=16), **bar))
    else:
        results = [_worker(job) for job in tqdm(jobs, **bar)]
    tiers = np.array([t for _, t in results], dtype=np.int8)
    return [p for p, _ in results], tiers


def tier_counts(tiers: np.ndarray) -> dict[str, int]:
    counts = Counter(int(t) for t in tiers)
    return {TIER_NAMES[t]: counts.get(t, 0) for t in TIER_NAMES}
