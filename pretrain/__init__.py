"""Pretraining of the GIN encoder (GraphMAE, GraphCL) on unlabelled molecular corpora."""

from molpeg_bench.pretrain.corpus import load_corpus
from molpeg_bench.pretrain.train import PretrainConfig, measure_throughput, preset_config, pretrain, pretrain_both

__all__ = ["PretrainConfig", "load_corpus", "measure_throughput", "preset_config", "pretrain",
           "pretrain_both"]
