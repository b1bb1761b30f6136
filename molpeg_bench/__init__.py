"""MolPeg benchmark suite: data pruning for fine-tuning pretrained molecular models.

The one import root of the suite. Its folders are subpackages: ``molpeg_bench.methods`` (the ``Pruner``
interface, MolPeg and the baselines, usable in any training loop), ``molpeg_bench.benchmark`` (one fine-tuning
run, the grids, the command line), ``molpeg_bench.slurm``, ``molpeg_bench.results``, ``molpeg_bench.pretrain``,
``molpeg_bench.fileio`` and ``molpeg_bench.bench``. The names below are imported on first use, so
``import molpeg_bench`` costs nothing until a method is asked for.
"""

from __future__ import annotations

from molpeg_bench._version import suite_version
from molpeg_bench.fileio.lazy import lazy_names

__version__ = suite_version()
_names, __getattr__ = lazy_names(__name__, {"molpeg_bench.methods": (
    "MolPeg", "InfoBatch", "SoftRandom", "Pruner", "StaticPruner", "DynamicPruner", "EpochPlan", "Requirements",
    "Selection", "available_methods", "get_method", "make_pruner", "register")})
__all__ = ["__version__", *_names]
