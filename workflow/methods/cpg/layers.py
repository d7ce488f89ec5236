"""Sharable layers: a conv / linear layer whose weight entries are owned by tasks.

Every sharable layer carries

- ``owner``: an integer tensor shaped like the weight. 0 = free (or pruned), k >= 1 = owned by task k. Owners never
  overlap, so the tasks' weight sets are disjoint by construction.
- a *picking mask* ``picking`` (tasks k > 1 of CPG): a real-valued tensor shaped like the weight, initialised to
  0.01 and binarised at 0.005 in the forward pass with a straight-through gradient. It selects which old-task
  weights task k reuses.

While task k trains, the effective weight is

    W_eff = W * (1[owner == k] + 1[1 <= owner < k] * b),   b = binarize(picking)  (CPG)
                                                          b = 1                   (PackNet: every old weight)

so pruned and free entries (owner 0) contribute nothing. Gradients of W outside ``owner == k`` and of the picking
mask outside old-task entries are zeroed by :class:`~workflow.methods.cpg.hooks.OwnershipGradientMask`.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

PICK_INIT = 0.01       # initial value of every picking-mask entry
PICK_THRESHOLD = 5e-3  # binarisation threshold: picked iff value > threshold


class Binarize(torch.autograd.Function):
    """b = 1[p > threshold] in the forward pass; db/dp = 1 (straight-through) in the backward pass."""

    @staticmethod
    def forward(ctx, p: torch.Tensor, threshold: float = PICK_THRESHOLD) -> torch.Tensor:
        return (p > threshold).to(p.dtype)

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        return grad, None


def binarize(p: torch.Tensor, threshold: float = PICK_THRESHOLD) -> torch.Tensor:
    return Binarize.apply(p, threshold)


class Sharable:
    """Mixin holding the ownership state shared by :class:`SharableConv2d` and :class:`SharableLinear`."""

    weight: nn.Parameter

    def _init_sharable(self) -> None:
        self.register_buffer("owner", torch.zeros(self.weight.shape, dtype=torch.int16))
        # Cached float masks for the task being trained (not saved: derived from `owner`).
        self.register_buffer("own", torch.zeros_like(self.weight), persistent=False)
        self.register_buffer("old", torch.zeros_like(self.weight), persistent=False)
        self.register_buffer("fixed", torch.zeros_like(self.weight), persistent=False)
        self.picking: nn.Parameter | None = None
        self.task = 0

    def set_task(self, task: int, *, reuse_old: bool, picked: torch.Tensor | None = None) -> None:
        """Prepare the masks for training task ``task`` (>= 1).

        ``reuse_old`` False: old weights enter through the trainable picking mask (attach it with
        :meth:`attach_picking`) or not at all; True: through a fixed 0/1 mask, ``picked`` (every old weight when
        None, as PackNet).
        """
        self.task = task
        with torch.no_grad():
            self.own.copy_(self.owner == task)
            self.old.copy_((self.owner >= 1) & (self.owner < task))
            self.fixed.copy_(self.own)
            if reuse_old:
                self.fixed.add_(self.old if picked is None else self.old * picked.to(self.old))

    def refresh_masks(self) -> None:
        """Recompute the cached masks after ``owner`` changed (pruning); fixed picks stay as they were."""
        with torch.no_grad():
            kept_old = self.fixed - self.own
            self.own.copy_(self.owner == self.task)
            self.fixed.copy_(self.own + kept_old)

    def attach_picking(self, init: float = PICK_INIT) -> nn.Parameter:
        self.picking = nn.Parameter(torch.full_like(self.weight, init))
        return self.picking

    def detach_picking(self) -> None:
        self.picking = None

    def picked(self) -> torch.Tensor | None:
        """The binarised picking mask over old-task entries (bool), or None without one."""
        if self.picking is None:
            return None
        return (self.picking.detach() > PICK_THRESHOLD) & self.old.bool()

    def effective_weight(self) -> torch.Tensor:
        if self.picking is None:
            return self.weight * self.fixed
        return self.weight * (self.fixed + self.old * binarize(self.picking))


class SharableConv2d(Sharable, nn.Conv2d):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._init_sharable()

    def forward(self, x):
        return self._conv_forward(x, self.effective_weight(), self.bias)


class SharableLinear(Sharable, nn.Linear):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._init_sharable()

    def forward(self, x):
        return F.linear(x, self.effective_weight(), self.bias)


def sharable_layers(module: nn.Module) -> list[tuple[str, Sharable]]:
    return [(n, m) for n, m in module.named_modules() if isinstance(m, Sharable)]


def norm_layers(module: nn.Module) -> list[tuple[str, nn.modules.batchnorm._BatchNorm]]:
    return [(n, m) for n, m in module.named_modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
