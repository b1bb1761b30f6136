import pytest
import torch

from molpeg_bench.benchmark.models import load_encoder_checkpoint
from molpeg_bench.benchmark.models.gin import GINConfig, GraphPredictor, node_dropout

HU_KEYS_LAYER0 = ["gnns.0.mlp.0.weight", "gnns.0.mlp.0.bias", "gnns.0.mlp.2.weight", "gnns.0.mlp.2.bias",
                  "gnns.0.edge_embedding1.weight", "gnns.0.edge_embedding2.weight"]


def test_encoder_has_the_hu_checkpoint_layout_and_shapes():
    state = GraphPredictor(1).encoder.state_dict()
    assert state["x_embedding1.weight"].shape == (120, 300) and state["x_embedding2.weight"].shape == (3, 300)
    assert all(k in state for k in HU_KEYS_LAYER0)
    assert state["gnns.4.mlp.0.weight"].shape == (600, 300) and state["gnns.4.edge_embedding1.weight"].shape == (6, 300)
    assert "batch_norms.4.running_var" in state and not any(k.startswith("gnns.5") for k in state)


def test_predictor_outputs_one_logit_per_task_and_graph(small_store):
    model = GraphPredictor(small_store.num_tasks, GINConfig(2, 16)).eval()
    batch = small_store.batch([0, 1, 2])
    assert model(batch).shape == (3, small_store.num_tasks) and model.embed(batch).shape == (3, 16)
    # a graph's output does not depend on the other graphs of the batch (eval mode)
    torch.testing.assert_close(model(small_store.batch([1]))[0], model(batch)[1])


def test_node_dropout_keeps_the_expectation_and_rate():
    torch.manual_seed(0)
    h = torch.ones(200, 300)
    out = node_dropout(h, 0.5, training=True)
    assert set(out.unique().tolist()) == {0.0, 2.0}
    assert abs(float((out == 0).float().mean()) - 0.5) < 0.01
    assert abs(float(out.mean()) - 1.0) < 0.02
    assert torch.equal(node_dropout(h, 0.5, training=False), h)


def test_full_finetuning_state_dict_loads_into_the_encoder_and_ignores_the_head(tmp_path, caplog):
    config = GINConfig(2, 16)
    source = GraphPredictor(3, config)
    torch.nn.init.normal_(source.encoder.x_embedding1.weight)
    path = tmp_path / "finetuned.pt"
    torch.save({"state_dict": source.state_dict()}, path)  # encoder.* and head.* keys
    target = GraphPredictor(1, config)
    with caplog.at_level("WARNING"):
        described = load_encoder_checkpoint(target.encoder, path)
    assert described["ignored_keys"] == ["head.bias", "head.weight"]
    assert "prediction head (head.bias, head.weight) was ignored" in caplog.text
    loaded, expected = target.encoder.state_dict(), source.encoder.state_dict()
    assert loaded.keys() == expected.keys() and all(torch.equal(loaded[k], expected[k]) for k in expected)
    # a bare encoder state dict loads with nothing ignored; unknown extra keys still fail loudly
    torch.save(source.encoder.state_dict(), tmp_path / "encoder.pt")
    assert load_encoder_checkpoint(target.encoder, tmp_path / "encoder.pt")["ignored_keys"] == []
    torch.save({**source.state_dict(), "projection.weight": torch.zeros(1)}, tmp_path / "other.pt")
    with pytest.raises(ValueError, match="unexpected keys"):
        load_encoder_checkpoint(target.encoder, tmp_path / "other.pt")
