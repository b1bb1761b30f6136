"""A labelled SMILES table read from a CSV file, with errors that name the file."""

from __future__ import annotations

import gzip
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class Table:
    """A labelled SMILES table: ``labels`` [N, T] float32 with NaN = missing."""

    smiles: list[str]
    labels: np.ndarray
    task_names: list[str]
    notes: dict


def read_table(path: Path, **options: object) -> pd.DataFrame:
    """``pd.read_csv`` whose failures (empty, truncated, not UTF-8, not CSV) name the file; a table
    without rows is an error too."""
    try:
        df = pd.read_csv(path, **options)
    except pd.errors.EmptyDataError:
        raise ValueError(f"{path}: the file is empty; expected a CSV table with a header row") from None
    except UnicodeDecodeError as exc:
        raise ValueError(f"{path}: not UTF-8 text (byte {exc.start}: {exc.reason}); expected a UTF-8 CSV") from None
    except (EOFError, gzip.BadGzipFile, zlib.error) as exc:
        raise ValueError(f"{path}: truncated or corrupt compressed file ({exc}); download it again") from None
    except pd.errors.ParserError as exc:
        raise ValueError(f"{path}: not a readable CSV table ({str(exc).strip()})") from None
    if df.empty:
        raise ValueError(f"{path}: the table has no rows; expected one molecule per row")
    return df


def _lines(mask: pd.Series) -> str:
    """File line numbers (header = line 1) of the rows where ``mask`` holds, the first five."""
    lines = [int(i) + 2 for i in np.flatnonzero(mask.to_numpy())]
    return ", ".join(map(str, lines[:5])) + (f" ... ({len(lines)} rows)" if len(lines) > 5 else "")
