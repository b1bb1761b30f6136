"""Where a sweep stands: each run is done (record stored), unreadable (its record exists but cannot be read,
e.g. another user's file of mode 0600: a sweep leaves it alone), running (claimed by a live process), failed
(its last attempt raised; error and log tail kept in its run folder) or pending; counted per experiment
(dataset x method)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from molpeg_bench.benchmark.config import RunConfig
from molpeg_bench.benchmark.resume import EpochCheckpoint
from molpeg_bench.results.store import RunStore, UnreadableRecord
from molpeg_bench.slurm.claims import Claims
from molpeg_bench.slurm.sweep import unique_configs
from molpeg_bench.slurm.task import RunFolder

STATES = ("done", "unreadable", "running", "failed", "pending")


@dataclass(frozen=True)
class RunState:
    config: RunConfig
    state: str
    holder: dict | None = None  # who computes it (running)
    epoch: int | None = None  # last epoch in its checkpoint (running)
    failure: dict | None = None  # error of the last attempt (failed)
    unreadable: str | None = None  # why its record cannot be read (unreadable)
    log_tail: tuple[str, ...] = ()


def run_states(configs: list[RunConfig], store_root: str | Path, log_lines: int = 15) -> list[RunState]:
    store, claims = RunStore(store_root), Claims(store_root)
    states = []
    for config in unique_configs(configs):
        run_id = config.run_id()
        try:
            stored = store.has(run_id)
        except UnreadableRecord as exc:
            states.append(RunState(config, "unreadable", unreadable=f"{exc.path}: {exc.reason}"))
            continue
        if stored:
            states.append(RunState(config, "done"))
        elif (holder := claims.holder(run_id)) is not None:
            epoch = EpochCheckpoint(RunFolder(store_root, run_id).epoch_checkpoint, run_id).completed_epoch()
            states.append(RunState(config, "running", holder=holder, epoch=epoch))
        elif (failure := (folder := RunFolder(store_root, run_id)).read_failure()) is not None:
            states.append(RunState(config, "failed", failure=failure, log_tail=tuple(folder.log_tail(log_lines))))
        else:
            states.append(RunState(config, "pending"))
    return states


def status_report(states: list[RunState]) -> str:
    """A table of done / unreadable / running / failed / pending per experiment, then each unreadable run's
    record and why, and each failed run's error and log."""
    counts: dict[tuple[str, str], Counter] = {}
    for s in states:
        counts.setdefault((s.config.dataset, s.config.method), Counter())[s.state] += 1
    total = Counter(s.state for s in states)
    width = max([len(f"{d} {m}") for d, m in counts] + [10])
    shown = [h for h in STATES if h != "unreadable" or total[h]]  # a column of its own when there are any
    lines = [f"{'experiment':{width}s} " + " ".join(f"{h:>10s}" if h == "unreadable" else f"{h:>8s}" for h in shown)]
    for (dataset, method), c in counts.items():
        lines.append(f"{dataset + ' ' + method:{width}s} " + _counts(c, shown))
    lines.append(f"{'total':{width}s} " + _counts(total, shown))
    for s in states:
        if s.state == "running" and s.holder:
            job = f" job {s.holder['slurm_job']}" if s.holder.get("slurm_job") else ""
            lines.append(f"running {s.config.run_id()} ({_name(s.config)}) on {s.holder.get('host')} "
                         f"pid {s.holder.get('pid')}{job}: epoch {s.epoch or 0}/{s.config.epochs} done")
    for s in states:
        if s.state == "unreadable":
            lines.append(f"unreadable {s.config.run_id()} ({_name(s.config)}): {s.unreadable}; left alone")
    for s in states:
        if s.state == "failed":
            lines.append(f"\nFAILED {s.config.run_id()} ({_name(s.config)}): {s.failure.get('error')}")
            lines += [f"  | {line}" for line in s.log_tail]
    return "\n".join(lines)


def _counts(counts: Counter, states: list[str]) -> str:
    return " ".join(f"{counts[h]:10d}" if h == "unreadable" else f"{counts[h]:8d}" for h in states)


def _name(config: RunConfig) -> str:
    return f"{config.dataset} {config.method} {config.prune_ratio:g} seed {config.seed}"
