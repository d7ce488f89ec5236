"""Subspace layers: conv / linear / BatchNorm holding ``n`` anchor tensors and using their mixture.

A point of the subspace is a coefficient vector c (one entry per anchor); every weight is w = sum_i c_i w_i:

- line:    c(a) = (1-a, a)                            -> w(a) = (1-a) w0 + a w1
- curve:   c(a) = ((1-a)^2, a^2, 2a(1-a))             -> quadratic Bezier, w2 is the control point (off the curve)
- simplex: c(t) = t, t on the (n-1)-simplex           -> w(t) = sum_i t_i w_i
- standard: c = (1,)                                  -> one anchor: standard training with the same layers and
                                                         initialisation as the subspaces (a fair baseline)

Anchor 0 is the layer's own ``weight``/``bias``; the others live in ``extra_*`` parameter lists. Conv/linear
anchors are initialised independently (Kaiming normal, fan_in, ReLU); BatchNorm anchors all start at gamma=1,
beta=0 and share one set of running statistics (recomputed per point at evaluation, see ``evaluation``).
"""

from __future__ import annotations

from functools import partial

import torch
import torch.nn.functional as F
from torch import nn

from ...errors import UserError
from ...models.registry import Layers

KINDS = ("standard", "line", "curve", "simplex")


def num_anchors(kind: str, vertices: int = 2) -> int:
    if kind == "standard":
        return 1
    if kind == "line":
        return 2
    if kind == "curve":
        return 3
    if kind == "simplex":
        return vertices
    raise UserError(f"unknown subspace kind '{kind}'; allowed: {', '.join(KINDS)}")


def coefficients(kind: str, point) -> torch.Tensor:
    """Mixture coefficients of the anchors at ``point`` (alpha for line/curve, a simplex vector otherwise)."""
    if kind == "simplex":
        return torch.as_tensor(point, dtype=torch.float32)
    if kind == "standard":
        return torch.ones(1)
    a = float(point)
    if kind == "line":
        return torch.tensor([1 - a, a])
    return torch.tensor([(1 - a) ** 2, a ** 2, 2 * a * (1 - a)])


def sample_point(kind: str, vertices: int, generator: torch.Generator):
    """alpha ~ U[0, 1] (line, curve) or t ~ Dirichlet(1, ..., 1) as normalised Exp(1) draws (simplex)."""
    if kind == "simplex":
        e = -torch.log(torch.rand(vertices, generator=generator).clamp_min(1e-12))
        return e / e.sum()
    return float(torch.rand((), generator=generator))


class SubspaceModule:
    """Mixin: ``coeffs`` (a non-persistent buffer) says which point of the subspace the layer uses."""

    def _init_subspace(self, n: int):
        self.n_anchors = n
        self.register_buffer("coeffs", torch.full((n,), 1.0 / n), persistent=False)

    def _init_weight_anchors(self, n: int):
        """Conv/linear: n independently initialised weight anchors (Kaiming normal, fan_in), zero biases."""
        self._init_subspace(n)
        self.extra_weight = nn.ParameterList([nn.Parameter(torch.empty_like(self.weight)) for _ in range(n - 1)])
        self.extra_bias = nn.ParameterList(
            [nn.Parameter(torch.zeros_like(self.bias)) for _ in range(n - 1)] if self.bias is not None else [])
        for w in self.anchor_weights():
            nn.init.kaiming_normal_(w.data, mode="fan_in", nonlinearity="relu")
        if self.bias is not None:
            nn.init.zeros_(self.bias)

    def set_coefficients(self, c: torch.Tensor) -> None:
        self.coeffs.copy_(c.to(self.coeffs))

    def mix(self, first: torch.Tensor | None, extra: nn.ParameterList) -> torch.Tensor | None:
        if first is None:
            return None
        out = self.coeffs[0] * first
        for i, p in enumerate(extra, start=1):
            out = out + self.coeffs[i] * p
        return out

    def anchor_weights(self) -> list[torch.Tensor]:
        """Conv/linear weight anchors (those the cos^2 regulariser compares)."""
        return [self.weight, *self.extra_weight]


class SubspaceConv2d(SubspaceModule, nn.Conv2d):
    def __init__(self, *args, anchors: int = 2, **kwargs):
        super().__init__(*args, **kwargs)
        self._init_weight_anchors(anchors)

    def forward(self, x):
        return self._conv_forward(x, self.mix(self.weight, self.extra_weight), self.mix(self.bias, self.extra_bias))


class SubspaceLinear(SubspaceModule, nn.Linear):
    def __init__(self, *args, anchors: int = 2, **kwargs):
        super().__init__(*args, **kwargs)
        self._init_weight_anchors(anchors)

    def forward(self, x):
        return F.linear(x, self.mix(self.weight, self.extra_weight), self.mix(self.bias, self.extra_bias))


class SubspaceBatchNorm2d(SubspaceModule, nn.BatchNorm2d):
    """BatchNorm with anchor affine parameters (gamma_i = 1, beta_i = 0 at init) and shared running stats."""

    def __init__(self, *args, anchors: int = 2, **kwargs):
        super().__init__(*args, **kwargs)
        self._init_subspace(anchors)
        self.extra_weight = nn.ParameterList([nn.Parameter(torch.ones_like(self.weight)) for _ in range(anchors - 1)])
        self.extra_bias = nn.ParameterList([nn.Parameter(torch.zeros_like(self.bias)) for _ in range(anchors - 1)])

    def anchor_weights(self):  # BatchNorm is excluded from the regulariser
        return []

    def forward(self, x):
        self._check_input_dim(x)
        use_batch = self.training or self.running_mean is None
        if self.training and self.num_batches_tracked is not None:
            self.num_batches_tracked.add_(1)
        momentum = 0.0 if self.momentum is None else self.momentum
        if self.training and self.momentum is None:  # cumulative average (used by the BN recompute)
            momentum = 1.0 / float(self.num_batches_tracked)
        return F.batch_norm(x, self.running_mean, self.running_var, self.mix(self.weight, self.extra_weight),
                            self.mix(self.bias, self.extra_bias), use_batch, momentum, self.eps)


def subspace_layers(kind: str, vertices: int = 2) -> Layers:
    """``Layers`` factories for the registry's builders: every conv/linear/norm becomes a subspace layer."""
    n = num_anchors(kind, vertices)
    return Layers(conv=partial(SubspaceConv2d, anchors=n), linear=partial(SubspaceLinear, anchors=n),
                  norm=partial(SubspaceBatchNorm2d, anchors=n))


def subspace_modules(model: nn.Module) -> list[SubspaceModule]:
    return [m for m in model.modules() if isinstance(m, SubspaceModule)]


def set_point(model: nn.Module, kind: str, point) -> None:
    """Put every subspace layer of ``model`` at the same ``point``."""
    c = coefficients(kind, point)
    for m in subspace_modules(model):
        m.set_coefficients(c)


def cos_squared(model: nn.Module, i: int, j: int) -> torch.Tensor:
    """<w_i, w_j>^2 / (|w_i|^2 |w_j|^2), inner products and norms summed over all conv/linear layers jointly."""
    num = norm_i = norm_j = 0.0
    for m in subspace_modules(model):
        ws = m.anchor_weights()
        if not ws:
            continue
        num = num + (ws[i] * ws[j]).sum()
        norm_i = norm_i + ws[i].pow(2).sum()
        norm_j = norm_j + ws[j].pow(2).sum()
    return num.pow(2) / (norm_i * norm_j)
