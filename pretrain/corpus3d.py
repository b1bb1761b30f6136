"""3D pretraining corpora: a SMILES corpus (see ``pretrain.corpus``) with RDKit conformers, cached.

The DFT geometries of PCQM4Mv2 are the paper's corpus; without them MOSES molecules get conformers
(``benchmark.data.conformers``) as the labelled stand-in. ``hydrogens=True`` keeps explicit H atoms
(for PaiNN, fine-tuned on QM9 with H), False heavy atoms only (SchNet, HIV-3D). Molecules whose
embedding falls back to 2D coordinates are dropped: flat geometries teach no distances.
"""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np

from benchmark.data.conformers import ConformerOptions
from benchmark.data.dataset import cached_store, featurize_smiles, file_sha256
from benchmark.data.featurize import smiles_to_graph
from benchmark.data.graph_store import GraphStore
from benchmark.data.hiv3d import add_conformers
from pretrain.corpus import resolve_corpus, subsample_rows


def load_corpus_3d(spec: str, max_molecules: int | None, seed: int, hydrogens: bool, conformers: ConformerOptions,
                   processes: int = 1, data_dir: str | Path | None = None,
                   cache_dir: str | Path | None = None) -> GraphStore:
    """The corpus ``spec`` (``max_molecules`` rows drawn with ``seed``) with conformer coordinates."""
    corpus = resolve_corpus(spec, data_dir, cache_dir, download=False)
    digest = file_sha256(corpus.path)
    options = {"max_molecules": max_molecules, "subsample_seed": None if max_molecules is None else seed,
               "hydrogens": hydrogens, **conformers.cache_options()}

    def build() -> GraphStore:
        smiles = corpus.read(corpus.path)
        rows = subsample_rows(len(smiles), max_molecules, seed)
        meta = dict(options, corpus=corpus.name, source_file=str(corpus.path), source_sha256=digest,
                    rows_in_file=len(smiles))
        if rows is not None:
            smiles = [smiles[i] for i in rows]
        to_graph = functools.partial(smiles_to_graph, hydrogens=hydrogens)
        store = featurize_smiles(smiles, np.zeros((len(smiles), 0), np.float32), meta,
                                 desc=f"featurize {corpus.name}", to_graph=to_graph)
        return add_conformers(store, conformers, "drop", processes, hydrogens)

    return cached_store(f"corpus3d-{corpus.name}", digest, options, cache_dir, build)
