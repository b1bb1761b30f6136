"""Pretraining of the GIN encoder (GraphMAE, GraphCL) on unlabelled molecular corpora."""

from pretrain.corpus import load_corpus
from pretrain.train import PretrainConfig, measure_throughput, preset_config, pretrain, pretrain_both

__all__ = ["PretrainConfig", "load_corpus", "measure_throughput", "preset_config", "pretrain",
           "pretrain_both"]
