"""Where each dataset comes from: the file names looked for in the data directory, the standard
download address, and how its table becomes (SMILES, labels, task names).

Resolution order: an explicit directory (``--data-dir`` or ``MOLPEG_DATA_DIR``), then a previous
download in the cache, then the standard download. Offline, the error names the file to put where.
"""

from __future__ import annotations

import logging
import os
import shutil
import urllib.request
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from molpeg_bench.benchmark.data.csv_source import CSV_PREFIX, csv_path, parse_csv
from molpeg_bench.benchmark.data.tables import Table, _lines, read_table
from molpeg_bench.fileio.atomic import check_writable

log = logging.getLogger(__name__)

DATA_DIR_ENV = "MOLPEG_DATA_DIR"
CACHE_DIR_ENV = "MOLPEG_CACHE_DIR"


def default_cache_dir() -> Path:
    return Path(os.environ.get(CACHE_DIR_ENV, Path.home() / ".cache" / "molpeg"))


def check_cache_writable() -> None:
    """``PermissionError`` naming the cache directory unless it is writable (checked before featurizing)."""
    check_writable(default_cache_dir(), "cache directory", f"set ${CACHE_DIR_ENV} to a writable folder")


def _rdkit_nci_dir() -> Path:
    import rdkit

    return Path(rdkit.__file__).parent / "Data" / "NCI"


def _binary_table(df: pd.DataFrame, smiles_col: str, task_cols: list[str], source: str) -> Table:
    missing = [c for c in [smiles_col, *task_cols] if c not in df.columns]
    if missing:
        raise ValueError(f"{source}: expected columns {missing} not found; columns are {list(df.columns)}")
    if not task_cols:
        raise ValueError(f"{source}: no task (label) columns found; columns are {list(df.columns)}")
    empty = df[smiles_col].isna() | (df[smiles_col].astype(str).str.strip() == "")
    if empty.any():
        raise ValueError(f"{source}: empty SMILES in column {smiles_col!r} at line(s) {_lines(empty)}")
    numeric = df[task_cols].apply(pd.to_numeric, errors="coerce")
    for col in task_cols:
        bad = numeric[col].notna() & ~numeric[col].isin([0, 1]) | numeric[col].isna() & df[col].notna()
        if bad.any():
            first = df[col][bad].iloc[0]
            raise ValueError(f"{source}: column {col!r} holds {first!r} at line(s) {_lines(bad)}; binary labels "
                             "must be 0, 1 or empty")
    labels = numeric.to_numpy(dtype=np.float32)
    return Table(df[smiles_col].astype(str).tolist(), labels, list(task_cols), {})


def parse_hiv(path: Path, **_: object) -> Table:
    return _binary_table(read_table(path), "smiles", ["HIV_active"], str(path))


def parse_ogb_hiv(path: Path, **_: object) -> Table:
    return _binary_table(read_table(path), "smiles", ["HIV_active"], str(path))


def parse_muv(path: Path, **_: object) -> Table:
    df = read_table(path)
    tasks = [c for c in df.columns if c.startswith("MUV-")]
    if not tasks:
        raise ValueError(f"{path}: no 'MUV-*' task columns; columns are {list(df.columns)[:10]}")
    return _binary_table(df, "smiles", tasks, str(path))


def parse_pcba(path: Path, pcba_tasks: int = 128, **_: object) -> Table:
    """MoleculeNet ``pcba.csv.gz`` (128 ``PCBA-*`` assay columns, ``mol_id``, ``smiles``).

    ``pcba_tasks=92`` applies the filter of the official MolPeg loader: keep the tasks whose missing
    rate is below 50 %, then drop molecules with no valid label among them.
    """
    df = read_table(path)
    tasks = [c for c in df.columns if c.startswith("PCBA-")]
    if not tasks:
        raise ValueError(f"{path}: no 'PCBA-*' task columns; columns are {list(df.columns)[:10]}...")
    notes: dict = {"pcba_tasks_requested": pcba_tasks, "pcba_tasks_in_file": len(tasks)}
    if pcba_tasks == 92:
        tasks = [c for c in tasks if df[c].isna().mean() < 0.5]
        keep = df[tasks].notna().any(axis=1)
        notes.update(rows_in_file=len(df), rows_without_label_dropped=int((~keep).sum()))
        df = df[keep].reset_index(drop=True)
    elif pcba_tasks != 128:
        raise ValueError(f"pcba_tasks must be 128 (MoleculeNet/OGB) or 92 (MolPeg filter), got {pcba_tasks}")
    table = _binary_table(df, "smiles", tasks, str(path))
    return Table(table.smiles, table.labels, table.task_names, notes)


