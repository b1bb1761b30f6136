"""Data-pruning methods behind one ``Pruner`` interface, registered by name.

Usable without the rest of the suite: ``from molpeg_bench import MolPeg`` (or ``molpeg_bench.methods``).
"""

from molpeg_bench.methods import (  # noqa: F401  (registration)
    bandit,
    craig,
    dataset_pruning,
    deepfool,
    diversity,
    error_norms,
    forgetting,
    glister,
    influence,
    infobatch,
    kmeans,
    molpeg,
    random_static,
    soft_random,
    uncertainty,
)
from molpeg_bench.methods.base import DynamicPruner, EpochPlan, Pruner, Requirements, Selection, StaticPruner
from molpeg_bench.methods.budget import budget
from molpeg_bench.methods.infobatch import InfoBatch
from molpeg_bench.methods.molpeg import MolPeg
from molpeg_bench.methods.registry import available_methods, get_method, make_pruner, register, seal_built_ins
from molpeg_bench.methods.soft_random import SoftRandom

seal_built_ins()

__all__ = ["DynamicPruner", "EpochPlan", "InfoBatch", "MolPeg", "Pruner", "Requirements", "Selection",
           "SoftRandom", "StaticPruner", "available_methods", "budget", "get_method", "make_pruner",
           "register"]
