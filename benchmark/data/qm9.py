"""QM9 with its DFT geometries (130,831 molecules, hydrogens included) as a 3D ``GraphStore``.

Targets (eV): ``U0`` is the atomization energy ``(U0 - Σ ref_Z)·Ha``, the target of GeoSSL and of
PyG ``QM9.y[:, 12]``; ``zpve`` is the zero-point vibrational energy (PyG ``y[:, 6]``). The split is
the fixed ``RandomState(42)`` permutation of GeoSSL's ``qm9_random_customized_01`` (identical to
MolPeg's ``QM93D.get_idx_split(seed=42)``): 110,000 / 10,000 / 10,831. Graphs carry no bonds; the
models build their interaction graph from the coordinates.

Sources (``load_qm9(source=...)``; in a run config, ``data_options["qm9_source"]``; PyG readers in
``benchmark.data.qm9_pyg``):

* ``csv``: ``qm9_3d.csv.xz`` in the data directory (or the cache's ``raw`` folder);
* ``pyg``: the root of PyG's ``torch_geometric.datasets.QM9``, ``<data dir>/QM9`` unless given
  (``pyg_root``; ``"pyg:<root>"`` in a config). Read as PyG's ``QM9.process`` reads it: with
  ``raw/gdb9.sdf``, ``raw/gdb9.sdf.csv`` and ``raw/uncharacterized.txt``, Z and positions come from the SDF
  (``SDMolSupplier(removeHs=False, sanitize=False)``), U0 and zpve (Hartree) from the csv row of the same
  index, the molecules listed in ``uncharacterized.txt`` are skipped and ``gdb_idx`` is the SDF index + 1;
  else PyG's preprocessed ``raw/qm9_v3.pt`` (a list of dicts) gives ``z``, ``pos``, ``y[:, 12]`` (U0_ATOM,
  eV), ``y[:, 6]`` (ZPVE, eV) and ``idx`` + 1. Its processed ``data_v3.pt`` is not read;
* ``auto`` (the default; a config without ``qm9_source``): the CSV when found, else the PyG root.

Every source holds the same 130,831 molecules in the same order (``qm9_variant="correct"``); the store's
meta names the one read (``qm9_source``: ``csv``, ``pyg-raw`` or ``pyg-processed``). Differences: the SDF
keeps 4 decimals of the coordinates (the CSV 10); PyG's ``y[:, 12]`` is the csv's ``u0_atom`` (kcal/mol)
× 0.04336414 rather than ``(U0 - Σ ref_Z)·Ha`` (about 1e-6 apart, relative: the two conversion factors);
SMILES are the CSV's GDB-17 strings, RDKit's (heavy atoms, no stereo) of the SDF molecules that sanitize,
and ``qm9_v3.pt``'s own when it has them, else ``qm9_pyg.NO_SMILES`` (QM9 uses the fixed split; SMILES only feed
Morgan-fingerprint pruning options and the warm-up cache key).

Identity (``Qm9Files.sha256``): the CSV's sha256, so CSV runs keep their ids and caches; for a PyG root,
the sha256 over the names and sha256 of the files read. Run ids hash it instead of ``qm9_source``.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from molpeg_bench.benchmark.data.dataset import cached_store, file_sha256
from molpeg_bench.benchmark.data.graph_store import GraphStore
from molpeg_bench.benchmark.data.qm9_base import (  # noqa: F401  (the QM9 names importers read from here)
    ATOM_REF_U0_HA,
    ELEMENT_Z,
    HARTREE_EV,
    QM9_FEATURIZER,
    QM9_SPLIT_SIZES,
    QM9_TARGETS,
    QM9_VARIANT,
    Qm9Files,
    atomization_energy_ev,
    check_elements,
    qm9_store,
)
from molpeg_bench.benchmark.data.qm9_pyg import parse_pyg_processed, parse_pyg_raw, pyg_files
from molpeg_bench.benchmark.data.sources import DATA_DIR_ENV, DatasetSource, resolve_file
from molpeg_bench.benchmark.data.splits import Split

QM9_SOURCE = DatasetSource("qm9", "QM9 with B3LYP geometries (130,831 molecules, with H)", ("qm9_3d.csv.xz",),
                           None, lambda path, **_: None, "mae")
QM9_SOURCES = ("auto", "csv", "pyg")


def parse_qm9(path: Path) -> GraphStore:
    """Parse ``qm9_3d.csv.xz`` (columns gdb_idx, smiles, elements, xyz, zpve, U0, ... in Hartree)."""
    df = pd.read_csv(path, usecols=["gdb_idx", "smiles", "n_atoms", "elements", "xyz", "zpve", "U0"])
    n_atoms = df["n_atoms"].to_numpy(np.int64)
    symbols = "".join(df["elements"])
    if len(symbols) != n_atoms.sum() or set(symbols) - set(ELEMENT_Z):
        raise ValueError(f"{path}: 'elements' must hold one of {sorted(ELEMENT_Z)} per atom, n_atoms in total")
    z = np.frombuffer(symbols.encode(), dtype=np.uint8)
    lookup = np.zeros(128, dtype=np.int64)
    for sym, num in ELEMENT_Z.items():
        lookup[ord(sym)] = num
    z = lookup[z]
    pos = np.array(" ".join(df["xyz"]).split(), dtype=np.float64).reshape(-1, 3)
    if len(pos) != len(z):
        raise ValueError(f"{path}: 'xyz' holds {len(pos)} coordinates for {len(z)} atoms")
    return qm9_store(z, pos, n_atoms, atomization_energy_ev(z, n_atoms, df["U0"].to_numpy()),
                     df["zpve"].to_numpy() * HARTREE_EV, df["gdb_idx"].to_numpy(np.int64),
                     df["smiles"].astype(str).tolist())


def parse_files(files: Qm9Files) -> GraphStore:
    """The store of ``files``: the CSV, or PyG's raw or preprocessed layout."""
    if files.kind == "csv":
        return parse_qm9(files.paths[0])
    if files.kind == "pyg-raw":
        return parse_pyg_raw(*files.paths)
    return parse_pyg_processed(files.paths[0])


