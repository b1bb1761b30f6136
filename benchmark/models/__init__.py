"""Models: the Hu et al. GIN encoder, the graph predictor, checkpoint loading."""

from molpeg_bench.benchmark.models.checkpoint import NO_PRETRAINING, describe_checkpoint, load_encoder_checkpoint
from molpeg_bench.benchmark.models.gin import GINConfig, GINEncoder, GraphPredictor

__all__ = ["NO_PRETRAINING", "GINConfig", "GINEncoder", "GraphPredictor", "describe_checkpoint",
           "load_encoder_checkpoint"]
