"""The identity of a run's data: everything besides the config that determines its result.

A run id covers the raw file's content (sha256), the featurizer version, the rules that pick the
subsample and the split (``DATA_RULES``) and the checkpoint's content; the record's ``data_identity``
section carries the same values plus hashes of the subsample and split indices actually used, so a
report can refuse to put runs on different data into one table.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from molpeg_bench.benchmark.data.dataset import source_file_identity
from molpeg_bench.benchmark.data.sources_3d import DataRequest, get_3d_source
from molpeg_bench.fileio.checksums import file_sha256

# version of the subsample rule (numpy default_rng(split_seed).choice, sorted) and the split rules in
# benchmark.data.splits: change it when either changes, so earlier records are not reused
DATA_RULES = "subsample-rng-choice-v1/splits-v1"


def subsample_indices(n: int, subsample: int | None, seed: int) -> np.ndarray | None:
    """The molecules a run keeps of ``n``: ``subsample`` of them drawn by ``default_rng(seed)``, sorted;
    None (all) when ``subsample`` is None or not below ``n``."""
    if subsample is None or subsample >= n:
        return None
    return np.sort(np.random.default_rng(seed).choice(n, subsample, replace=False))


def checkpoint_sha256(checkpoint: str | None) -> str | None:
    """sha256 of the checkpoint file; None without one or when it is not a file (the run then fails
    with an error naming it)."""
    if checkpoint is None or not Path(checkpoint).is_file():
        return None
    return file_sha256(checkpoint)


def source_identity(dataset: str, data_dir: str | None, data_options: dict | None = None) -> dict:
    """The raw data a dataset resolves to and its content hash (downloads it when absent, as a run would): a
    registered 3D source says what it reads (``benchmark.data.sources_3d``); a 2D dataset is its raw file."""
    source = get_3d_source(dataset)
    if source is None:
        identity = source_file_identity(dataset, data_dir)
    else:
        identity = source.identity(DataRequest(dataset, data_dir, dict(data_options or {})))
    return dict(identity, data_rules=DATA_RULES)


def indices_sha256(*parts: Iterable[int] | None) -> str | None:
    """sha256 (first 16 hex digits) of one or more index arrays (their lengths included)."""
    if all(p is None for p in parts):
        return None
    h = hashlib.sha256()
    for p in parts:
        arr = np.asarray([] if p is None else p, dtype=np.int64)
        h.update(np.int64(len(arr)).tobytes() + arr.tobytes())
    return h.hexdigest()[:16]
