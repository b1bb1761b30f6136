"""Progress of a sweep while its runs execute: done / total, failed, running, and an ETA from the runs that
finished so far. Read from the store (records, failure files, claims), so it is the same for worker
processes and SLURM arrays. A line in the log whenever a count changes; a live bar as well on a terminal.
"""

from __future__ import annotations

import logging
import sys
import time
from pathlib import Path

from tqdm.auto import tqdm

from molpeg_bench.benchmark.config import RunConfig
from molpeg_bench.results.store import RunStore
from molpeg_bench.slurm.claims import Claims
from molpeg_bench.slurm.task import RunFolder

log = logging.getLogger(__name__)


class SweepProgress:
    """Watches the runs ``configs`` of one sweep in the store at ``store_root``; call ``tick()`` now and then."""

    def __init__(self, configs: list[RunConfig], store_root: str | Path, label: str = "sweep"):
        self.run_ids = [c.run_id() for c in configs]
        self.store, self.claims, self.root = RunStore(store_root), Claims(store_root), Path(store_root)
        self.label, self.started = label, time.time()
        self._last: tuple | None = (0, 0)
        self._bar = tqdm(total=len(self.run_ids), desc=label, unit="run", disable=not sys.stderr.isatty(),
                         dynamic_ncols=True)

    def counts(self) -> dict[str, int]:
        done = failed = running = 0
        for run_id in self.run_ids:
            if self.store.has(run_id):
                done += 1
            elif self.claims.holder(run_id) is not None:
                running += 1
            elif (RunFolder(self.root, run_id).read_failure() or {}).get("time", 0) >= self.started:
                failed += 1
        return {"done": done, "failed": failed, "running": running, "total": len(self.run_ids)}

    def line(self, c: dict[str, int]) -> str:
        finished, elapsed = c["done"] + c["failed"], time.time() - self.started
        left = c["total"] - finished
        eta = f"ETA {_duration(elapsed / finished * left)}" if finished and left else \
            ("ETA -" if left else f"took {_duration(elapsed)}")
        return f"{self.label}: {c['done']}/{c['total']} done, {c['failed']} failed, {c['running']} running, {eta}"

    def tick(self) -> None:
        c = self.counts()
        self._bar.n = c["done"] + c["failed"]
        self._bar.set_postfix(failed=c["failed"], running=c["running"], refresh=True)
        if (c["done"], c["failed"]) != self._last and self._bar.disable:  # a line each time runs finish
            log.info("%s", self.line(c))
        self._last = (c["done"], c["failed"])

    def close(self) -> None:
        self.tick()  # the bar's final state; without a terminal, the final line (unless the last tick said it)
        on_terminal = not self._bar.disable
        self._bar.close()
        if on_terminal:
            log.info("%s", self.line(self.counts()))


def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    h, rem = divmod(seconds, 3600)
    return f"{h}h{rem // 60:02d}m" if h else f"{rem // 60}m{rem % 60:02d}s"
