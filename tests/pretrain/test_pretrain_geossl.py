"""GeoSSL-DDM: the loss on a hand-computed 3-atom case, the corpus with conformers, masking, resume,
checkpoints."""

from __future__ import annotations

import dataclasses
import json

import pytest
import torch

from molpeg_bench.benchmark.data.conformers import ConformerOptions
from molpeg_bench.benchmark.data.graph_store import GraphBatch
from molpeg_bench.benchmark.models import load_encoder_checkpoint
from molpeg_bench.benchmark.models.painn import PaiNNConfig, PaiNNPredictor
from molpeg_bench.pretrain.corpus3d import load_corpus_3d
from molpeg_bench.pretrain.geossl import DistanceDenoisingHead, GeoSSLDDM, all_pairs, denoising_loss
from molpeg_bench.pretrain.geossl_cli import parse_args
from molpeg_bench.pretrain.geossl_train import GeoSSLConfig, cosine_lr, geossl_preset, pretrain_geossl
from molpeg_bench.pretrain.subgraph_mask import subgraph_mask
from tests.support.data import SMILES


def test_pairs_are_all_i_lt_j_within_molecules():
    batch = torch.tensor([0, 0, 0, 1, 2, 2])
    assert all_pairs(batch, 3).T.tolist() == [[0, 1], [0, 2], [1, 2], [4, 5]]


def test_denoising_loss_hand_computed_three_atoms():
    """One 3-atom molecule: 3 pairs. With raw scores r and noise z at σ, the per-pair loss is
    ½ (r/σ + z/σ)² σ^γ; γ = 2 gives ½ (r + z)²."""
    raw = torch.tensor([0.25, 0.25, 0.25])
    z = torch.tensor([0.5, -1.0, 2.0])
    sigma = torch.full((3,), 2.0)
    graph = torch.zeros(3, dtype=torch.long)
    expected = 0.5 * (0.75**2 + 0.75**2 + 2.25**2)  # 3.09375
    assert denoising_loss(raw, z, sigma, graph, 1, gamma=2.0).item() == pytest.approx(expected)
    assert denoising_loss(raw, z, sigma, graph, 1, gamma=0.0).item() == pytest.approx(expected / 4)
    # two molecules: the mean over molecules of the per-molecule sums (the second one scores 0.5 * 1²)
    two = denoising_loss(torch.tensor([0.25, 0.25, 0.25, 1.0]), torch.tensor([0.5, -1.0, 2.0, 0.0]),
                         torch.full((4,), 2.0), torch.tensor([0, 0, 0, 1]), 2, gamma=2.0)
    assert two.item() == pytest.approx((expected + 0.5) / 2)


def test_head_predicts_the_noise_of_a_three_atom_molecule():
    """The head with its last layer zeroed except the bias b scores b/σ for every pair; check the whole
    head (noise level and noise drawn from a seeded generator) against the formula."""
    torch.manual_seed(0)
    head = DistanceDenoisingHead(hidden=4, num_levels=5, gamma=2.0)
    last = head.score_out[-1]
    torch.nn.init.zeros_(last.weight)
    torch.nn.init.constant_(last.bias, 0.3)
    h = torch.randn(3, 4)
    pairs = all_pairs(torch.zeros(3, dtype=torch.long), 1)
    distance = torch.tensor([1.0, 1.5, 2.0])
    loss = head(h, pairs, distance, torch.zeros(3, dtype=torch.long), 1, torch.Generator().manual_seed(7))
    gen = torch.Generator().manual_seed(7)
    level = torch.randint(0, 5, (1,), generator=gen)
    z = torch.randn(3, generator=gen)
    sigma = torch.exp(torch.linspace(torch.log(torch.tensor(10.0)), torch.log(torch.tensor(0.01)), 5))[level]
    assert 0.01 <= sigma.item() <= 10.0
    assert loss.item() == pytest.approx(float(0.5 * ((0.3 + z) ** 2).sum()), rel=1e-5)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    path = tmp_path_factory.mktemp("corpus") / "mols.smi"
    path.write_text("\n".join(SMILES[:8]) + "\n")
    return load_corpus_3d(f"smiles:{path}", None, 0, True, ConformerOptions(mode="etkdg"),
                          cache_dir=tmp_path_factory.mktemp("cache"))


def test_corpus_keeps_hydrogens_with_coordinates(corpus):
    batch: GraphBatch = corpus.batch([0])  # ethanol with H: C C O + 6 H
    assert batch.z.tolist() == [6, 6, 8, 1, 1, 1, 1, 1, 1]
    assert batch.pos.shape == (9, 3) and corpus.meta["conformer_tiers"]["etkdg"] == 8


