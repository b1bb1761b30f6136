"""The suite's implementation of ``methods.context.SelectionContext``, composed of small services:

- ``SplitFeatures`` (``benchmark.selection.features``): eval-mode passes over the train / valid split
  (embeddings, logits, last-layer gradient factors, the node input embeddings DeepFool perturbs);
- ``WarmupService``: the warm-up runs, fetched from the disk cache (``benchmark.selection.warmup_cache``) or
  trained there, with the time each costs and whether this run trained or reused it;
- ``FineTuneContext``: the protocol itself, lending exactly what the method's ``Requirements`` declare.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cache as cache_result
from functools import partial
from typing import Any

import numpy as np
import torch
from torch import nn

from molpeg_bench.benchmark.config import RunConfig
from molpeg_bench.benchmark.data.graph_store import GraphStore
from molpeg_bench.benchmark.selection.features import SplitFeatures
from molpeg_bench.benchmark.selection.score_cache import ScoreCache
from molpeg_bench.benchmark.selection.warmup_cache import WarmupArtefact, WarmupCache, WarmupKey
from molpeg_bench.benchmark.selection.warmup_training import WARMUP_TRAINER_VERSION, WarmupSetup, train_warmup
from molpeg_bench.methods.context import InputEmbeddingBatch

SPLITS = ("train", "valid")


@dataclass
class WarmupUse:
    """One warm-up run as this fine-tuning run used it (for the record)."""

    key: str
    seed_index: int
    epochs_used: int = 0
    epochs_trained_here: int = 0
    seconds_trained_here: float = 0.0
    seconds_waited: float = 0.0
    seconds_charged: float = 0.0  # recorded training cost of the epochs used, trained here or not

    @property
    def reused(self) -> bool:
        return self.epochs_trained_here == 0


@dataclass
class WarmupService:
    """Warm-up runs of one fine-tuning run: ``key_for(seed_index)`` names them in ``cache``,
    ``trainer_for(seed_index)`` trains them (see ``benchmark.selection.warmup_cache.Trainer``)."""

    cache: WarmupCache
    key_for: Callable[[int], WarmupKey]
    trainer_for: Callable[[int], Callable]
    make_model: Callable[[], nn.Module]
    uses: dict[int, WarmupUse] = field(default_factory=dict)
    seconds_wall: float = 0.0  # time spent inside this service (training, waiting, loading)

    def artefact(self, epochs: int, seed_index: int = 0) -> WarmupArtefact:
        t0 = time.perf_counter()
        key = self.key_for(seed_index)
        fetched = self.cache.fetch(key, epochs, self.trainer_for(seed_index))
        use = self.uses.setdefault(seed_index, WarmupUse(key.digest(), seed_index))
        use.epochs_trained_here += fetched.epochs_trained
        use.seconds_trained_here += fetched.seconds_trained
        use.seconds_waited += fetched.seconds_waited
        use.epochs_used = max(use.epochs_used, epochs)
        use.seconds_charged = fetched.artefact.cost(use.epochs_used)
        self.seconds_wall += time.perf_counter() - t0
        return fetched.artefact

    def model(self, epochs: int, seed_index: int = 0) -> nn.Module:
        artefact = self.artefact(epochs, seed_index)
        t0 = time.perf_counter()
        model = self.make_model()
        model.load_state_dict(artefact.model_state(epochs))
        self.seconds_wall += time.perf_counter() - t0
        return model.eval()

    def correctness(self, epochs: int, seed_index: int = 0) -> list[np.ndarray]:
        artefact = self.artefact(epochs, seed_index)
        return [artefact.correctness(e) for e in range(1, epochs + 1)]

    @property
    def seconds_charged(self) -> float:
        return sum(u.seconds_charged for u in self.uses.values())

    def describe(self) -> dict:
        uses = [{**vars(u), "reused": u.reused} for u in sorted(self.uses.values(), key=lambda u: u.seed_index)]
        return {"warmups": uses, "seconds_warmup": self.seconds_charged,
                "warmup_reused": all(u["reused"] for u in uses) if uses else None}


@dataclass(frozen=True)
class Provided:
    """What the context lends (from the method's ``Requirements``); anything else is refused."""

    warmup_epochs: int = 0
    warmup_seeds: int = 1
    train_dynamics: bool = False
    validation: bool = False
    input_embeddings: bool = False
    warmup_seed_offset: int = 0  # the warm-up runs lent are seed_index offset .. offset + warmup_seeds - 1

    @classmethod
    def from_requirements(cls, requirements: Any) -> Provided:
        return cls(int(getattr(requirements, "warmup_epochs", 0)), int(getattr(requirements, "warmup_seeds", 1)),
                   bool(getattr(requirements, "needs_train_dynamics", False)),
                   bool(getattr(requirements, "needs_val", False)),
                   bool(getattr(requirements, "needs_input_grads", False)),
                   int(getattr(requirements, "warmup_seed_offset", 0)))

    def warmup_indices(self) -> range:
        return range(self.warmup_seed_offset, self.warmup_seed_offset + self.warmup_seeds)


class FineTuneContext:
    """``SelectionContext`` of one fine-tuning run (see ``methods.context``)."""

    def __init__(self, features: SplitFeatures, warmups: WarmupService, make_model: Callable[[], nn.Module], *,
                 smiles: list[str], lr: float, seed: int, provided: Provided = Provided(),
                 scores: ScoreCache | None = None, identity: Callable[[], str] | None = None,
                 valid_identity: Callable[[], str] | None = None, reference: WarmupService | None = None):
        """``identity()`` digests what determines the warm-ups (the training data among it); ``valid_identity()``
        the validation rows, part of a memo's key when the method reads them; ``reference``: the shared warm-up
        runs from the pretrained encoder, whatever the method's own, kept out of its accounting."""
        self.features, self.warmups, self.make_model, self.provided = features, warmups, make_model, provided
        self.reference = reference
        self.scores, self.identity, self.valid_identity = scores, identity, valid_identity
        self.labels = features.labels("train")
        self.valid_labels = features.labels("valid") if provided.validation else None
        self.n_samples, self.num_tasks = self.labels.shape
        self.task_type = features.task_type
        self.smiles, self.lr = smiles, lr
        self.rng = np.random.default_rng([seed, 7919])

    def prepare(self) -> None:
        """Fetch (train or reuse) every declared warm-up run at its declared length, before selection."""
        if self.provided.warmup_epochs > 0:
            for seed_index in self.provided.warmup_indices():
                self.warmups.artefact(self.provided.warmup_epochs, seed_index)

    def pretrained_model(self) -> nn.Module:
        return self.make_model().eval()

    def warmup_model(self, epochs: int, seed_index: int = 0) -> nn.Module:
        self._check_warmup(epochs, seed_index)
        return self.warmups.model(epochs, seed_index)

    def warmup_correctness(self, epochs: int, seed_index: int = 0) -> list[np.ndarray]:
        self._check_warmup(epochs, seed_index)
        if not self.provided.train_dynamics:
            raise PermissionError("warmup_correctness needs Requirements(needs_train_dynamics=True)")
        return self.warmups.correctness(epochs, seed_index)

    def reference_model(self, epochs: int, seed_index: int = 0) -> tuple[nn.Module, str]:
        """The shared warm-up run ``seed_index`` from the pretrained encoder after ``epochs`` epochs and its
        cache key, outside the method's Requirements and its recorded warm-up cost (selection diagnostics)."""
        if self.reference is None:
            raise ValueError("this context was built without reference warm-up runs")
        return self.reference.model(epochs, seed_index), self.reference.key_for(seed_index).digest()

    def embeddings(self, model: nn.Module, split: str = "train") -> np.ndarray:
        return self.features.embeddings(model, self._split(split))

    def logits(self, model: nn.Module, split: str = "train") -> np.ndarray:
        return self.features.logits(model, self._split(split))

    def last_layer_factors(self, model: nn.Module, split: str = "train") -> tuple[np.ndarray, np.ndarray]:
        return self.features.last_layer_factors(model, self._split(split))

    def input_embedding_batches(self, model: nn.Module, batch_size: int) -> Iterator[InputEmbeddingBatch]:
        if not self.provided.input_embeddings:
            raise PermissionError("input_embedding_batches needs Requirements(needs_input_grads=True)")
        return self.features.input_embedding_batches(model, batch_size)

    def memo(self, name: str, compute: Callable[[], tuple[dict[str, np.ndarray], dict]]
             ) -> tuple[dict[str, np.ndarray], dict]:
        """Budget-independent results of method ``name`` (with its options) on this context, computed once
        and shared by every pruning ratio and process (``benchmark.selection.score_cache``)."""
        if self.scores is None or self.identity is None:
            return compute()
        if self.provided.validation:
            if self.valid_identity is None:
                raise ValueError("a method that reads the validation split needs the context's valid_identity")
            name = f"{name} valid={self.valid_identity()}"
        return self.scores.memo(self.identity(), name, compute)

    def describe(self) -> dict[str, Any]:
        scores = {"scores": self.scores.describe()} if self.scores is not None and self.scores.uses else {}
        return {"provided": vars(self.provided).copy(), **self.warmups.describe(), **scores}

    def _check_warmup(self, epochs: int, seed_index: int) -> None:
        p = self.provided
        if not 1 <= epochs <= p.warmup_epochs or seed_index not in p.warmup_indices():
            raise PermissionError(f"warm-up (epochs={epochs}, seed_index={seed_index}) exceeds the declared "
                                  f"Requirements(warmup_epochs={p.warmup_epochs}, warmup_seeds={p.warmup_seeds}, "
                                  f"warmup_seed_offset={p.warmup_seed_offset})")

    def _split(self, split: str) -> str:
        if split == "valid" and not self.provided.validation:
            raise PermissionError("the validation split needs Requirements(needs_val=True)")
        return split


def data_sha256(store: GraphStore, indices: np.ndarray) -> str:
    """Identity of the rows ``indices`` (training or validation): their SMILES and labels in order, and the
    featurizer."""
    digest = hashlib.sha256(str(store.meta.get("featurizer")).encode())
    digest.update("\n".join(store.smiles[i] for i in indices).encode())
    digest.update(np.ascontiguousarray(store.y[torch.as_tensor(indices)].numpy()).tobytes())
    return digest.hexdigest()


def build_context(config: RunConfig, store: GraphStore, train_idx: np.ndarray, valid_idx: np.ndarray,
                  make_model: Callable[[bool], nn.Module], checkpoint_sha256: str | None, requirements: Any,
                  device: torch.device, cache: WarmupCache | None = None, task: Any = None) -> FineTuneContext:
    """The context of run ``config``: ``make_model(pretrained)`` builds the predictor (pretrained encoder
    or random initialisation); the warm-up start point is the Requirements' ``warmup_start``."""
    task_type = task.kind if task is not None else "binary"
    regression = task_type == "regression"
    start = getattr(requirements, "warmup_start", "pretrained")
    setup = WarmupSetup(store, train_idx, config.batch_size, config.lr, config.weight_decay,
                        config.loss_convention, device, task_type, task)
    data_id = cache_result(partial(data_sha256, store, train_idx))  # hashed on the first warm-up only

    model_key = {"num_layers": config.num_layers, "emb_dim": config.emb_dim, "dropout": config.dropout,
                 "num_tasks": store.num_tasks, "model": config.model, "model_options": config.model_options,
                 "task": task.describe() if task is not None else None}
    if config.dtype != "float32":  # named only when not the default, so float32 keys (and caches) stay valid
        model_key["dtype"] = config.dtype

    def key_for(seed_index: int, start: str = start) -> WarmupKey:
        return WarmupKey.of(config, data_id(), checkpoint_sha256, model_key, seed_index, start, device.type,
                            WARMUP_TRAINER_VERSION)

    def trainer_for(seed_index: int, start: str = start) -> Callable:
        return partial(train_warmup, setup, partial(make_model, start == "pretrained"), config.seed, seed_index)

    def service(start: str, cache: WarmupCache) -> WarmupService:
        return WarmupService(cache, partial(key_for, start=start), partial(trainer_for, start=start),
                             partial(make_model, start == "pretrained"))

    warmups = service(start, cache or WarmupCache())
    features = SplitFeatures(store, {"train": train_idx, "valid": valid_idx}, task_type, device,
                             config.eval_batch_size,
                             (np.asarray(task.mean), np.asarray(task.std)) if regression else None)
    return FineTuneContext(features, warmups, partial(make_model, True), smiles=[store.smiles[i] for i in train_idx],
                           lr=config.lr, seed=config.seed, provided=Provided.from_requirements(requirements),
                           scores=ScoreCache(None if cache is None else cache.root.parent / "scores"),
                           identity=lambda: key_for(0).digest(),
                           valid_identity=cache_result(partial(data_sha256, store, valid_idx)),
                           reference=service("pretrained", warmups.cache))
