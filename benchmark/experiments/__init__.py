"""The experiments: named grids of run configs behind each table and figure (``grids``, ``grids_3d``), the
presets they are sized by and the QM9 fine-tuning protocols."""

from molpeg_bench.benchmark.experiments.grids import (
    GRIDS,
    TABLE1_DYNAMIC,
    TABLE1_METHODS,
    TABLE1_STATIC,
    build_grid,
    preset_run,
)

__all__ = ["GRIDS", "TABLE1_DYNAMIC", "TABLE1_METHODS", "TABLE1_STATIC", "build_grid", "preset_run"]
