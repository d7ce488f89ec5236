"""Gaussian priors over the flattened backbone parameters theta in R^P, and the hook that puts them in the loss.

Conventions (one scale ``lambda`` for every arm, so one lambda grid serves all of them):

- ``isotropic``: N(0, lambda I)                        (zero mean; a weight decay of 1 / (lambda N_train))
- ``shifted``:   N(mu, lambda I)                       (mean = the SWAG mean; L2-SP-like; location only)
- ``learned``:   N(mu, lambda * (diag(sigma^2) + D D^T + eps I) / c)   (location and shape)

``c`` = mean of the diagonal of diag(sigma^2) + D D^T, so that the learned covariance has the same average marginal
variance as the isotropic ones at equal lambda and only the *shape* differs (the paper's lambda equals ours / c).
``eps`` is a relative variance floor added before scaling, so lambda -> 0 pins theta to mu and lambda -> infinity
removes the prior (the original adds a fixed eps after scaling and scales the factor by lambda instead of
sqrt(lambda); we keep one covariance shape scaled by lambda, see report/prior_method.rst).

The log-density of the low-rank prior is computed by ``torch.distributions.LowRankMultivariateNormal`` (Woodbury
identity and the matrix determinant lemma: O(P K + K^3) per call, never a P x P matrix).
"""

from __future__ import annotations

import math
from typing import Iterable

import torch
from torch.distributions import LowRankMultivariateNormal

from ...training import Hook
from .tables import ARMS


def flat_params(params: Iterable[torch.Tensor]) -> torch.Tensor:
    """Concatenate parameters in the given order into one vector (differentiable)."""
    return torch.cat([p.reshape(-1) for p in params])


class IsotropicPrior:
    """N(mean, scale * I): log p(theta) = -||theta - mean||^2 / (2 scale) - P/2 log(2 pi scale)."""

    def __init__(self, mean: torch.Tensor, scale: float):
        self.mean, self.scale = mean, float(scale)

    def log_prob(self, theta: torch.Tensor) -> torch.Tensor:
        p = theta.numel()
        return -0.5 * (theta - self.mean).pow(2).sum() / self.scale - 0.5 * p * math.log(2 * math.pi * self.scale)


class LowRankPrior:
    """N(mean, scale * (diag(variance) + factor factor^T + eps I) / norm), factor of shape (P, K)."""

    def __init__(self, mean: torch.Tensor, variance: torch.Tensor, factor: torch.Tensor, scale: float,
                 eps: float = 0.0, normalise: bool = True):
        if factor.numel() == 0:  # diagonal only: a zero column keeps LowRankMultivariateNormal's K >= 1
            factor = torch.zeros(len(mean), 1, dtype=mean.dtype, device=mean.device)
        self.norm = float((variance + factor.pow(2).sum(1)).mean()) if normalise else 1.0
        s = float(scale) / self.norm
        self.dist = LowRankMultivariateNormal(mean, factor * math.sqrt(s), s * (variance + eps * self.norm),
                                              validate_args=False)

    @property
    def mean(self) -> torch.Tensor:
        return self.dist.loc

    def covariance(self) -> torch.Tensor:
        """The dense P x P covariance (tests only)."""
        return self.dist.covariance_matrix

    def log_prob(self, theta: torch.Tensor) -> torch.Tensor:
        return self.dist.log_prob(theta)


def build_prior(arm: str, stats: dict, scale: float, eps: float):
    """The prior of ``arm`` from SWAG ``stats`` (mean, variance, factor); None for plain SGD."""
    if arm == "sgd":
        return None
    if arm == "isotropic":
        return IsotropicPrior(torch.zeros_like(stats["mean"]), scale)
    if arm == "shifted":
        return IsotropicPrior(stats["mean"], scale)
    if arm == "learned":
        return LowRankPrior(stats["mean"], stats["variance"], stats["factor"], scale, eps)
    raise ValueError(f"unknown prior arm '{arm}'; allowed: {', '.join(ARMS)}")


class PriorLoss(Hook):
    """Adds -log p(theta) / N_train to every batch loss: the per-example energy of the posterior
    p(theta | data) ~ prod_i p(y_i | x_i, theta) p(theta), matching the mean-over-batch cross-entropy."""

    def __init__(self, prior, params: list[torch.Tensor], n_train: int):
        self.prior, self.params, self.n_train = prior, list(params), int(n_train)

    def extra_loss(self, trainer):
        return -self.prior.log_prob(flat_params(self.params)) / self.n_train
