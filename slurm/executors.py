"""Three ways to run the same ``RunTask`` over groups of run configs (one code path, three places).

- ``debug``: in this process, one group after another (breakpoints work).
- ``local``: worker processes on this machine (``jobs`` at once, ``cpu_count // jobs`` threads each). A
  worker that dies (SIGKILL, the OOM killer, a crash) fails only the run it was computing: the other runs go
  on in a fresh pool, and that run is retried once there (resuming from its epoch checkpoint) before it is
  reported failed.
- ``slurm``: one submitit job array on a SLURM cluster, sized by a ``ClusterProfile``.

``submit`` returns at once for ``slurm`` (the jobs run on the cluster) and after the work for the
others; ``Submission.wait()`` gives {run id: outcome} in every case.
"""

from __future__ import annotations

import logging
import os
import signal
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures import wait as wait_for
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path

from molpeg_bench.benchmark.config import RunConfig
from molpeg_bench.slurm.lifetime import bind_to_parent, run_stoppable
from molpeg_bench.slurm.preflight import ClusterUnfit
from molpeg_bench.slurm.profile import ClusterProfile
from molpeg_bench.slurm.task import COMPUTED, FAILED, RunFolder, RunTask

log = logging.getLogger(__name__)
EXECUTORS = ("debug", "local", "slurm")
PROJECT_ROOT = Path(__file__).resolve().parents[1]
TRIES_AFTER_A_DEATH = 2  # a run whose worker died is run once more before it counts as failed
STOPPED_EXITS = (128 + signal.SIGTERM, -signal.SIGTERM)  # a worker the pool stopped once another one died
_started = None  # in a local worker: where it announces (group, pid) as it starts a group


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


def _worker_init(parent_pid: int, started) -> None:
    global _started
    _started = started
    logging.basicConfig(level=logging.WARNING)
    bind_to_parent(parent_pid)


def _run_group(task: RunTask, index: int, group: list[RunConfig]) -> dict[str, str]:
    """In a local worker: announce the group, then run it."""
    _started.put((index, os.getpid()))
    return run_stoppable(task, group)


def _submit_local(task: RunTask, groups: list[list[RunConfig]], jobs: int,
                  on_tick: Callable[[], None] | None = None) -> Submission:
    """Run the groups in pools of ``jobs`` workers: one pool, and a fresh one for what is left each time a
    worker dies (a pool with a dead worker is unusable, and its other workers are stopped)."""
    jobs = max(1, min(jobs, len(groups)))
    threads = task.threads or max(1, (os.cpu_count() or 1) // jobs)
    task = RunTask(task.store_root, threads)
    todo, outcomes, deaths = dict(enumerate(groups)), {i: {} for i in range(len(groups))}, Counter()
    barren = 0  # pools in a row that ran nothing (their workers died before starting any group)
    while todo and barren < 3:
        done, lost = _pool_round(task, todo, jobs, on_tick)
        barren = 0 if done or lost else barren + 1
        for index, result in done.items():
            outcomes[index] |= result
            del todo[index]
        for index, died in lost.items():
            deaths[index] += 1
            todo[index] = _after_death(task.store_root, todo.pop(index), outcomes[index], died, deaths[index])
            if not todo[index]:
                del todo[index]
    for index, group in todo.items():
        outcomes[index] |= {c.run_id(): f"{FAILED}: worker processes died before they could run it" for c in group}
    futures = [Future() for _ in groups]
    for future, result in zip(futures, outcomes.values(), strict=True):
        future.set_result(result)
    return Submission(groups, futures)


def _pool_round(task: RunTask, todo: dict[int, list[RunConfig]], jobs: int,
                on_tick: Callable[[], None] | None) -> tuple[dict[int, dict], dict[int, str]]:
    """Run ``todo`` (group index -> runs) in one pool until every group returned or the pool broke: the
    outcomes of the groups that returned, and how the worker died for each group lost with its worker. A
    group the broken pool never started, or stopped, is in neither: it runs again in the next pool. When no
    worker died otherwise, the pool's workers were stopped from outside: every group they held is lost."""
    context = get_context("spawn")
    started = context.SimpleQueue()
    pool = ProcessPoolExecutor(min(jobs, len(todo)), mp_context=context, initializer=_worker_init,
                               initargs=(os.getpid(), started))
    workers, pids = {}, {}
    try:
        futures = {index: pool.submit(_run_group, task, index, group) for index, group in todo.items()}
        while wait_for(futures.values(), timeout=2.0).not_done:  # a broken pool fails every future left
            workers |= pool._processes or {}  # the pool has no public handle on its processes
            while not started.empty():
                pids.update([started.get()])
            if on_tick is not None:
                on_tick()
    except BaseException:  # Ctrl-C, SIGTERM (``Stopped``) or a bug here: no worker may outlive the sweep
        _stop_workers(pool)
        raise
    workers |= pool._processes or {}
    pool.shutdown(wait=True)  # a broken pool has stopped and joined its workers: their exit codes are known
    while not started.empty():
        pids.update([started.get()])
    done, lost, stopped = {}, {}, {}
    for index, future in futures.items():
        error = future.exception()
        if error is None:
            done[index] = future.result()
        elif not isinstance(error, BrokenProcessPool):  # the task itself failed (e.g. it could not be sent)
            reason = f"{FAILED}: task died: {type(error).__name__}: {str(error).strip()[-500:]}"
            done[index] = {c.run_id(): reason for c in todo[index]}
        elif index in pids:
            code = getattr(workers.get(pids[index]), "exitcode", None)
            (stopped if code in STOPPED_EXITS else lost)[index] = _exit_text(pids[index], code)
    return done, lost or stopped


def _exit_text(pid: int, code: int | None) -> str:
    if code is None:
        return f"worker {pid}, exit status unknown"
    return f"worker {pid}, " + (f"killed by {signal.Signals(-code).name}" if code < 0 else f"exit code {code}")


def _after_death(store_root: str, group: list[RunConfig], outcomes: dict[str, str], died: str,
                 deaths: int) -> list[RunConfig]:
    """The runs of ``group`` to try again after its worker died (``deaths`` times so far, ``died`` how): none
    once it has had its tries. Its runs stored before the death count as computed, the others as failed."""
    from molpeg_bench.results.store import RunStore

    store = RunStore(store_root)
    left = [c for c in group if not store.has(c.run_id())]
    outcomes |= {c.run_id(): COMPUTED for c in group if c not in left}
    if not left:
        return []
    running = left[0]  # a group's runs go in order: the first one not stored is the one it was computing
    name = f"run {running.run_id()} ({running.dataset} {running.method} {running.prune_ratio:g} seed {running.seed})"
    if deaths < TRIES_AFTER_A_DEATH:
        log.warning("the worker process computing %s died (%s); running it again in a fresh pool", name, died)
        return left
    reason = f"its worker process died ({died}), {deaths} times running it"
    RunFolder(store_root, running.run_id()).write_failure(WorkerDied(reason))
    outcomes |= {running.run_id(): f"{FAILED}: {reason}"}
    outcomes |= {c.run_id(): f"{FAILED}: not run: its task's worker died on {name}" for c in left[1:]}
    return []


class WorkerDied(RuntimeError):
    """The worker process computing a run ended without unwinding (killed, crashed)."""


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
