"""What a static method may ask of the code that runs it (``SelectionContext``).

The fine-tuning suite implements this protocol (``benchmark.selection_context``); a user can
implement it for their own data. Arrays are in training-set order (position i = sample i).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

import numpy as np
from torch import nn


class SelectionContext(Protocol):
    n_samples: int
    num_tasks: int
    task_type: str  # "binary" (multi-task, missing labels allowed) or "regression"
    labels: np.ndarray  # [N, T] float, NaN = missing
    rng: np.random.Generator

    def pretrained_model(self) -> nn.Module:
        """Pretrained encoder + fresh head (never trained on the task)."""

    def warmup_model(self, epochs: int, on_batch: Callable[..., None] | None = None) -> nn.Module:
        """A copy fine-tuned on the full training set for ``epochs`` epochs (cached per epochs/seed).
        ``on_batch(indices, logits, labels)`` is called before each optimizer step."""

    def embeddings(self, model: nn.Module) -> np.ndarray:
        """[N, d] pooled graph embeddings (the head's input), eval mode."""

    def logits(self, model: nn.Module) -> np.ndarray:
        """[N, T] head outputs, eval mode."""

    def last_layer_factors(self, model: nn.Module, split: str = "train") -> tuple[np.ndarray, np.ndarray]:
        """(e [N, T], h̃ [N, d+1]): per-sample last-layer gradient g_i = [e_i ; e_i ⊗ h_i]."""

    def describe(self) -> dict[str, Any]:
        """What the context computed (warm-up epochs, timings) for the run record."""
