"""The configuration of one fine-tuning run and its identity (the hash that names its record)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from molpeg_bench.benchmark.losses import LOSS_CONVENTIONS
from molpeg_bench.methods.budget import ROUNDING_RULES
from molpeg_bench.results.run_identity import (
    EXECUTION_FIELDS as EXECUTION_FIELDS,  # the fields not hashed, named here too
)
from molpeg_bench.results.run_identity import hashed_body, run_hash

# fields of the 3D / regression path: written (and so hashed) only when they differ from their default,
# so the records, ids and settings of runs made before they existed stay valid
MODELS = ("gin", "painn", "schnet")
REGRESSION_LOSSES = ("l1", "mse")
LR_SCHEDULES = ("none", "cosine", "warmup_cosine")
PER_STEP_SCHEDULES = ("warmup_cosine",)  # stepped after every optimizer step; the others once per epoch
DTYPES = ("float32", "float64")
OPTIONAL_FIELDS = {"model": "gin", "model_options": {}, "data_options": {}, "regression_loss": "l1",
                   "lr_schedule": "none", "fidelity": "paper", "dtype": "float32"}


@dataclass(frozen=True)
class RunConfig:
    dataset: str = "hiv"
    method: str = "whole"
    prune_ratio: float = 0.0  # fraction of the training set pruned (Table 1: 0.2 ... 0.9)
    seed: int = 0  # training randomness (model init, dropout, pruner)
    method_options: dict = field(default_factory=dict)
    # data
    split: str = "random"
    split_seed: int = 42
    subsample: int | None = None  # keep this many molecules (seeded by split_seed) before splitting
    pcba_tasks: int = 128
    # model
    num_layers: int = 5
    emb_dim: int = 300
    dropout: float = 0.5
    checkpoint: str | None = None  # pretrained encoder; None = no pretraining
    model: str = "gin"  # gin, painn (QM9), schnet (HIV-3D); num_layers / emb_dim size the 3D encoders too
    model_options: dict = field(default_factory=dict)  # further 3D-encoder fields (num_rbf, num_filters, ...)
    data_options: dict = field(default_factory=dict)  # 3D data: conformer_mode, train_pool, eval_pool, ...
    regression_loss: str = "l1"  # per-sample loss of regression tasks on standardised targets: l1 or mse
    # none; cosine (CosineAnnealingLR(T_max=epochs), stepped per epoch); warmup_cosine (per optimizer step:
    # linear warm-up, then cosine; benchmark.tasks.warmup_cosine_factor)
    lr_schedule: str = "none"
    # optimisation (paper: Adam 1e-3, batch 256, 100 epochs)
    epochs: int = 100
    batch_size: int = 256
    lr: float = 1e-3
    weight_decay: float = 0.0
    eval_batch_size: int = 1024
    # fidelity options shared by all methods
    loss_convention: str = "official"
    budget_rounding: str = "floor"
    # "paper" (the paper's text) or "code": fills in every option that reproduces the official MolPeg code
    # where method_options do not name it (benchmark.fidelity; `molpeg-bench methods` lists them)
    fidelity: str = "paper"
    # floating-point type of the model, its inputs, losses and optimizer state: "float32", or "float64" (the
    # model is built as under float32, so with the same initial weights, then converted; benchmark.tasks.build_model)
    dtype: str = "float32"
    # execution (not hashed)
    device: str = "cpu"
    num_threads: int | None = None
    preset: str = "custom"
    data_dir: str | None = None

    def __post_init__(self) -> None:
        if not 0.0 <= self.prune_ratio < 1.0:
            raise ValueError(f"prune_ratio must be in [0, 1), got {self.prune_ratio}")
        if self.method == "whole" and self.prune_ratio != 0.0:
            raise ValueError("method 'whole' is the unpruned reference: prune_ratio must be 0")
        if self.method != "whole" and self.prune_ratio == 0.0:
            raise ValueError(f"method {self.method!r} needs a prune_ratio > 0 (use method 'whole' for 0)")
        if self.loss_convention not in LOSS_CONVENTIONS:
            raise ValueError(f"loss_convention must be one of {LOSS_CONVENTIONS}, got {self.loss_convention!r}")
        if self.budget_rounding not in ROUNDING_RULES:
            raise ValueError(f"budget_rounding must be one of {ROUNDING_RULES}, got {self.budget_rounding!r}")
        for name, allowed in (("model", MODELS), ("regression_loss", REGRESSION_LOSSES), ("lr_schedule", LR_SCHEDULES),
                              ("dtype", DTYPES)):
            if getattr(self, name) not in allowed:
                raise ValueError(f"{name} must be one of {allowed}, got {getattr(self, name)!r}")
        for name in ("epochs", "batch_size", "num_layers", "emb_dim", "eval_batch_size"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        for name in ("seed", "split_seed"):
            if not isinstance(getattr(self, name), int) or getattr(self, name) < 0:
                raise ValueError(f"{name} must be a non-negative integer (it seeds numpy and torch), "
                                 f"got {getattr(self, name)!r}")
        # options coerced to their declared types, defaults left out: `beta=0.5` names the same run as no beta
        # (under fidelity "code" the code bundle's options are kept, see benchmark.fidelity.resolve_options)
        from molpeg_bench.benchmark.fidelity import resolve_options

        object.__setattr__(self, "method_options", resolve_options(self.method, self.method_options, self.fidelity))

    @property
    def keep_ratio(self) -> float:
        return round(1.0 - self.prune_ratio, 10)

    def to_dict(self) -> dict:
        return {k: v for k, v in dataclasses.asdict(self).items()
                if not (k in OPTIONAL_FIELDS and v == OPTIONAL_FIELDS[k])}

    @classmethod
    def from_dict(cls, data: dict) -> RunConfig:
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown run-config field(s) {unknown}; expected some of {sorted(known)}")
        return cls(**data)

    def replace(self, **changes) -> RunConfig:
        return dataclasses.replace(self, **changes)

    def run_id(self) -> str:
        """sha256 (first 20 hex digits) of the canonical JSON of every hashed field and of the data
        identity (raw file sha256, featurizer and subsample/split rule versions, checkpoint sha256) and of the
        method's algorithm version (from 2 on), so a changed data file, a re-pretrained checkpoint at the same
        path or a changed method names new runs."""
        from molpeg_bench.benchmark.data.identity import checkpoint_sha256, source_identity
        from molpeg_bench.methods import get_method

        method = get_method(self.method)
        checkpoint = {} if self.checkpoint is None else {"checkpoint_sha256": checkpoint_sha256(self.checkpoint)}
        return run_hash(hashed_body(self.to_dict(), source_identity(self.dataset, self.data_dir, self.data_options),
                                    method_version=method.version, method_origin=method.origin, **checkpoint))