def parse_nci_tpsa(path: Path, tpsa_threshold: float = 60.0, **_: object) -> Table:
    """Sanity task on RDKit's bundled NCI molecules: label = 1 when the shipped TPSA exceeds 60 Å²."""
    df = read_table(path, comment="#", header=None, names=["smiles", "tpsa"])
    labels = (df["tpsa"].to_numpy(dtype=np.float32) > tpsa_threshold).astype(np.float32)[:, None]
    return Table(df["smiles"].astype(str).tolist(), labels, [f"tpsa>{tpsa_threshold:g}"],
                 {"sanity_task": "label derived from TPSA; not a paper dataset"})


@dataclass(frozen=True)
class DatasetSource:
    name: str
    description: str
    filenames: tuple[str, ...]
    url: str | None
    parse: Callable[..., Table]
    metric: str  # "roc_auc" or "average_precision"
    bundled_dir: Callable[[], Path] | None = None


SOURCES: dict[str, DatasetSource] = {
    s.name: s
    for s in [
        DatasetSource("hiv", "MoleculeNet HIV (41,127 molecules, 1 task)", ("hiv.csv.gz", "HIV.csv", "hiv.csv"),
                      "https://deepchemdata.s3-us-west-1.amazonaws.com/datasets/HIV.csv", parse_hiv, "roc_auc"),
        DatasetSource("ogbg-molhiv", "OGB ogbg-molhiv (same molecules as MoleculeNet HIV)",
                      ("ogbg_molhiv/mapping/mol.csv.gz", "hiv/mapping/mol.csv.gz"),
                      "http://snap.stanford.edu/ogb/data/graphproppred/csv_mol_download/hiv.zip", parse_ogb_hiv,
                      "roc_auc"),
        DatasetSource("pcba", "MoleculeNet PCBA (437,929 molecules, 128 tasks; 92-task filter optional)",
                      ("pcba.csv.gz", "pcba.csv"),
                      "https://deepchemdata.s3-us-west-1.amazonaws.com/datasets/pcba.csv.gz", parse_pcba,
                      "average_precision"),
        DatasetSource("muv", "MUV (93,127 molecules, 17 tasks, 84 % labels missing)", ("muv.csv.gz", "muv.csv"),
                      "https://deepchemdata.s3-us-west-1.amazonaws.com/datasets/muv.csv.gz", parse_muv,
                      "average_precision"),
        DatasetSource("nci-tpsa", "Sanity task: RDKit's bundled NCI molecules, label TPSA > 60 (not a paper "
                      "dataset)", ("first_5k.tpsa.csv",), None, parse_nci_tpsa, "roc_auc", _rdkit_nci_dir),
    ]
}


def get_source(name: str) -> DatasetSource:
    """A registered dataset, or ``csv:PATH``: any molecule CSV (``benchmark.data.csv_source``)."""
    if name.startswith(CSV_PREFIX):
        path = csv_path(name)
        if not path.is_file():
            raise FileNotFoundError(f"dataset {name!r}: {path} is not a file; expected a CSV with a smiles column")
        return DatasetSource(name, f"molecule CSV {path}", (str(path),), None, parse_csv, "auto")
    if name not in SOURCES:
        raise ValueError(f"unknown dataset {name!r}; expected one of {sorted(SOURCES)}")
    return SOURCES[name]


def _download(url: str, dest: Path) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_suffix(dest.suffix + ".part")
    log.info("downloading %s -> %s", url, dest)
    with urllib.request.urlopen(url, timeout=60) as response, open(tmp, "wb") as out:
        shutil.copyfileobj(response, out)
    tmp.replace(dest)


def resolve_file(source: DatasetSource, data_dir: str | Path | None = None,
                 cache_dir: str | Path | None = None, download: bool = True) -> Path:
    """Find the raw file of ``source``; download it when allowed; else raise naming what to put where."""
    data_dir = data_dir or os.environ.get(DATA_DIR_ENV)
    raw_dir = Path(cache_dir or default_cache_dir()) / "raw"
    search = [Path(data_dir)] if data_dir else []
    search.append(raw_dir)
    if source.bundled_dir is not None:
        search.append(source.bundled_dir())
    for folder in search:
        for fname in source.filenames:
            if (folder / fname).is_file():
                return folder / fname
    error = "no download address"
    if source.url and download:
        dest = raw_dir / Path(source.url).name.lower()
        try:
            _download(source.url, dest)
        except OSError as exc:  # URLError is an OSError
            error = f"download from {source.url} failed ({exc})"
        else:
            if dest.suffix != ".zip":
                return dest
            with zipfile.ZipFile(dest) as archive:  # OGB ships a zip holding <name>/mapping/mol.csv.gz
                archive.extractall(raw_dir)
            found = [raw_dir / f for f in source.filenames if (raw_dir / f).is_file()]
            if found:
                return found[0]
            error = f"{dest} holds none of {source.filenames}"
    where = data_dir or f"a directory named by ${DATA_DIR_ENV} (or --data-dir)"
    raise FileNotFoundError(
        f"dataset {source.name!r} not found: put {' or '.join(source.filenames)} into {where}; "
        f"looked in {[str(p) for p in search]}; {error}.")
