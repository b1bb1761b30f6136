"""A sweep: the runs of a list of configs that are neither stored nor being computed, grouped into tasks and
handed to an executor. Every sweep gets an id and a manifest (``<store>/.sweeps/<id>.json``: executor,
groups, configs, SLURM job ids) that ``status --sweep`` reads. Submitting the same list again runs only the
missing and failed runs: runs that are stored, claimed by a live process, or waiting in an array task of an
earlier SLURM sweep that ``squeue`` still lists are left alone; claims keep two sweeps that overlap anyway
from computing the same run. A run whose record exists but cannot be read (a colleague's file of mode 0600)
is left alone too and reported as unreadable: it is neither recomputed nor replaced. An existing store must
be writable only when there is something to run (a complete store read-only to its reader is just done).
"""

from __future__ import annotations

import json
import logging
import secrets
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from molpeg_bench.benchmark.config import RunConfig
from molpeg_bench.benchmark.data.sources import check_cache_writable
from molpeg_bench.benchmark.sweep_inputs import check_checkpoints, prepare_data
from molpeg_bench.fileio.atomic import write_text_atomic
from molpeg_bench.results.store import RunStore, UnreadableRecord
from molpeg_bench.slurm.claims import Claims
from molpeg_bench.slurm.executors import submit
from molpeg_bench.slurm.lifetime import sigterm_raises
from molpeg_bench.slurm.preflight import check_cluster
from molpeg_bench.slurm.profile import ClusterProfile
from molpeg_bench.slurm.progress import SweepProgress
from molpeg_bench.slurm.task import COMPUTED, ELSEWHERE, SKIPPED, UNREADABLE, RunTask

log = logging.getLogger(__name__)


@dataclass
class SweepSummary:
    sweep_id: str = ""
    executor: str = ""
    total: int = 0
    skipped: int = 0  # already stored when the sweep started (or finished meanwhile)
    running_elsewhere: int = 0  # claimed by another sweep: left to it
    unreadable: dict[str, str] = field(default_factory=dict)  # run id -> why its record cannot be read: left alone
    submitted: int = 0
    completed: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    job_ids: list[str] = field(default_factory=list)
    finished: bool = False  # False while the SLURM jobs of a non-waiting submission run


def unique_configs(configs: list[RunConfig]) -> list[RunConfig]:
    """One config per run id, order kept."""
    return list({c.run_id(): c for c in reversed(configs)}.values())[::-1]


def group_runs(configs: list[RunConfig], runs_per_task: int) -> list[list[RunConfig]]:
    if runs_per_task < 1:
        raise ValueError(f"runs_per_task must be >= 1, got {runs_per_task}")
    return [configs[i:i + runs_per_task] for i in range(0, len(configs), runs_per_task)]


def start_sweep(configs: list[RunConfig], store_root: str | Path, *, executor: str = "local", jobs: int = 1,
                profile: ClusterProfile | None = None, runs_per_task: int | None = None, wait: bool = True,
                name: str = "molpeg", threads: int | None = None) -> SweepSummary:
    """Run (or, on SLURM with ``wait=False``, submit) every config without a record or a live claim.

    ``runs_per_task``: runs one task executes in turn (default: the profile's on SLURM, else 1).
    """
    if executor == "slurm":  # before any work: one line when there is no cluster or the profile does not fit
        check_cluster(profile or ClusterProfile())
    store_root = Path(store_root)
    store, claims = RunStore(store_root), Claims(store_root)
    if not store_root.is_dir():  # no record there yet, so every run is to run: refused before any data is hashed
        store.check_writable()
    check_cache_writable()  # before the run ids, which may download raw data into it, and before featurizing
    check_checkpoints(configs)  # one error for the sweep, not one per run
    runs = unique_configs(configs)
    summary = SweepSummary(sweep_id=f"{time.strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(3)}", executor=executor,
                           total=len(runs))
    done, summary.unreadable = stored_runs(store, runs)
    settled = done | set(summary.unreadable)
    queued = queued_run_ids(store_root)
    busy = {c.run_id() for c in runs if c.run_id() not in settled
            and (c.run_id() in queued or claims.holder(c.run_id()) is not None)}
    left_alone = settled | busy
    todo = [c for c in runs if c.run_id() not in left_alone]
    summary.skipped, summary.running_elsewhere, summary.submitted = len(done), len(busy), len(todo)
    log.info("sweep %s: %d runs, %d already in %s, %d unreadable there (left alone), %d computed elsewhere, %d to "
             "run on %s", summary.sweep_id, len(runs), len(done), store_root, len(summary.unreadable), len(busy),
             len(todo), executor)
    if not todo:
        if wait and executor == "slurm" and busy:
            _wait_for_others([c for c in runs if c.run_id() in busy], store_root)
        summary.finished = True
        return summary
    store.check_writable()  # before any training: a read-only store fails now, not after the first run
    prepare_data(todo)
    if runs_per_task is None:
        runs_per_task = (profile or ClusterProfile()).runs_per_task if executor == "slurm" else 1
    groups = group_runs(todo, runs_per_task)
    manifest = _Manifest(store_root / ".sweeps" / f"{summary.sweep_id}.json", executor, groups)
    if executor != "slurm":  # a SLURM sweep is written once its jobs exist (a refused one leaves nothing)
        manifest.write()
    waiting = executor != "slurm" or wait
    progress = SweepProgress(todo, store_root, label=f"sweep {name}") if waiting else None
    with sigterm_raises():  # SIGTERM stops the workers like Ctrl-C; runs resume from their checkpoints
        submission = submit(executor, RunTask(str(store_root), threads), groups, jobs=jobs, profile=profile,
                            folder=store_root / ".submitit", name=name, on_tick=progress and progress.tick)
        summary.job_ids = submission.job_ids
        manifest.write(job_ids=submission.job_ids)
        if progress is None:  # SLURM without waiting: the arrays run on; `status` and `collect` follow them
            return summary
        outcomes = submission.wait(progress.tick, interval_s=10.0 if executor == "slurm" else 2.0)
    progress.close()
    if wait and executor == "slurm" and busy:
        _wait_for_others([c for c in runs if c.run_id() in busy], store_root)
    for run_id, outcome in outcomes.items():
        if outcome == COMPUTED:
            summary.completed.append(run_id)
        elif outcome == SKIPPED:
            summary.skipped += 1
        elif outcome == ELSEWHERE:
            summary.running_elsewhere += 1
        elif outcome.startswith(UNREADABLE):
            summary.unreadable[run_id] = outcome.removeprefix(f"{UNREADABLE}: ")
        else:
            summary.failed[run_id] = outcome
    summary.finished = True
    for run_id, error in summary.failed.items():
        log.error("run %s %s", run_id, error)
    return summary


