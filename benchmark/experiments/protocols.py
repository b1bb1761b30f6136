"""Fine-tuning protocols of the QM9 runs (docs/3d.md): named sets of run-config fields.

* ``geossl`` (default, GeoSSL ``finetune_qm9``; the paper's "5e-4, cosine"): per-sample L1 on the
  standardised target, Adam 5e-4, ``CosineAnnealingLR(T_max=epochs)`` per epoch, batch 128, from the
  pretrained encoder. The grids in ``benchmark.experiments.grids_3d`` are built with these fields.
* ``molscaling`` (MolScaling ``main_3d.py``): MSE, batch 256, a per-step schedule (linear warm-up over
  10,000 steps, then cosine to 0 at step 400,000), learning rate 1e-5 forced for U0, no pretrained encoder.

A run records the protocol its fields match (``protocol_of``), ``custom`` when they match neither, so a
record never claims a protocol it did not follow.
"""

from __future__ import annotations

from molpeg_bench.benchmark.config import RunConfig

PROTOCOLS = ("geossl", "molscaling")
QM9_PREFIX = "qm9_"
GEOSSL_FIELDS = {"regression_loss": "l1", "lr_schedule": "cosine", "lr": 5e-4}  # the Table 2 grid's
MOLSCALING_FIELDS = {"regression_loss": "mse", "lr_schedule": "warmup_cosine", "batch_size": 256, "checkpoint": None}
MOLSCALING_U0_LR = 1e-5


def with_protocol(config: RunConfig, protocol: str) -> RunConfig:
    """``config`` following ``protocol`` (only QM9 configs have a choice; ``geossl`` leaves them as built)."""
    if protocol not in PROTOCOLS:
        raise ValueError(f"protocol must be one of {PROTOCOLS}, got {protocol!r}")
    if protocol == "geossl":
        return config
    if not config.dataset.startswith(QM9_PREFIX):
        raise ValueError(f"protocol {protocol!r} applies to the QM9 datasets, not to {config.dataset!r}")
    lr = MOLSCALING_U0_LR if config.dataset == "qm9_u0" else config.lr
    return config.replace(lr=lr, **MOLSCALING_FIELDS)


def protocol_of(config: RunConfig) -> str:
    """The protocol whose fields ``config`` has: geossl, molscaling or custom (non-QM9 runs: the dataset's
    own, ``molpeg``)."""
    if not config.dataset.startswith(QM9_PREFIX):
        return "molpeg"
    if _follows(config, MOLSCALING_FIELDS) and (config.dataset != "qm9_u0" or config.lr == MOLSCALING_U0_LR):
        return "molscaling"
    if _follows(config, GEOSSL_FIELDS):
        return "geossl"
    return "custom"


def _follows(config: RunConfig, fields: dict) -> bool:
    return all(getattr(config, name) == value for name, value in fields.items())
