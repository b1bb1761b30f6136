"""What a static method may ask of the code that runs it (``SelectionContext``).

The fine-tuning suite implements this protocol (``benchmark.selection.context``); a user can
implement it for their own data. Arrays are in training-set order (position i = sample i).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import torch
from torch import nn


@dataclass(frozen=True)
class InputEmbeddingBatch:
    """One batch of training molecules exposed at the node input embeddings (DeepFool)."""

    indices: np.ndarray  # [B] training-set positions
    node_embeddings: torch.Tensor  # [n_nodes, d0] node input embeddings u (detached, a leaf to perturb)
    node_graph: torch.Tensor  # [n_nodes] long, graph (0..B-1) of each node
    forward: Callable[[torch.Tensor], torch.Tensor]  # u -> logits [B, T]: GIN layers, pooling, head
    # optional: graph positions (sorted, in 0..B-1) -> the batch of those graphs alone, nodes in the same
    # order; lets DeepFool stop computing molecules that already crossed a boundary
    subset: Callable[[torch.Tensor], InputEmbeddingBatch] | None = None


class SelectionContext(Protocol):
    n_samples: int  # N training samples; arrays are in training-set order
    num_tasks: int  # T
    task_type: str  # "binary" (multi-task, NaN = missing label) or "regression"
    labels: np.ndarray  # [N, T] float, NaN = missing
    valid_labels: np.ndarray  # [N_val, T] float, NaN = missing
    smiles: list[str]  # [N] training SMILES (fingerprint K-Means option)
    lr: float  # fine-tuning learning rate (Glister's step)
    rng: np.random.Generator  # seeded from the run seed

    def pretrained_model(self) -> nn.Module:
        """Pretrained encoder + fresh head (never trained on the task), eval mode."""

    def warmup_model(self, epochs: int, seed_index: int = 0) -> nn.Module:
        """Eval-mode copy of the warm-up model after ``epochs`` epochs of warm-up run ``seed_index``
        (0, 1, ...: independent warm-up initialisations/orders, for averaging GraNd/EL2N over seeds).
        One warm-up run serves every length: epochs=4 is the epoch-4 snapshot of the same run that
        epochs=20 continues (GraNd-4 and GraNd-20 share it). Cached on disk across runs and processes."""

    def warmup_correctness(self, epochs: int, seed_index: int = 0) -> list[np.ndarray]:
        """Training dynamics of that same warm-up run (Forgetting): ``epochs`` arrays, one per epoch
        1..epochs, each bool [N, T]: was sample i's prediction for task t correct (binary: σ(z) ≥ 0.5 ⇔
        label 1) in the forward pass of its presentation in that epoch, before that step's update.
        Entries with a missing label are False; combine with ~isnan(labels)."""

    def embeddings(self, model: nn.Module, split: str = "train") -> np.ndarray:
        """[N, d] pooled graph embeddings h (the head's input), eval mode; split "train" or "valid"."""

    def logits(self, model: nn.Module, split: str = "train") -> np.ndarray:
        """[N, T] head outputs z, eval mode."""

    def last_layer_factors(self, model: nn.Module, split: str = "train") -> tuple[np.ndarray, np.ndarray]:
        """(e [N, T], h̃ [N, d+1]) with h̃ = [h ; 1]: the per-sample last-layer gradient of the
        sum-reduced masked loss is g_i = [e_i ; e_i ⊗ h_i] (bias block first). Binary: e = m·(σ(z) − y);
        regression: e = ŷ − y (MSE gradient, docs/methods/index.md#regression)."""

    def input_embedding_batches(self, model: nn.Module, batch_size: int) -> Iterator[InputEmbeddingBatch]:
        """DeepFool: the training set in order, batch by batch, eval mode."""

    def describe(self) -> dict[str, Any]:
        """What the context computed (warm-up runs trained or reused, timings) for the run record."""
