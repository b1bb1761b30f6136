"""Load a dataset as a ``GraphStore``: featurize once, cache on disk, reload fast.

The cache key is the sha256 of the raw file, the featurizer version and the parsing options, so a
changed file or featurizer never reuses a stale cache.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from molpeg_bench.benchmark.data.featurize import FEATURIZER_VERSION, MolGraph, smiles_to_graph
from molpeg_bench.benchmark.data.graph_store import GraphStore
from molpeg_bench.benchmark.data.sources import default_cache_dir, get_source, resolve_file
from molpeg_bench.fileio.checksums import DamagedFile, file_sha256, load_verified, save_verified, set_aside

log = logging.getLogger(__name__)


def featurize_smiles(smiles: list[str], labels: np.ndarray, meta: dict, desc: str = "featurize",
                     to_graph: Callable[[str], MolGraph | None] = smiles_to_graph) -> GraphStore:
    """Featurize a SMILES list with ``to_graph``; unparsable SMILES are skipped and counted in ``meta``."""
    graphs, kept, unsanitized = [], [], 0
    for i, s in enumerate(tqdm(smiles, desc=desc, disable=not sys.stderr.isatty(), mininterval=2)):
        g = to_graph(s)
        if g is None:
            continue
        graphs.append(g)
        kept.append(i)
        unsanitized += not g.sanitized
    skipped = len(smiles) - len(kept)
    if skipped:
        log.warning("%s: %d SMILES could not be parsed and were skipped", desc, skipped)
    if unsanitized:  # e.g. 7 organometallic HIV molecules; OGB keeps them too (41,127 graphs)
        log.warning("%s: %d SMILES parse only without sanitization (RDKit rejects their valences); kept, "
                    "as OGB keeps them, and counted in the record (n_unsanitized_kept)", desc, unsanitized)
    meta = dict(meta, n_molecules=len(kept), n_skipped_unparsable=skipped,
                n_unsanitized_kept=unsanitized, unsanitized_policy="kept via sanitize=False fallback",
                featurizer=FEATURIZER_VERSION)
    if skipped:
        meta["skipped_rows"] = sorted(set(range(len(smiles))) - set(kept))[:1000]
    return GraphStore.from_graphs(graphs, labels[kept], [smiles[i] for i in kept], meta)


def cached_store(label: str, digest: str, options: dict, cache_dir: str | Path | None,
                 build: Callable[[], GraphStore]) -> GraphStore:
    """The store cached under a key of (label, source sha256, featurizer version, options), built by
    ``build`` and saved (with its sha256, ``fileio.checksums``) when absent; a damaged one is
    moved aside and built again."""
    text = f"{label}|{digest}|{FEATURIZER_VERSION}|{json.dumps(options, sort_keys=True)}"
    key = hashlib.sha256(text.encode()).hexdigest()[:16]
    name = re.sub(r"[^\w.-]+", "_", label).strip("_")[-80:]  # csv:/path/x.csv -> csv_path_x.csv
    cache_file = Path(cache_dir or default_cache_dir()) / "graphs" / f"{name}-{key}.pt"
    if cache_file.is_file():
        try:
            return load_verified(cache_file, GraphStore.load)
        except DamagedFile as damage:
            set_aside(damage, cache_file, "featurizing again")
    store = build()
    save_verified(cache_file, store.write)
    log.info("featurized %s: %d molecules -> %s", label, len(store), cache_file)
    return store


def load_dataset(name: str, data_dir: str | Path | None = None, cache_dir: str | Path | None = None,
                 download: bool = True, **options: object) -> GraphStore:
    """The featurized dataset ``name`` (see ``benchmark.data.sources.SOURCES``)."""
    source = get_source(name)
    path = resolve_file(source, data_dir, cache_dir, download)
    digest = file_sha256(path)

    def build() -> GraphStore:
        table = source.parse(path, **options)
        meta = dict(table.notes, dataset=name, source_file=str(path), source_sha256=digest, options=options,
                    task_names=table.task_names, metric=table.notes.get("metric", source.metric))
        return featurize_smiles(table.smiles, table.labels, meta, desc=f"featurize {name}")

    return cached_store(name, digest, options, cache_dir, build)


def source_file_identity(name: str, data_dir: str | Path | None = None) -> dict:
    """What a run id hashes of dataset ``name``'s data: its raw file's sha256 and the featurizer (the file is
    downloaded when absent, as a run would)."""
    source = get_source(name)
    path = resolve_file(source, data_dir, download=source.url is not None)
    return {"source_sha256": file_sha256(path), "featurizer": FEATURIZER_VERSION}
