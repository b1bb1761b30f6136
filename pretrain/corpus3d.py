"""3D pretraining corpora, cached: PCQM4Mv2's DFT geometries when supplied, else a SMILES corpus (see
``pretrain.corpus``) with RDKit conformers.

The DFT geometries of PCQM4Mv2 (OGB-LSC ``pcqm4m-v2-train.sdf``, read with RDKit's ``SDMolSupplier``)
are the paper's corpus; without them MOSES molecules get conformers (``benchmark.data.conformers``) as
the labelled stand-in; spec ``auto`` picks the SDF when it is in the data directory. ``hydrogens=True``
keeps explicit H atoms (for PaiNN, fine-tuned on QM9 with H), False heavy atoms only (SchNet, HIV-3D).
Molecules whose embedding falls back to 2D coordinates are dropped: flat geometries teach no distances.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

import numpy as np
from rdkit import Chem

from molpeg_bench.benchmark.data.conformers import ConformerOptions
from molpeg_bench.benchmark.data.dataset import cached_store, featurize_smiles, file_sha256
from molpeg_bench.benchmark.data.featurize import mol_to_graph, smiles_to_graph
from molpeg_bench.benchmark.data.graph_store import GraphStore
from molpeg_bench.benchmark.data.hiv3d import add_conformers
from molpeg_bench.benchmark.data.sources import DATA_DIR_ENV
from molpeg_bench.pretrain.corpus import corpus_smiles, resolve_corpus, subsample_rows

PCQM4MV2_SDF = "pcqm4m-v2-train.sdf"


def find_pcqm4mv2_sdf(data_dir: str | Path | None) -> Path | None:
    data_dir = data_dir or os.environ.get(DATA_DIR_ENV)
    if not data_dir:
        return None
    for candidate in (Path(data_dir) / PCQM4MV2_SDF, Path(data_dir) / "pcqm4m-v2" / PCQM4MV2_SDF):
        if candidate.is_file():
            return candidate
    return None


def read_sdf_store(path: Path, max_molecules: int | None, seed: int, hydrogens: bool, meta: dict) -> GraphStore:
    """Graphs and coordinates of the molecules of an SDF (``max_molecules`` drawn with ``seed``)."""
    supplier = Chem.SDMolSupplier(str(path), removeHs=not hydrogens)
    rows = subsample_rows(len(supplier), max_molecules, seed)
    graphs, positions, smiles = [], [], []
    for i in range(len(supplier)) if rows is None else rows:
        mol = supplier[int(i)]
        if mol is None or mol.GetNumAtoms() == 0:
            continue
        graphs.append(mol_to_graph(mol))
        positions.append(np.asarray(mol.GetConformer().GetPositions(), dtype=np.float32))
        smiles.append(Chem.MolToSmiles(mol))
    meta = dict(meta, rows_in_file=len(supplier), n_molecules=len(graphs), conformer_mode="dft (sdf)",
                n_skipped_unparsable=(len(supplier) if rows is None else len(rows)) - len(graphs))
    store = GraphStore.from_graphs(graphs, np.zeros((len(graphs), 0), np.float32), smiles, meta)
    return store.with_positions(np.concatenate(positions) if positions else np.zeros((0, 3)))


def load_corpus_3d(spec: str, max_molecules: int | None, seed: int, hydrogens: bool, conformers: ConformerOptions,
                   processes: int = 1, data_dir: str | Path | None = None,
                   cache_dir: str | Path | None = None) -> GraphStore:
    """The corpus ``spec`` (``max_molecules`` rows drawn with ``seed``) with 3D coordinates."""
    sdf = find_pcqm4mv2_sdf(data_dir) if spec in ("auto", "pcqm4mv2") else None
    if spec == "pcqm4mv2" and sdf is None:
        raise FileNotFoundError(f"corpus 'pcqm4mv2' (3D) not found: put {PCQM4MV2_SDF} into the data directory "
                                f"(--data-dir or ${DATA_DIR_ENV})")
    if sdf is not None:
        digest = file_sha256(sdf)
        options = {"max_molecules": max_molecules, "subsample_seed": seed, "hydrogens": hydrogens}
        meta = dict(options, corpus="pcqm4mv2", source_file=str(sdf), source_sha256=digest)
        return cached_store("corpus3d-pcqm4mv2", digest, options, cache_dir,
                            lambda: read_sdf_store(sdf, max_molecules, seed, hydrogens, meta))
    spec = "moses" if spec == "auto" else spec
    corpus = resolve_corpus(spec, data_dir, cache_dir, download=False)
    digest = file_sha256(corpus.path)
    options = {"max_molecules": max_molecules, "subsample_seed": None if max_molecules is None else seed,
               "hydrogens": hydrogens, **conformers.cache_options()}

    def build() -> GraphStore:
        smiles, meta = corpus_smiles(corpus, digest, max_molecules, seed, options)
        to_graph = functools.partial(smiles_to_graph, hydrogens=hydrogens)
        store = featurize_smiles(smiles, np.zeros((len(smiles), 0), np.float32), meta,
                                 desc=f"featurize {corpus.name}", to_graph=to_graph)
        return add_conformers(store, conformers, "drop", processes, hydrogens)

    return cached_store(f"corpus3d-{corpus.name}", digest, options, cache_dir, build)