def stored_runs(store: RunStore, runs: list[RunConfig]) -> tuple[set[str], dict[str, str]]:
    """The ids of ``runs`` with a valid complete record, and those whose record exists but cannot be read
    (id -> why), each reported: neither is run again."""
    done, unreadable = set(), {}
    for config in runs:
        try:
            if store.has(config.run_id()):
                done.add(config.run_id())
        except UnreadableRecord as exc:
            log.warning("%s", exc)
            unreadable[config.run_id()] = exc.reason
    return done, unreadable


def _wait_for_others(configs: list[RunConfig], store_root: Path, interval_s: float = 10.0) -> None:
    """Wait (with progress) until the runs left to earlier sweeps are stored or no longer queued or claimed."""
    progress, claims = SweepProgress(configs, store_root, label="runs of earlier sweeps"), Claims(store_root)
    log.info("waiting for %d run(s) of earlier sweeps still queued or running", len(configs))
    while True:
        progress.tick()
        left = [c.run_id() for c in configs if not progress.store.has(c.run_id())]
        queued = queued_run_ids(store_root) if left else set()
        if not [r for r in left if r in queued or claims.holder(r) is not None]:
            break
        time.sleep(interval_s)
    progress.close()


@dataclass
class _Manifest:
    path: Path
    executor: str
    groups: list[list[RunConfig]]

    def write(self, job_ids: list[str] | None = None) -> None:
        body = {"executor": self.executor, "created": time.time(), "job_ids": job_ids or [],
                "groups": [[c.run_id() for c in g] for g in self.groups],
                "configs": [c.to_dict() for g in self.groups for c in g]}
        write_text_atomic(self.path, json.dumps(body, indent=1))


def queued_run_ids(store_root: str | Path) -> set[str]:
    """Runs of this store's earlier SLURM sweeps whose array task is still pending or running."""
    manifests = [json.loads(p.read_text()) for p in (Path(store_root) / ".sweeps").glob("*.json")]
    manifests = [m for m in manifests if m["executor"] == "slurm" and m["job_ids"]]
    if not manifests or shutil.which("squeue") is None:
        return set()
    arrays = sorted({j.split("_")[0] for m in manifests for j in m["job_ids"]})
    try:
        out = subprocess.run(["squeue", "--noheader", "--array", "--format=%i", "--jobs", ",".join(arrays)],
                             capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.SubprocessError) as exc:
        log.warning("squeue failed (%s): runs queued by earlier sweeps may be queued again (claims still keep "
                    "them from being computed twice)", exc)
        return set()
    live = set(out.stdout.split())
    return {run_id for m in manifests for job, group in zip(m["job_ids"], m["groups"], strict=True)
            if job in live for run_id in group}


def load_manifest(store_root: str | Path, sweep_id: str) -> dict:
    path = Path(store_root) / ".sweeps" / f"{sweep_id}.json"
    if not path.is_file():
        known = sorted(p.stem for p in path.parent.glob("*.json"))
        raise FileNotFoundError(f"no sweep {sweep_id!r} in {path.parent} (known: {known[-5:] or 'none'})")
    return json.loads(path.read_text())


def run_sweep(configs: list[RunConfig], store_root: str | Path, jobs: int = 1) -> SweepSummary:
    """Run the configs without a record, in this process (``jobs`` <= 1) or in ``jobs`` worker processes:
    ``start_sweep`` for scripts and tests."""
    return start_sweep(configs, store_root, executor="debug" if jobs <= 1 else "local", jobs=jobs)
