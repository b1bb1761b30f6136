"""An example pruning method for the MolPeg benchmark suite, installed as its own package."""

from my_pruner.method import LossProportional

__all__ = ["LossProportional"]
