"""The Hu GIN layer's neighbourhood sum (sparse adjacency product + bond-pair counts) equals explicit
message passing Σ_j (h_j + E1[type_ij] + E2[dir_ij]) over edges and self-loops, values and gradients."""

from __future__ import annotations

import torch

from molpeg_bench.benchmark.data.featurize import SELF_LOOP_BOND_ID
from molpeg_bench.benchmark.models.gin import HuGINConv


def _explicit(conv: HuGINConv, x, edge_index, edge_attr):
    n = x.size(0)
    loops = torch.arange(n)
    src = torch.cat([edge_index[0], loops])
    dst = torch.cat([edge_index[1], loops])
    types = torch.cat([edge_attr[:, 0], torch.full((n,), SELF_LOOP_BOND_ID)])
    dirs = torch.cat([edge_attr[:, 1], torch.zeros(n, dtype=torch.long)])
    messages = x[src] + conv.edge_embedding1(types) + conv.edge_embedding2(dirs)
    return conv.mlp(torch.zeros_like(x).index_add(0, dst, messages))


def test_neighbourhood_sum_matches_explicit_message_passing():
    torch.manual_seed(0)
    conv = HuGINConv(8)
    # a directed multigraph on 5 nodes (repeated and one-way edges, an isolated node)
    edge_index = torch.tensor([[0, 1, 1, 2, 2, 3, 0], [1, 0, 2, 1, 1, 0, 1]])
    edge_attr = torch.tensor([[0, 0], [0, 0], [1, 2], [1, 1], [3, 0], [2, 1], [0, 0]])
    x1 = torch.randn(5, 8, requires_grad=True)
    x2 = x1.detach().clone().requires_grad_(True)
    out, expected = conv(x1, edge_index, edge_attr), _explicit(conv, x2, edge_index, edge_attr)
    torch.testing.assert_close(out, expected)
    weights = torch.randn_like(out)
    (out * weights).sum().backward()
    grads = {k: v.grad.clone() for k, v in conv.named_parameters()}
    conv.zero_grad()
    (expected * weights).sum().backward()
    torch.testing.assert_close(x1.grad, x2.grad)
    for name, param in conv.named_parameters():
        torch.testing.assert_close(grads[name], param.grad)
