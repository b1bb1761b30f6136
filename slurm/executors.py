"""Three ways to run the same ``RunTask`` over groups of run configs (one code path, three places).

- ``debug``: in this process, one group after another (breakpoints work).
- ``local``: worker processes on this machine (``jobs`` at once, ``cpu_count // jobs`` threads each).
- ``slurm``: one submitit job array on a SLURM cluster, sized by a ``ClusterProfile``.

``submit`` returns at once for ``slurm`` (the jobs run on the cluster) and after the work for the
others; ``Submission.wait()`` gives {run id: outcome} in every case.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path

from benchmark.config import RunConfig
from slurm.lifetime import bind_to_parent, run_stoppable
from slurm.preflight import ClusterUnfit
from slurm.profile import ClusterProfile
from slurm.task import FAILED, RunTask

log = logging.getLogger(__name__)
EXECUTORS = ("debug", "local", "slurm")
PROJECT_ROOT = Path(__file__).resolve().parents[1]


@dataclass
class Submission:
    """Handles on the submitted groups; ``job_ids`` are SLURM ids (empty for debug / local)."""

    groups: list[list[RunConfig]]
    futures: list = field(default_factory=list)  # submitit jobs or concurrent futures, one per group
    job_ids: list[str] = field(default_factory=list)

    def wait(self, on_tick: Callable[[], None] | None = None, interval_s: float = 2.0) -> dict[str, str]:
        """Block until every group ended, calling ``on_tick`` every ``interval_s`` meanwhile; {run id: outcome}.
        A task that died marks its runs failed."""
        while on_tick is not None and not all(f.done() for f in self.futures):
            on_tick()
            time.sleep(interval_s)
        outcomes: dict[str, str] = {}
        for group, future in zip(self.groups, self.futures, strict=True):
            try:
                outcomes.update(future.result())
            except Exception as exc:  # the whole task died (killed worker, job failure on the cluster)
                reason = f"{FAILED}: task died: {type(exc).__name__}: {str(exc).strip()[-500:]}"
                outcomes.update({c.run_id(): reason for c in group})
        return outcomes


def submit(executor: str, task: RunTask, groups: list[list[RunConfig]], *, jobs: int = 1,
           profile: ClusterProfile | None = None, folder: str | Path | None = None, name: str = "molpeg",
           on_tick: Callable[[], None] | None = None) -> Submission:
    """Run ``task(group)`` for each group on ``executor``; ``on_tick`` is called while local workers run
    and after each group of the debug executor (progress)."""
    if executor == "debug":
        return Submission(groups, [_done(task, g, on_tick) for g in groups])
    if executor == "local":
        return _submit_local(task, groups, jobs, on_tick)
    if executor == "slurm":
        if folder is None:
            raise ValueError("the slurm executor needs a folder for submitit's job files and logs")
        return _submit_slurm(task, groups, profile or ClusterProfile(), Path(folder), name)
    raise ValueError(f"unknown executor {executor!r}; expected one of {EXECUTORS}")


def _done(task: RunTask, group: list[RunConfig], on_tick: Callable[[], None] | None = None) -> Future:
    future: Future = Future()
    try:
        future.set_result(task(group))
    except Exception as exc:
        future.set_exception(exc)
    if on_tick is not None:
        on_tick()
    return future


def _worker_init(parent_pid: int) -> None:
    logging.basicConfig(level=logging.WARNING)
    bind_to_parent(parent_pid)


def _submit_local(task: RunTask, groups: list[list[RunConfig]], jobs: int,
                  on_tick: Callable[[], None] | None = None) -> Submission:
    jobs = max(1, min(jobs, len(groups)))
    threads = task.threads or max(1, (os.cpu_count() or 1) // jobs)
    task = RunTask(task.store_root, threads)
    pool = ProcessPoolExecutor(jobs, mp_context=get_context("spawn"), initializer=_worker_init,
                               initargs=(os.getpid(),))
    try:
        futures = [pool.submit(run_stoppable, task, g) for g in groups]
        submission = Submission(groups, futures)
        submission.wait(on_tick)  # inside the pool's lifetime: a crashed worker fails its group, not the sweep
    except BaseException:  # Ctrl-C, SIGTERM (``Stopped``) or a bug here: no worker may outlive the sweep
        _stop_workers(pool)
        raise
    pool.shutdown()
    return submission


def _stop_workers(pool: ProcessPoolExecutor, grace_s: float = 30.0) -> None:
    """SIGTERM every worker (each stops its run: claim released, checkpoint kept), then wait for them."""
    workers = list((pool._processes or {}).values())  # the pool has no public handle on its processes
    pool.shutdown(wait=False, cancel_futures=True)
    for p in workers:
        if p.is_alive():
            p.terminate()
    deadline = time.monotonic() + grace_s
    for p in workers:
        p.join(max(0.0, deadline - time.monotonic()))
        if p.is_alive():
            p.kill()
            p.join()
    log.warning("stopped %d worker(s); their runs resume from their last epoch at the next sweep", len(workers))


def _submit_slurm(task: RunTask, groups: list[list[RunConfig]], profile: ClusterProfile, folder: Path,
                  name: str) -> Submission:
    import submitit

    executor = submitit.AutoExecutor(folder=folder / "%j", cluster="slurm",
                                     slurm_max_num_timeout=profile.max_requeues)
    params = dict(name=name, timeout_min=profile.timeout_min, cpus_per_task=profile.cpus_per_task,
                  slurm_array_parallelism=profile.array_parallelism, slurm_signal_delay_s=profile.signal_delay_s,
                  # the job imports this checkout, whatever is installed on the node
                  slurm_setup=[*profile.setup, f"export PYTHONPATH={PROJECT_ROOT}${{PYTHONPATH:+:$PYTHONPATH}}"])
    if profile.partition:
        params["slurm_partition"] = profile.partition
    if profile.gpus_per_task:
        params["gpus_per_node"] = profile.gpus_per_task
    if profile.mem_gb:
        params["mem_gb"] = profile.mem_gb
    for key in ("account", "qos"):
        if getattr(profile, key):
            params[f"slurm_{key}"] = getattr(profile, key)
    if profile.extra:
        params["slurm_additional_parameters"] = dict(profile.extra)
    executor.update_parameters(**params)
    task = RunTask(task.store_root, task.threads or profile.cpus_per_task)
    try:
        jobs = executor.map_array(task, groups)
    except submitit.core.utils.FailedJobError as exc:  # sbatch refused: its own last line says why
        lines = [line for line in str(exc).splitlines() if "error" in line.lower()] or str(exc).splitlines()
        raise ClusterUnfit(f"sbatch refused the job array: {lines[-1].strip()}") from exc
    log.info("submitted %d array task(s) to SLURM: %s", len(jobs), jobs[0].job_id.split("_")[0] if jobs else "-")
    return Submission(groups, jobs, [j.job_id for j in jobs])
