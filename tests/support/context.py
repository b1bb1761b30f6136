"""A small in-memory ``SelectionContext`` for method tests: a linear head over given embeddings.

``heads_by_seed`` maps a warm-up seed_index to an ``nn.Linear`` head (default ``head``); every model sees the
same embeddings ``h``/``h_valid``, except the pretrained model when ``pretrained_head`` (and optionally
``pretrained_h``) are given: then the pretrained and the warm-up model differ, as in a real run. Each warm-up
epoch is its own model: ``heads_by_epoch`` gives an epoch a head of its own, and once ``served_epochs`` is set
(``serve``) a model or correctness of any other epoch is refused, so a method that reads the wrong epoch
fails. Factors follow the contract exactly.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn


def linear_head(weight: np.ndarray, bias: np.ndarray) -> nn.Linear:
    head = nn.Linear(weight.shape[1], weight.shape[0]).double()
    with torch.no_grad():
        head.weight.copy_(torch.as_tensor(weight))
        head.bias.copy_(torch.as_tensor(bias))
    return head.eval()


@dataclass
class FakeContext:
    h: np.ndarray  # [N, d]
    labels: np.ndarray  # [N, T]
    head: nn.Linear
    h_valid: np.ndarray | None = None
    valid_labels: np.ndarray | None = None
    task_type: str = "binary"
    lr: float = 1e-3
    correctness: list[np.ndarray] | None = None
    smiles: list[str] = field(default_factory=list)
    heads_by_seed: dict[int, nn.Linear] = field(default_factory=dict)
    batches: list = field(default_factory=list)  # InputEmbeddingBatch list for DeepFool
    calls: list = field(default_factory=list)
    pretrained_head: nn.Linear | None = None  # the pretrained model (default: ``head``)
    pretrained_h: np.ndarray | None = None  # its training embeddings (default: ``h``)
    heads_by_epoch: dict[int, nn.Linear] = field(default_factory=dict)  # the warm-up model after epoch e
    served_epochs: set[int] | None = None  # the warm-up lengths held (None: any)

    def __post_init__(self):
        self.n_samples, self.num_tasks = self.labels.shape
        self.rng = np.random.default_rng(0)

    def pretrained_model(self) -> nn.Module:
        self.calls.append(("pretrained",))
        return self.head if self.pretrained_head is None else self.pretrained_head

    def warmup_model(self, epochs: int, seed_index: int = 0) -> nn.Module:
        self.calls.append(("warmup", epochs, seed_index))
        self._check_epoch(epochs)
        if epochs in self.heads_by_epoch:
            return self.heads_by_epoch[epochs]
        return self.heads_by_seed.get(seed_index, self.head)

    def warmup_correctness(self, epochs: int, seed_index: int = 0) -> list[np.ndarray]:
        self.calls.append(("correctness", epochs, seed_index))
        self._check_epoch(epochs)
        return self.correctness[:epochs]

    def serve(self, *epochs: int) -> None:
        """Hold warm-up models of these lengths (besides those already held) and no others."""
        self.served_epochs = (self.served_epochs or set()) | {e for e in epochs if e > 0}

    def _check_epoch(self, epochs: int) -> None:
        held = (self.served_epochs or set()) | set(self.heads_by_epoch)
        if self.served_epochs is not None and epochs not in held:
            raise LookupError(f"no warm-up model after {epochs} epochs here (held: {sorted(held)})")

    def _split(self, split: str, model: nn.Module | None = None) -> tuple[np.ndarray, np.ndarray]:
        if split != "train":
            return self.h_valid, self.valid_labels
        pretrained = model is not None and model is self.pretrained_head and self.pretrained_h is not None
        return (self.pretrained_h if pretrained else self.h), self.labels

    def embeddings(self, model: nn.Module, split: str = "train") -> np.ndarray:
        return self._split(split, model)[0]

    def logits(self, model: nn.Module, split: str = "train") -> np.ndarray:
        with torch.no_grad():
            return model(torch.as_tensor(self._split(split, model)[0], dtype=torch.float64)).numpy()

    def last_layer_factors(self, model: nn.Module, split: str = "train") -> tuple[np.ndarray, np.ndarray]:
        h, y = self._split(split, model)
        z = self.logits(model, split)
        err = z - y if self.task_type == "regression" else 1.0 / (1.0 + np.exp(-z)) - y
        e = np.where(np.isnan(y), 0.0, err)
        return e, np.hstack([h, np.ones((len(h), 1))])

    def input_embedding_batches(self, model: nn.Module, batch_size: int):
        return iter(self.batches)

    def describe(self) -> dict:
        return {"calls": len(self.calls)}


def random_context(n: int = 40, d: int = 5, t: int = 3, n_valid: int = 30, seed: int = 0,
                   missing: float = 0.2, task_type: str = "binary") -> FakeContext:
    """Random embeddings, a random head and labels drawn from it, with ``missing`` NaN labels."""
    rng = np.random.default_rng(seed)
    weight, bias = rng.normal(size=(t, d)), rng.normal(size=t) * 0.3
    h, h_valid = rng.normal(size=(n, d)), rng.normal(size=(n_valid, d))

    def draw(x: np.ndarray) -> np.ndarray:
        z = x @ weight.T + bias + rng.normal(size=(len(x), t))
        y = z + rng.normal(size=z.shape) if task_type == "regression" else (z > 0).astype(np.float64)
        y[rng.random(y.shape) < missing] = np.nan
        return y

    return FakeContext(h=h, labels=draw(h), head=linear_head(weight, bias), h_valid=h_valid,
                       valid_labels=draw(h_valid), task_type=task_type)
