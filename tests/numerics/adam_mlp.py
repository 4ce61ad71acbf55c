"""The small trained network that the R_med and sharpness tests share."""

from __future__ import annotations

import torch
from torch import nn

from numerics.hessian.reference_models import TanhMLP, digits_data


def adam_trained_tanh_mlp():
    """A 610-parameter tanh MLP after 30 full-batch Adam steps (lr 1e-2) on 128 digits.

    Returns:
        ``(model, loss_fn, (X, y), optimizer)``; the optimizer holds Adam's second moments.
    """
    torch.manual_seed(0)
    X, y = digits_data(128)
    model = TanhMLP(64, (8,), 10).double()
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    for _ in range(30):
        opt.zero_grad()
        nn.functional.cross_entropy(model(X), y).backward()
        opt.step()
    return model, nn.CrossEntropyLoss(), (X, y), opt
