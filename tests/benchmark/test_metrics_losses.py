import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from sklearn.metrics import average_precision_score, roc_auc_score

from molpeg_bench.benchmark.losses import per_sample_bce, reduce_batch_loss
from molpeg_bench.benchmark.metrics import multitask_score


def test_multitask_scores_match_sklearn_per_task_with_missing_labels():
    y = np.array([[1, 0, np.nan], [0, np.nan, 1], [1, 1, np.nan], [0, 0, 1], [1, np.nan, np.nan]])
    s = np.array([[0.9, 0.2, 0.1], [0.3, 0.5, 0.7], [0.6, 0.8, 0.3], [0.4, 0.1, 0.2], [0.2, 0.9, 0.4]])
    # task 2 has one class only among valid labels -> excluded
    auc = np.mean([roc_auc_score(y[:, 0], s[:, 0]), roc_auc_score([0, 1, 0], [0.2, 0.8, 0.1])])
    ap = np.mean([average_precision_score(y[:, 0], s[:, 0]), average_precision_score([0, 1, 0], [0.2, 0.8, 0.1])])
    assert multitask_score(y, s, "roc_auc") == pytest.approx(auc)
    assert multitask_score(y, s, "average_precision") == pytest.approx(ap)
    assert math.isnan(multitask_score(np.ones((3, 1)), np.zeros((3, 1)), "roc_auc"))
    with pytest.raises(ValueError, match="same shape"):
        multitask_score(y, s[:, :2], "roc_auc")


def test_loss_conventions_on_a_hand_example():
    logits = torch.tensor([[0.0, 2.0], [1.0, -1.0]])
    y = torch.tensor([[1.0, float("nan")], [0.0, 1.0]])
    bce = F.binary_cross_entropy_with_logits
    l00, l10, l11 = bce(torch.tensor(0.0), torch.tensor(1.0)), bce(torch.tensor(1.0), torch.tensor(0.0)), \
        bce(torch.tensor(-1.0), torch.tensor(1.0))
    official = per_sample_bce(logits, y, "official")
    torch.testing.assert_close(official, torch.stack([l00 / 2, (l10 + l11) / 2]))
    clean = per_sample_bce(logits, y, "clean")
    torch.testing.assert_close(clean, torch.stack([l00, (l10 + l11) / 2]))
    w = torch.tensor([2.0, 1.0])
    torch.testing.assert_close(reduce_batch_loss(official, w, y, "official"), (2 * official[0] + official[1]) / 3)
    torch.testing.assert_close(reduce_batch_loss(clean, w, y, "clean"), (2 * clean[0] + clean[1]) / 2)
