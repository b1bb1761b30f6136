"""Fan-out of many fine-tuning runs: ``debug`` (in process), ``local`` (worker processes) and ``slurm``
(submitit job arrays) executors over one code path, with claims so concurrent sweeps never compute the same
run, per-run resumable checkpoints, and ``status`` of a sweep. Knows how to execute a run config and where
records live; knows no method or model."""

from slurm.executors import EXECUTORS
from slurm.profile import ClusterProfile, load_profile
from slurm.status import run_states, status_report
from slurm.sweep import SweepSummary, start_sweep

__all__ = ["EXECUTORS", "ClusterProfile", "SweepSummary", "load_profile", "run_states", "start_sweep",
           "status_report"]
