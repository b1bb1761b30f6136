"""Budget-independent selection results, computed once per selection context and method options.

A static method's scores depend on its warm-up run(s), its options and the data, never on the pruning
ratio, so the ratios of a table can share them. ``ScoreCache.memo(context, name, compute)`` returns the
arrays ``compute()`` gives (plus a JSON-able ``meta``), stored as
``$MOLPEG_CACHE_DIR/scores/<context>/<sha of name>.npz`` with a sha256 sidecar: ``context`` digests what
determines the run's warm-ups (data, split, checkpoint, model, training settings, run seed, device),
``name`` the method and its options. A damaged file is named, moved aside and recomputed. Two processes
may compute one entry at once; both write the same content (CPU arithmetic is deterministic), the last
atomic rename wins.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import numpy as np

from molpeg_bench.benchmark.data.sources import default_cache_dir
from molpeg_bench.fileio.checksums import DamagedFile, load_verified, save_verified, set_aside

log = logging.getLogger(__name__)
META = "__meta__"


@dataclass
class ScoreUse:
    """One memo as a run used it (for the record)."""

    name: str
    reused: bool
    seconds: float


@dataclass
class ScoreCache:
    root: Path | None = None
    uses: list[ScoreUse] = field(default_factory=list)

    def __post_init__(self):
        self.root = Path(self.root) if self.root is not None else default_cache_dir() / "scores"

    def path(self, context: str, name: str) -> Path:
        return self.root / context / f"{hashlib.sha256(name.encode()).hexdigest()[:24]}.npz"

    def memo(self, context: str, name: str, compute: Callable[[], tuple[dict[str, np.ndarray], dict]]
             ) -> tuple[dict[str, np.ndarray], dict]:
        path, t0 = self.path(context, name), time.perf_counter()
        if path.is_file():
            try:
                arrays, meta = load_verified(path, _read)
                if meta.get("name") == name:
                    self.uses.append(ScoreUse(name, True, time.perf_counter() - t0))
                    return arrays, meta["meta"]
                log.warning("%s holds %r, not %r: computing it again", path, meta.get("name"), name)
            except DamagedFile as damage:
                set_aside(damage, path.parent, "computing the scores again")
        arrays, meta = compute()
        path.parent.mkdir(parents=True, exist_ok=True)
        save_verified(path, partial(_write, arrays, {"name": name, "meta": meta}))
        self.uses.append(ScoreUse(name, False, time.perf_counter() - t0))
        return arrays, meta

    def describe(self) -> list[dict]:
        return [vars(use).copy() for use in self.uses]


def _write(arrays: dict[str, np.ndarray], meta: dict, handle) -> None:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays, **{META: np.array(json.dumps(meta, default=_plain))})
    handle.write(buffer.getvalue())


def _read(path: Path) -> tuple[dict[str, np.ndarray], dict]:
    with np.load(path, allow_pickle=False) as data:
        arrays = {k: data[k] for k in data.files if k != META}
        return arrays, json.loads(str(data[META]))


def _plain(value):
    """numpy scalars and arrays in a method's meta as plain JSON values."""
    return value.tolist() if hasattr(value, "tolist") else str(value)
