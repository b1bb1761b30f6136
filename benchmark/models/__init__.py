"""Models. 2D: the Hu et al. GIN encoder and its graph predictor (exported here), with encoder checkpoint
loading for both halves. 3D (``painn``, ``schnet``, on the shared config base ``encoder3d`` and the radius
graph of ``interaction_graph``): PaiNN for QM9 and SchNet for HIV-3D, each an encoder with its readout."""

from molpeg_bench.benchmark.models.checkpoint import NO_PRETRAINING, describe_checkpoint, load_encoder_checkpoint
from molpeg_bench.benchmark.models.gin import GINConfig, GINEncoder, GraphPredictor

__all__ = ["NO_PRETRAINING", "GINConfig", "GINEncoder", "GraphPredictor", "describe_checkpoint",
           "load_encoder_checkpoint"]
