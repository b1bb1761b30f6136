"""Pretraining corpora as unlabelled ``GraphStore``s, featurized once and cached on disk.

A corpus is named by a spec: ``nci`` (RDKit's bundled ``Data/NCI/first_5K.smi``, the offline
default), ``moses`` (``moses_train.csv.gz`` in the data directory, the stand-in for PCQM4Mv2 here),
``pcqm4mv2`` (OGB-LSC, see ``pretrain.pcqm4mv2``) or ``smiles:PATH`` (any ``.csv``, ``.csv.gz`` or
``.smi`` file). ``max_molecules`` draws that many rows with ``seed`` *before* featurizing. The cache
file lies beside the fine-tuning datasets' (``<cache dir>/graphs/``), keyed like them by the file's
sha256, the featurizer version and the options (subsample size and seed).
"""

from __future__ import annotations

import gzip
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from molpeg_bench.benchmark.data.dataset import cached_store, featurize_smiles, file_sha256
from molpeg_bench.benchmark.data.graph_store import GraphStore
from molpeg_bench.benchmark.data.sources import DATA_DIR_ENV, default_cache_dir
from molpeg_bench.pretrain.pcqm4mv2 import read_pcqm4mv2, resolve_pcqm4mv2

log = logging.getLogger(__name__)

CORPUS_SPECS = ("nci", "moses", "pcqm4mv2", "smiles:PATH")
MOSES_FILE = "moses_train.csv.gz"


def nci_smiles_file() -> Path:
    import rdkit

    return Path(rdkit.__file__).parent / "Data" / "NCI" / "first_5K.smi"


def read_smiles_file(path: str | Path) -> list[str]:
    """SMILES of a ``.smi`` file (first whitespace-separated token per line; an optional header whose
    first token is ``smiles``; ``#`` comments) or of a CSV (column ``smiles`` in any case, else the
    first column; gzip inferred from ``.gz``)."""
    path = Path(path)
    if path.name.lower().endswith((".smi", ".smi.gz")):
        opener = gzip.open if path.suffix.lower() == ".gz" else open
        with opener(path, "rt") as f:
            tokens = [line.split(maxsplit=1)[0] for line in f if line.strip() and not line.startswith("#")]
        return tokens[1:] if tokens and tokens[0].lower() == "smiles" else tokens
    df = pd.read_csv(path)
    column = next((c for c in df.columns if str(c).lower() == "smiles"), df.columns[0])
    return df[column].dropna().astype(str).tolist()


@dataclass(frozen=True)
class CorpusFile:
    name: str
    path: Path
    read: Callable[[Path], list[str]]


def resolve_corpus(spec: str, data_dir: str | Path | None = None, cache_dir: str | Path | None = None,
                   download: bool = True) -> CorpusFile:
    """The file behind a corpus spec (see the module docstring); raise naming what to put where."""
    if spec == "nci":
        return CorpusFile("nci", nci_smiles_file(), read_smiles_file)
    if spec.startswith("smiles:"):
        path = Path(spec.removeprefix("smiles:")).expanduser()
        if not path.is_file():
            raise FileNotFoundError(f"corpus file {path} does not exist")
        return CorpusFile(path.name.split(".")[0], path, read_smiles_file)
    data_dir = data_dir or os.environ.get(DATA_DIR_ENV)
    roots = [Path(data_dir)] if data_dir else []
    raw_dir = Path(cache_dir or default_cache_dir()) / "raw"
    if spec == "moses":
        for folder in [*roots, raw_dir]:
            if (folder / MOSES_FILE).is_file():
                return CorpusFile("moses", folder / MOSES_FILE, read_smiles_file)
        raise FileNotFoundError(
            f"corpus 'moses' not found: put {MOSES_FILE} (the MOSES train split, shipped in the molsets "
            f"package) into {data_dir or f'a directory named by ${DATA_DIR_ENV} (or --data-dir)'} or "
            f"{raw_dir}, or pass --corpus smiles:PATH")
    if spec == "pcqm4mv2":
        return CorpusFile("pcqm4mv2", resolve_pcqm4mv2(roots, raw_dir, download), read_pcqm4mv2)
    raise ValueError(f"unknown corpus {spec!r}; expected one of {CORPUS_SPECS}")


def subsample_rows(n_rows: int, max_molecules: int | None, seed: int) -> np.ndarray | None:
    """Sorted row indices of a seeded subsample of ``max_molecules`` rows; None for all rows."""
    if max_molecules is None or max_molecules >= n_rows:
        return None
    if max_molecules < 1:
        raise ValueError(f"max_molecules must be >= 1, got {max_molecules}")
    return np.sort(np.random.default_rng(seed).choice(n_rows, size=max_molecules, replace=False))


def corpus_smiles(corpus: CorpusFile, digest: str, max_molecules: int | None, seed: int,
                  options: dict) -> tuple[list[str], dict]:
    """The corpus's SMILES (``max_molecules`` rows drawn with ``seed``) and their provenance metadata."""
    smiles = corpus.read(corpus.path)
    rows = subsample_rows(len(smiles), max_molecules, seed)
    meta = dict(options, corpus=corpus.name, source_file=str(corpus.path), source_sha256=digest,
                rows_in_file=len(smiles))
    return (smiles if rows is None else [smiles[i] for i in rows]), meta


def load_corpus(spec: str = "nci", max_molecules: int | None = None, seed: int = 0,
                data_dir: str | Path | None = None, cache_dir: str | Path | None = None,
                download: bool = True) -> GraphStore:
    """The featurized corpus (no labels); ``meta`` records the file, its sha256 and the subsample."""
    corpus = resolve_corpus(spec, data_dir, cache_dir, download)
    digest = file_sha256(corpus.path)
    options = {"max_molecules": max_molecules, "subsample_seed": None if max_molecules is None else seed}

    def build() -> GraphStore:
        smiles, meta = corpus_smiles(corpus, digest, max_molecules, seed, options)
        no_labels = np.zeros((len(smiles), 0), np.float32)
        return featurize_smiles(smiles, no_labels, meta, desc=f"featurize {corpus.name}")

    return cached_store(f"corpus-{corpus.name}", digest, options, cache_dir, build)
