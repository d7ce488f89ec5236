"""Merge operators r = M(b, s) of the base output b and the side output s (both of size D).

- ``alpha``: r = alpha * b + (1 - alpha) * s, alpha = sigmoid(a), a initialised at 0 (alpha = 0.5); alpha is the
  weight on the base. Trained without weight decay (decay would pull a to 0, i.e. alpha to 0.5).
- ``mlp``:   r = m(b) + s, m = Linear(D, D) -> BatchNorm1d(D) -> ReLU -> Linear(D, D) (the "MLP adapter").
"""

from __future__ import annotations

import torch
from torch import nn

from ...errors import UserError


class AlphaMerge(nn.Module):
    def __init__(self, dim: int):
        super().__init__()
        self.logit = nn.Parameter(torch.zeros(()))

    @property
    def alpha(self) -> float:
        return float(torch.sigmoid(self.logit.detach()))

    def forward(self, b: torch.Tensor, s: torch.Tensor) -> torch.Tensor:
        alpha = torch.sigmoid(self.logit)
        return alpha * b + (1 - alpha) * s


class MLPMerge(nn.Module):
    def __init__(self, dim: int):
        super().__init__()
        self.mlp = nn.Sequential(nn.Linear(dim, dim), nn.BatchNorm1d(dim), nn.ReLU(inplace=True), nn.Linear(dim, dim))

    alpha = None  # no blending weight to report

    def forward(self, b: torch.Tensor, s: torch.Tensor) -> torch.Tensor:
        return self.mlp(b) + s


MERGES = {"alpha": AlphaMerge, "mlp": MLPMerge}


def build_merge(kind: str, dim: int) -> nn.Module:
    if kind not in MERGES:
        raise UserError(f"unknown sidetune.merge '{kind}'; allowed: {', '.join(MERGES)}")
    return MERGES[kind](dim)