def resolve_qm9(data_dir: str | Path | None = None, cache_dir: str | Path | None = None, source: str = "auto",
                pyg_root: str | Path | None = None) -> Qm9Files:
    """The files of ``source`` (see the module docstring); a FileNotFoundError naming where it looked."""
    if source not in QM9_SOURCES:
        raise ValueError(f"QM9 source {source!r}: expected one of {QM9_SOURCES}")
    if source in ("auto", "csv"):
        try:
            return Qm9Files("csv", (resolve_file(QM9_SOURCE, data_dir, cache_dir, download=False),))
        except FileNotFoundError as exc:
            if source == "csv":
                raise
            csv_error = str(exc).rstrip(".")
    folder = data_dir or os.environ.get(DATA_DIR_ENV)
    root = pyg_root if pyg_root is not None else (Path(folder) / "QM9" if folder else None)
    try:
        if root is None:
            raise FileNotFoundError(f"no PyG QM9 root: give a data directory holding QM9/raw (--data-dir or "
                                    f"${DATA_DIR_ENV}) or the root itself (qm9_source 'pyg:<root>')")
        return pyg_files(root)
    except FileNotFoundError as exc:
        if source == "pyg":
            raise
        raise FileNotFoundError(f"{csv_error}; nor found as PyG's QM9: {exc}") from None


def parse_source_option(value: object) -> tuple[str, Path | None]:
    """A config's ``data_options["qm9_source"]`` as (source, PyG root): ``auto`` (also None), ``csv``, ``pyg``
    or ``pyg:<root>``."""
    if value is None:
        return "auto", None
    if isinstance(value, str) and value.startswith("pyg:") and value[4:]:
        return "pyg", Path(value[4:]).expanduser()
    if value in QM9_SOURCES:
        return str(value), None
    raise ValueError(f"data_options qm9_source {value!r}: expected 'auto', 'csv', 'pyg' or 'pyg:<root>'")


def resolve_from_options(data_dir: str | Path | None, data_options: dict | None) -> Qm9Files:
    """The files a run with these ``data_options`` reads (its data identity)."""
    source, root = parse_source_option((data_options or {}).get("qm9_source"))
    return resolve_qm9(data_dir, None, source, root)


def qm9_identity(data_dir: str | Path | None, data_options: dict | None) -> dict:
    """What a run id hashes of the QM9 data: the files' sha256 (``Qm9Files.sha256``) and the featurizer; a PyG
    root adds ``qm9_source`` (its kind), the CSV keeps the identity it always had."""
    files = resolve_from_options(data_dir, data_options)
    identity = {"source_sha256": files.sha256(), "featurizer": QM9_FEATURIZER}
    return identity if files.kind == "csv" else dict(identity, qm9_source=files.kind)


def load_qm9(data_dir: str | Path | None = None, cache_dir: str | Path | None = None, source: str = "auto",
             pyg_root: str | Path | None = None) -> GraphStore:
    """QM9 as a 3D store with both targets (y [N, 2]: U0 atomization energy, ZPVE; eV), cached. ``source``:
    ``auto`` (the CSV, else the PyG root), ``csv`` or ``pyg`` (root ``pyg_root``, default ``<data dir>/QM9``)."""
    files = resolve_qm9(data_dir, cache_dir, source, pyg_root)
    digest = files.sha256()

    def build() -> GraphStore:
        store = parse_files(files)
        store.meta.update(dataset="qm9", source_file=str(files.paths[0]), source_sha256=digest,
                          featurizer=QM9_FEATURIZER, qm9_source=files.kind)
        if files.kind != "csv":
            store.meta["source_files"] = {p.name: file_sha256(p) for p in files.paths}
        return store

    # the CSV's cache key is the one it had before the PyG sources existed
    options = {"variant": QM9_VARIANT} if files.kind == "csv" else {"variant": QM9_VARIANT, "source": files.kind}
    store = cached_store("qm9", digest, options, cache_dir, build)
    store.meta["qm9_source"] = files.kind  # also on CSV stores cached before the option existed
    return store


def select_target(store: GraphStore, target: str) -> GraphStore:
    """The store with the single label column ``target`` (one of ``QM9_TARGETS``)."""
    names = store.meta.get("task_names", [])
    if target not in names:
        raise ValueError(f"unknown QM9 target {target!r}; expected one of {names}")
    column = names.index(target)
    return GraphStore(store.x, store.edge_index, store.edge_attr, store.node_ptr, store.edge_ptr,
                      store.y[:, column:column + 1].clone(), store.smiles,
                      dict(store.meta, task_names=[target], target=target), store.pos)


def qm9_split(n: int = sum(QM9_SPLIT_SIZES), seed: int = 42) -> Split:
    """The fixed split (independent of the run seed): ``RandomState(seed).permutation(n)`` cut at
    110,000 and 120,000. ``n`` other than 130,831 scales the cuts (tests, subsets)."""
    perm = np.random.RandomState(seed).permutation(n).astype(np.int64)
    full = sum(QM9_SPLIT_SIZES)
    n_train = QM9_SPLIT_SIZES[0] * n // full
    n_valid = QM9_SPLIT_SIZES[1] * n // full
    return Split(perm[:n_train], perm[n_train:n_train + n_valid], perm[n_train + n_valid:])

