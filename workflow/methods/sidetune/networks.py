"""Lifelong networks with per-task heads. For task t:

    logits = T_t(GN(r_t(x))),   GN = group normalisation without parameters (8 groups), T_t = Linear(D, k_t)

with r_t by method:

- side-tuning: r_t = M_t(B(x), S_t(x)), B frozen, S_t and M_t task t's own (S_t starts from the distilled side);
- features:    r_t = B(x), only the heads learn;
- finetune:    r_t = N(x), N one shared trainable copy of the pretrained base (EWC adds a penalty to it).

A network says which of its modules task t owns (``task_modules``) and which it shares (``shared_modules``): the
optimizer of task t gets exactly those parameters, so older tasks' modules cannot move. Inputs are images
(N, C, H, W) or, where the base is frozen, cached inputs (N, D + C*H*W) = [B(x) | image] (see ``base.pack``).
"""

from __future__ import annotations

import copy
import math

import torch
import torch.nn.functional as F
from torch import nn

from ...errors import UserError
from .base import FrozenBase, unpack
from .merge import build_merge


class TaskHeadsNet(nn.Module):
    """Shared machinery: per-task heads on group-normalised features, and the per-task parameter groups."""

    supports_cache = False

    def __init__(self, dim: int, num_classes: list[int], head_groups: int, image_shape):
        super().__init__()
        self.feature_dim, self.image_shape = dim, tuple(image_shape)
        self.head_groups = math.gcd(int(head_groups), dim)
        self.heads = nn.ModuleList(nn.Linear(dim, k) for k in num_classes)

    def split_input(self, x: torch.Tensor) -> tuple[torch.Tensor | None, torch.Tensor]:
        """(cached base features or None, images)."""
        if x.dim() == 2:
            if not self.supports_cache:
                raise UserError(f"{type(self).__name__} cannot use cached base features (its base trains or it "
                                f"needs intermediate activations)")
            return unpack(x, self.feature_dim, self.image_shape)
        return None, x

    def features(self, x: torch.Tensor, task: int) -> torch.Tensor:
        raise NotImplementedError

    def forward(self, x: torch.Tensor, task: int) -> torch.Tensor:
        r = self.features(x, task)
        return self.heads[task](F.group_norm(r, self.head_groups))

    def task_modules(self, task: int) -> dict[str, nn.Module]:
        return {"head": self.heads[task]}

    def shared_modules(self) -> dict[str, nn.Module]:
        return {}

    def param_groups(self, task: int, weight_decay: float) -> list[dict]:
        """Task ``task``'s trainable parameters; merge parameters (alpha's logit, the MLP adapter) get no weight
        decay, as in the paper."""
        modules = {**self.task_modules(task), **self.shared_modules()}
        decay = [p for name, m in modules.items() if name != "merge" for p in m.parameters() if p.requires_grad]
        groups = [{"params": decay, "weight_decay": weight_decay}]
        if "merge" in modules:
            groups.append({"params": list(modules["merge"].parameters()), "weight_decay": 0.0})
        return groups


class SideTuneNet(TaskHeadsNet):
    supports_cache = True

    def __init__(self, base: FrozenBase, side_init: nn.Module, merge: str, num_classes, head_groups, image_shape):
        super().__init__(base.out_features, num_classes, head_groups, image_shape)
        self.base = base
        self.sides = nn.ModuleList(copy.deepcopy(side_init) for _ in num_classes)
        for side in self.sides:
            side.requires_grad_(True)
        self.merges = nn.ModuleList(build_merge(merge, self.feature_dim) for _ in num_classes)

    def features(self, x, task):
        b, images = self.split_input(x)
        if b is None:
            b = self.base(images)
        return self.merges[task](b, self.sides[task](images))

    def task_modules(self, task):
        return {"side": self.sides[task], "merge": self.merges[task], "head": self.heads[task]}

    def alphas(self) -> list[float | None]:
        return [getattr(m, "alpha", None) for m in self.merges]


class FeaturesNet(TaskHeadsNet):
    supports_cache = True

    def __init__(self, base: FrozenBase, num_classes, head_groups, image_shape):
        super().__init__(base.out_features, num_classes, head_groups, image_shape)
        self.base = base

    def features(self, x, task):
        b, images = self.split_input(x)
        return self.base(images) if b is None else b


class FinetuneNet(TaskHeadsNet):
    def __init__(self, backbone: nn.Module, num_classes, head_groups, image_shape):
        super().__init__(backbone.out_features, num_classes, head_groups, image_shape)
        self.trunk = copy.deepcopy(backbone)
        self.trunk.requires_grad_(True)

    def features(self, x, task):
        return self.trunk(self.split_input(x)[1])

    def shared_modules(self):
        return {"trunk": self.trunk}
