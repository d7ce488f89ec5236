"""SWAG moments (Maddox et al., 2019) over a flat parameter vector, collected once per epoch by a Trainer hook.

After K snapshots w_1..w_K:

- mean      mu = (1/K) sum_k w_k
- variance  sigma^2 = max(E[w^2] - mu^2, var_clamp)           (diagonal, clamped so it stays positive)
- factor    D = [w_k - mu_k]_{last R snapshots} / sqrt(R - 1)  (P x R, R <= rank; mu_k the running mean)

so that diag(sigma^2) + D D^T is the fitted covariance of the prior.
"""

from __future__ import annotations

import math

import torch

from ...training import Hook
from .density import flat_params


class SwagMoments:
    """Running first and second moments and the last ``rank`` deviations of collected vectors."""

    def __init__(self, rank: int = 20):
        self.rank = int(rank)
        self.n = 0
        self.mean: torch.Tensor | None = None
        self.sq_mean: torch.Tensor | None = None
        self.deviations: list[torch.Tensor] = []

    @torch.no_grad()
    def collect(self, w: torch.Tensor) -> None:
        w = w.detach().double().cpu()
        if self.mean is None:
            self.mean, self.sq_mean = torch.zeros_like(w), torch.zeros_like(w)
        self.n += 1
        self.mean += (w - self.mean) / self.n
        self.sq_mean += (w * w - self.sq_mean) / self.n
        if self.rank > 0:
            # float32 rows: 20 of them for a ResNet-50 are 1.9 GB instead of 3.8 GB (moments stay float64)
            self.deviations = (self.deviations + [(w - self.mean).float()])[-self.rank:]

    def export(self, var_clamp: float = 1e-6) -> dict:
        """mean (P,), variance (P,), factor (P, R) as float32 tensors."""
        if self.n == 0:
            raise ValueError("SWAG collected no snapshots: give fit_prior at least one epoch")
        variance = (self.sq_mean - self.mean ** 2).clamp_min(var_clamp)
        k = len(self.deviations)
        factor = (torch.stack(self.deviations, 1) / math.sqrt(max(k - 1, 1)) if k
                  else torch.zeros(len(self.mean), 0))
        return {"mean": self.mean.float(), "variance": variance.float(), "factor": factor.float(),
                "snapshots": self.n}

    def state_dict(self) -> dict:
        return {"rank": self.rank, "n": self.n, "mean": self.mean, "sq_mean": self.sq_mean,
                "deviations": self.deviations}

    def load_state_dict(self, state: dict) -> None:
        self.rank, self.n, self.mean = state["rank"], state["n"], state["mean"]
        self.sq_mean, self.deviations = state["sq_mean"], state["deviations"]


class SwagCollector(Hook):
    """Snapshot ``params`` (flattened in the given order) at the end of every epoch."""

    def __init__(self, params, rank: int = 20):
        self.params = list(params)
        self.moments = SwagMoments(rank)

    def on_epoch_end(self, trainer, record):
        self.moments.collect(flat_params(self.params))

    def state_dict(self):
        return self.moments.state_dict()

    def load_state_dict(self, state):
        self.moments.load_state_dict(state)
