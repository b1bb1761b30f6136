"""Fan-out of many fine-tuning runs: ``debug`` (in process), ``local`` (worker processes) and ``slurm``
(submitit job arrays) executors over one code path, with claims so concurrent sweeps never compute the same
run, per-run resumable checkpoints, and ``status`` of a sweep. Knows how to execute a run config and where
records live; knows no method or model.

The names below are imported on first use, so ``slurm.preflight`` and ``slurm.profile`` answer without
loading torch (a sweep that cannot reach its cluster says so in a second).
"""

from molpeg_bench.fileio.lazy import lazy_names

__all__, __getattr__ = lazy_names(__name__, {
    "molpeg_bench.slurm.executors": ("EXECUTORS",),
    "molpeg_bench.slurm.profile": ("ClusterProfile", "load_profile"),
    "molpeg_bench.slurm.status": ("run_states", "status_report"),
    "molpeg_bench.slurm.sweep": ("SweepSummary", "start_sweep"),
})
