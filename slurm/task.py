"""The unit every executor runs: a task that executes a group of run configs one after another.

Per run (``claim_run_store``, also the path of ``molpeg-bench run``): skip it when its record exists (also
when that record cannot be read: it is not ours to replace); claim it (skip it when another process holds the claim);
run it with its per-epoch checkpoint in its run folder (``<store>/.work/<run id>/``), so a killed,
preempted or timed-out run resumes where it stopped; store the record; delete the checkpoint. A
failure is written to the run folder (error, traceback) next to the run's log and does not stop the
group. ``RunTask`` is a submitit ``Checkpointable``: on preemption or timeout SLURM requeues the same
task, which skips the runs already stored and resumes the interrupted one from its checkpoint.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import time
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from submitit.helpers import Checkpointable

from molpeg_bench.benchmark import run
from molpeg_bench.benchmark.config import RunConfig
from molpeg_bench.fileio.atomic import write_text_atomic
from molpeg_bench.results.store import RunStore, UnreadableRecord
from molpeg_bench.slurm.claims import Claims

log = logging.getLogger(__name__)

COMPUTED, SKIPPED, ELSEWHERE, FAILED = "computed", "skipped", "claimed elsewhere", "failed"
UNREADABLE = "unreadable"  # its record exists but cannot be read: the outcome is "unreadable: <why>"


class RunFolder:
    """Working files of one unfinished run: checkpoint, log and the last failure."""

    def __init__(self, store_root: str | Path, run_id: str):
        self.root = Path(store_root) / ".work" / run_id
        self.epoch_checkpoint = self.root / "checkpoint.pt"
        self.log = self.root / "run.log"
        self.failure = self.root / "failure.json"

    def read_failure(self) -> dict | None:
        try:
            return json.loads(self.failure.read_text())
        except (FileNotFoundError, ValueError):
            return None

    def log_tail(self, lines: int = 15) -> list[str]:
        try:
            return self.log.read_text(errors="replace").splitlines()[-lines:]
        except FileNotFoundError:
            return []

    def write_failure(self, exc: BaseException) -> None:
        text = json.dumps({"error": f"{type(exc).__name__}: {exc}",
                           "traceback": "".join(traceback.format_exception(exc)),
                           "host": socket.gethostname(), "pid": os.getpid(), "time": time.time(),
                           "slurm_job": os.environ.get("SLURM_JOB_ID")}, indent=1)
        write_text_atomic(self.failure, text)


@dataclass(frozen=True)
class Executed:
    """What ``claim_run_store`` did with a run: the outcome (``COMPUTED``, ...) and, when it ran, the record
    and where it was stored."""

    outcome: str
    record: dict | None = None
    path: Path | None = None


def execute_run(config: RunConfig, store_root: str | Path) -> str:
    """Compute ``config`` unless it is stored or claimed; returns the outcome (``COMPUTED``, ...)."""
    return claim_run_store(config, store_root).outcome


def claim_run_store(config: RunConfig, store_root: str | Path, *, again: bool = False,
                    stop_on_error: bool = False) -> Executed:
    """The one way a run is computed, by a sweep's task or by ``molpeg-bench run``: claim it, run it with
    its epoch checkpoint in its run folder, store the record, delete the checkpoint. A stored run is skipped
    (``again``: computed and replaced), one claimed by another process is ``ELSEWHERE``. A failure is written
    to the run folder and returned as a ``FAILED`` outcome (``stop_on_error``: it propagates, and a failed
    record is returned with its outcome)."""
    store, run_id = RunStore(store_root), config.run_id()
    if not again and (stored := _stored_outcome(store, run_id)):
        return Executed(stored)
    claim = Claims(store_root).claim(run_id)
    if claim is None:
        return Executed(ELSEWHERE)
    with claim:
        folder = RunFolder(store_root, run_id)
        if not again and (stored := _stored_outcome(store, run_id)):  # stored by another process meanwhile
            if stored == SKIPPED:  # left behind if that process died right after storing
                folder.epoch_checkpoint.unlink(missing_ok=True)
            return Executed(stored)
        folder.root.mkdir(parents=True, exist_ok=True)
        folder.failure.unlink(missing_ok=True)
        with run_log(folder.log):
            try:
                log.info("run %s (%s %s %g seed %d) on %s pid %d", run_id, config.dataset, config.method,
                         config.prune_ratio, config.seed, socket.gethostname(), os.getpid())
                return _run_and_store(config, store, folder, stop_on_error)
            except KeyboardInterrupt as exc:  # Ctrl-C or SIGTERM: the claim goes, the checkpoint stays
                log.warning("run %s stopped (%s); it resumes from its last epoch checkpoint at the next sweep",
                            run_id, exc)
                raise
            except (Exception, SystemExit) as exc:  # one failed run must not stop the others of its task
                if stop_on_error:
                    raise
                log.exception("run %s failed", run_id)
                folder.write_failure(exc)
                return Executed(f"{FAILED}: {type(exc).__name__}: {exc}")


def run_finetune(config: RunConfig, epoch_checkpoint: Path) -> dict:
    """``benchmark.run.run_finetune``, looked up there at each call."""
    return run.run_finetune(config, epoch_checkpoint=epoch_checkpoint)


def _run_and_store(config: RunConfig, store: RunStore, folder: RunFolder, stop_on_error: bool) -> Executed:
    if folder.epoch_checkpoint.is_file():
        log.info("resuming run %s from %s", config.run_id(), folder.epoch_checkpoint)
    record = run_finetune(config, epoch_checkpoint=folder.epoch_checkpoint)
    path = store.put(record)
    folder.epoch_checkpoint.unlink(missing_ok=True)
    if record["status"] != "complete":  # e.g. an undefined metric: stored with its reason, retried later
        if stop_on_error:
            return Executed(f"{FAILED}: {record['failure']['reason']}", record, path)
        raise RunFailed(record["failure"]["reason"])
    log.info("run %s stored", config.run_id())
    return Executed(COMPUTED, record, path)


@contextmanager
def run_log(path: Path) -> Iterator[None]:
    """The run's log file takes INFO while the block runs; the handlers already there (the console) keep
    their threshold."""
    handler = logging.FileHandler(path)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    level = root.level
    quiet = [h for h in root.handlers if h.level == logging.NOTSET]
    for h in quiet:
        h.setLevel(level)
    root.addHandler(handler)
    root.setLevel(min(level, logging.INFO))
    try:
        yield
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
        for h in quiet:
            h.setLevel(logging.NOTSET)
        handler.close()


def _stored_outcome(store: RunStore, run_id: str) -> str | None:
    """``SKIPPED`` when ``run_id`` is stored, the ``UNREADABLE`` outcome when its record cannot be read (it is
    left alone), None when it is to be computed."""
    try:
        return SKIPPED if store.has(run_id) else None
    except UnreadableRecord as exc:
        log.warning("%s", exc)
        return f"{UNREADABLE}: {exc.reason}"


class RunFailed(RuntimeError):
    """A run ended with a failed record (e.g. an undefined metric); the message is its reason."""


@dataclass(frozen=True)
class RunTask(Checkpointable):
    """Executes a group of runs into the store at ``store_root`` with ``threads`` torch threads each.
    Returns {run id: outcome}. Requeued as is on preemption (``Checkpointable``)."""

    store_root: str
    threads: int | None = None

    def __call__(self, configs: list[RunConfig]) -> dict[str, str]:
        if self.threads:
            import torch

            torch.set_num_threads(self.threads)
        return {c.run_id(): execute_run(c.replace(num_threads=self.threads or c.num_threads), self.store_root)
                for c in configs}
