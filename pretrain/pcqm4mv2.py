"""PCQM4Mv2 (OGB-LSC) as a SMILES list: find ``pcqm4m-v2/raw/data.csv.gz``, or download it.

The raw file is OGB's: a gzipped CSV with the header ``idx,smiles,homolumogap`` (3,746,620 rows;
the gap is empty for the test splits). Only the SMILES are used: pretraining is unsupervised.
The archive is fetched with ogb's own ``download_url`` / ``extract_zip`` into ``<root>`` and
unpacks to ``<root>/pcqm4m-v2/raw/data.csv.gz``, the layout of ``ogb.lsc.PCQM4Mv2Dataset``. That
class itself is not used: it asks on stdin before re-downloading, exits the process when a download
is declined, and only yields SMILES or OGB's 9-feature graphs, not the Hu et al. features used here.
"""

from __future__ import annotations

import logging
import os
import socket
import zipfile
from pathlib import Path

import pandas as pd

log = logging.getLogger(__name__)

URLS = (
    "http://ogb-lsc.s3.amazonaws.com/pcqm4m-v2.zip",
    "https://dgl-data.s3-accelerate.amazonaws.com/dataset/OGB-LSC/pcqm4m-v2.zip",  # ogb>=1.3.6 mirror
)
RAW_FILE = Path("pcqm4m-v2") / "raw" / "data.csv.gz"
COLUMNS = ["idx", "smiles", "homolumogap"]


def read_pcqm4mv2(path: str | Path) -> list[str]:
    """The SMILES column of an OGB ``data.csv.gz``, in ``idx`` order; checks the header."""
    df = pd.read_csv(path)
    if list(df.columns) != COLUMNS:
        raise ValueError(f"{path}: expected the PCQM4Mv2 columns {COLUMNS}, found {list(df.columns)}")
    if not df["idx"].is_monotonic_increasing:
        df = df.sort_values("idx")
    return df["smiles"].astype(str).tolist()


def _download(root: Path) -> str | None:
    """Download and unpack into ``root``; None on success, else why it failed."""
    from ogb.utils.url import download_url, extract_zip

    errors = []
    previous_timeout = socket.getdefaulttimeout()
    socket.setdefaulttimeout(60)  # ogb's urlopen has none: do not hang on a dead network
    try:
        for url in URLS:
            try:
                archive = download_url(url, str(root), log=False)
                extract_zip(archive, str(root), log=False)
                os.unlink(archive)
                return None
            except (OSError, RuntimeError, zipfile.BadZipFile) as exc:  # URLError is an OSError
                errors.append(f"{url}: {exc}")
    finally:
        socket.setdefaulttimeout(previous_timeout)
    return "; ".join(errors)


def resolve_pcqm4mv2(search_roots: list[Path], download_root: Path, download: bool = True) -> Path:
    """``<root>/pcqm4m-v2/raw/data.csv.gz`` for the first root that has it; else download into
    ``download_root`` when allowed; else raise naming the file to put where."""
    for root in [*search_roots, download_root]:
        if (root / RAW_FILE).is_file():
            return root / RAW_FILE
    error = "download disabled"
    if download:
        log.info("downloading PCQM4Mv2 into %s", download_root)
        error = _download(download_root)
        if error is None and (download_root / RAW_FILE).is_file():
            return download_root / RAW_FILE
    raise FileNotFoundError(
        f"PCQM4Mv2 not found: put OGB's data.csv.gz (columns {','.join(COLUMNS)}) at "
        f"<data dir>/{RAW_FILE.as_posix()}, the data dir named by --data-dir or $MOLPEG_DATA_DIR (e.g. unzip "
        f"{URLS[0]} there); looked under "
        f"{[str(r) for r in [*search_roots, download_root]]}; {error}.")
