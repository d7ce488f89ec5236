"""BatchNorm running statistics re-estimated for the current weights (one pass, cumulative average)."""

from __future__ import annotations

from typing import Callable

import torch
from torch import nn


def default_forward(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    return model(x)


@torch.no_grad()
def recompute_batchnorm(model: nn.Module, x: torch.Tensor, *, forward: Callable = default_forward,
                        batch_size: int = 128, device="cpu") -> None:
    """Reset every BatchNorm's running statistics and re-estimate them as a cumulative average (momentum None)
    over one pass of ``x`` in train mode, so they match the weights as they are now (after weights were moved
    to a subspace point, or pruned faster than the running average follows)."""
    norms = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    if not norms:
        return
    saved = [m.momentum for m in norms]
    for m in norms:
        m.reset_running_stats()
        m.momentum = None
    was_training = model.training
    model.train()
    for i in range(0, len(x), batch_size):
        forward(model, x[i:i + batch_size].to(device))
    for m, mom in zip(norms, saved):
        m.momentum = mom
    model.train(was_training)
