"""Fan-out of many fine-tuning runs: ``debug`` (in process), ``local`` (worker processes) and ``slurm``
(submitit job arrays) executors over one code path, with claims so concurrent sweeps never compute the same
run, per-run resumable checkpoints, and ``status`` of a sweep. Knows how to execute a run config and where
records live; knows no method or model.

The names below are imported on first use, so ``slurm.preflight`` and ``slurm.profile`` answer without
loading torch (a sweep that cannot reach its cluster says so in a second).
"""

from importlib import import_module

_EXPORTS = {"EXECUTORS": "molpeg_bench.slurm.executors", "ClusterProfile": "molpeg_bench.slurm.profile",
            "load_profile": "molpeg_bench.slurm.profile", "run_states": "molpeg_bench.slurm.status",
            "status_report": "molpeg_bench.slurm.status", "SweepSummary": "molpeg_bench.slurm.sweep",
            "start_sweep": "molpeg_bench.slurm.sweep"}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name not in _EXPORTS:
        raise AttributeError(f"module 'slurm' has no attribute {name!r}")
    return getattr(import_module(_EXPORTS[name]), name)