def test_ddm_loss_is_finite_and_trains_the_encoder(corpus):
    torch.manual_seed(0)
    model = GeoSSLDDM(PaiNNPredictor(1, PaiNNConfig(hidden=8, num_layers=1, num_rbf=4)).encoder, 8, num_levels=10)
    loss = model.loss(corpus.batch(range(4)), torch.Generator().manual_seed(0))
    loss.backward()
    assert torch.isfinite(loss) and model.encoder.embedding.weight.grad.abs().sum() > 0


def unmasked_loss(model: GeoSSLDDM, batch: GraphBatch, generator: torch.Generator) -> torch.Tensor:
    """The DDM loss of whole molecules spelled out step by step: view noise, then head A's and head B's draws."""
    pos1 = batch.pos
    pos2 = pos1 + model.view_sigma * torch.randn(pos1.shape, generator=generator)
    pairs = all_pairs(batch.batch, batch.num_graphs)
    d1, d2 = ((p[pairs[0]] - p[pairs[1]]).norm(dim=-1) for p in (pos1, pos2))
    graph, g = batch.batch[pairs[0]], batch.num_graphs
    h1, h2 = model.atom_latents(batch, pos1), model.atom_latents(batch, pos2)
    return (model.head_a(h1, pairs, d2, graph, g, generator) + model.head_b(h2, pairs, d1, graph, g, generator)) / 2


def test_mask_ratio_zero_leaves_the_loss_bitwise_unchanged_and_masking_uses_the_kept_atoms(corpus, monkeypatch):
    torch.manual_seed(0)
    model = GeoSSLDDM(PaiNNPredictor(1, PaiNNConfig(hidden=8, num_layers=1, num_rbf=4)).encoder, 8, num_levels=10)
    batch = corpus.batch(range(8))
    gen_model, gen_ref = torch.Generator().manual_seed(5), torch.Generator().manual_seed(5)
    assert torch.equal(model.loss(batch, gen_model), unmasked_loss(model, batch, gen_ref))
    assert torch.equal(gen_model.get_state(), gen_ref.get_state())  # no extra draws at m = 0
    # m = 0.3: the subgraph is drawn first from the same generator, then the unmasked loss of the kept atoms
    model.mask_ratio = 0.3
    gen_model, gen_ref = torch.Generator().manual_seed(5), torch.Generator().manual_seed(5)
    view = subgraph_mask(batch, 0.3, gen_ref)
    sizes = torch.bincount(batch.batch).double()
    assert torch.equal(torch.bincount(view.batch), (sizes * 0.7).long() + 1)
    assert torch.equal(model.loss(batch, gen_model), unmasked_loss(model, view, gen_ref))
    assert torch.equal(gen_model.get_state(), gen_ref.get_state())
    with pytest.raises(ValueError, match="mask ratio must lie in"):
        GeoSSLDDM(model.encoder, 8, mask_ratio=1.0)


class Interrupt(Exception):
    pass


def _stop_after_first(epoch, loss):
    if epoch == 1:
        raise Interrupt


def test_resume_is_bitwise_and_checkpoint_loads_into_the_predictor(tmp_path, corpus):
    cfg = geossl_preset("ci", "painn", epochs=2, batch_size=4, seed=1)
    whole = pretrain_geossl(cfg, tmp_path / "whole", store=corpus)
    with pytest.raises(Interrupt):
        pretrain_geossl(cfg, tmp_path / "cut", store=corpus, on_epoch_end=_stop_after_first)
    resumed = pretrain_geossl(cfg, tmp_path / "cut", store=corpus)
    for name in (whole.name, "geossl_ddm_painn.final.pt"):
        a, b = (torch.load(p.parent / name, weights_only=True) for p in (whole, resumed))
        assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    meta = json.loads(whole.with_suffix(".json").read_text())
    assert meta["method"] == "geossl_ddm" and meta["encoder"] == "painn" and meta["epochs"] == 2
    assert meta["best_epoch"] == 1 + min(range(2), key=lambda e: meta["epoch_losses"][e])
    assert meta["corpus"]["hydrogens"] is True and meta["corpus"]["conformer_mode"] == "etkdg"
    assert meta["hyperparameters"]["num_levels"] == 10 and meta["hyperparameters"]["gamma"] == 2.0
    model = PaiNNPredictor(1, cfg.painn)
    described = load_encoder_checkpoint(model.encoder, whole)
    assert described["method"] == "geossl_ddm" and described["n_molecules"] == 8


