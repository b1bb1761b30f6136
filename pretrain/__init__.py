"""Pretraining on unlabelled molecular corpora. 2D: GraphMAE and GraphCL of the GIN encoder (exported here,
``molpeg-bench pretrain``). 3D: GeoSSL-DDM distance denoising of the PaiNN and SchNet encoders on conformers
(``geossl``, ``geossl_train``, corpora in ``corpus3d``; ``molpeg-bench pretrain-3d``). Both share the seeded,
resumable epoch loop of ``loop``."""

from molpeg_bench.pretrain.corpus import load_corpus
from molpeg_bench.pretrain.train import PretrainConfig, measure_throughput, preset_config, pretrain, pretrain_both

__all__ = ["PretrainConfig", "load_corpus", "measure_throughput", "preset_config", "pretrain",
           "pretrain_both"]