def test_masked_run_records_its_ratio_and_refuses_to_resume_with_another(tmp_path, corpus):
    cfg = geossl_preset("ci", "painn", epochs=2, batch_size=4, seed=1, mask_ratio=0.3)
    whole = pretrain_geossl(cfg, tmp_path / "whole", store=corpus)
    assert json.loads(whole.with_suffix(".json").read_text())["hyperparameters"]["mask_ratio"] == 0.3
    with pytest.raises(Interrupt):
        pretrain_geossl(cfg, tmp_path / "cut", store=corpus, on_epoch_end=_stop_after_first)
    with pytest.raises(ValueError, match=r"other settings \(differing: \['mask_ratio'\]\)"):
        pretrain_geossl(geossl_preset("ci", "painn", epochs=2, batch_size=4, seed=1, mask_ratio=0.2),
                        tmp_path / "cut", store=corpus)
    resumed = pretrain_geossl(cfg, tmp_path / "cut", store=corpus)
    a, b = (torch.load(p, weights_only=True) for p in (whole, resumed))
    assert all(torch.equal(a[k], b[k]) for k in a)  # masking draws resume bitwise too


def test_resume_state_older_than_a_config_field_continues_at_the_fields_default(tmp_path, corpus):
    cfg = geossl_preset("ci", "painn", epochs=2, batch_size=4, seed=1)
    with pytest.raises(Interrupt):
        pretrain_geossl(cfg, tmp_path, store=corpus, on_epoch_end=_stop_after_first)
    resume_file = tmp_path / "geossl_ddm_painn.resume.pt"
    state = torch.load(resume_file, weights_only=False)
    del state["settings"]["mask_ratio"], state["settings"]["painn"]["atom_index"]  # written before both existed
    torch.save(state, resume_file)
    with pytest.raises(ValueError, match=r"differing: \['mask_ratio'\]"):  # a non-default value still differs
        pretrain_geossl(dataclasses.replace(cfg, mask_ratio=0.3), tmp_path, store=corpus)
    path = pretrain_geossl(cfg, tmp_path, store=corpus)
    assert json.loads(path.with_suffix(".json").read_text())["epochs"] == 2


def test_mask_ratio_validation_and_command_line_flags():
    assert GeoSSLConfig().mask_ratio == 0.0 and GeoSSLConfig().method_hyperparameters()["mask_ratio"] == 0.0
    for bad in (-0.1, 1.0):
        with pytest.raises(ValueError, match="GeoSSL mask_ratio must lie in"):
            GeoSSLConfig(mask_ratio=bad)
    args = parse_args(["--mask-ratio", "0.3", "--num-levels", "30", "--gamma", "5"])
    assert (args.mask_ratio, args.num_levels, args.gamma) == (0.3, 30, 5.0)
    assert parse_args([]).mask_ratio is None  # the preset's value (0) stays


def test_cosine_schedule_and_preset_errors():
    assert cosine_lr(5e-4, 0, 10) == 5e-4 and cosine_lr(5e-4, 5, 10) == pytest.approx(2.5e-4)
    with pytest.raises(ValueError, match="encoder must be one of"):
        geossl_preset("ci", "gin")
    with pytest.raises(ValueError, match="unknown preset"):
        geossl_preset("huge", "painn")


def test_pcqm4mv2_sdf_is_used_when_supplied(tmp_path):
    from rdkit import Chem
    from rdkit.Chem import AllChem

    writer = Chem.SDWriter(str(tmp_path / "pcqm4m-v2-train.sdf"))
    for smiles in ("CCO", "c1ccccc1"):
        mol = Chem.AddHs(Chem.MolFromSmiles(smiles))
        AllChem.EmbedMolecule(mol, randomSeed=0)
        writer.write(mol)
    writer.close()
    heavy = load_corpus_3d("auto", None, 0, False, ConformerOptions(), data_dir=tmp_path, cache_dir=tmp_path / "c")
    assert heavy.meta["corpus"] == "pcqm4mv2" and len(heavy) == 2 and heavy.pos.shape == (3 + 6, 3)
    assert heavy.batch([0]).z.tolist() == [6, 6, 8]
    with_h = load_corpus_3d("pcqm4mv2", None, 0, True, ConformerOptions(), data_dir=tmp_path, cache_dir=tmp_path / "c")
    assert with_h.pos.shape == (9 + 12, 3)
    with pytest.raises(FileNotFoundError, match="pcqm4m-v2-train.sdf"):
        load_corpus_3d("pcqm4mv2", None, 0, True, ConformerOptions(), data_dir=tmp_path / "none")
