"""Progressive network (Rusu et al. 2016) as the side-tuning paper configures it: the frozen base is column 0,
and every task gets a new column (the FCN4 side architecture, initialised from the distilled side) that receives
lateral connections from the base's intermediate activations, layer by layer:

    h_1 = f_1(x),   h_l = f_l(h_{l-1} + U_l(P_l(a_{l-1})))  for l = 2..4,   r_t = pool(h_4)

a_{l-1} are the base's stage outputs (``FrozenBase.taps``), P_l resizes them to h_{l-1}'s grid (adaptive average
pooling) and U_l is a 1x1 convolution, zero-initialised so a column starts as the distilled side. Laterals from
earlier task columns are off (the paper's ``pnn_v4`` setting); a column never changes after its task.
"""

from __future__ import annotations

import copy

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ...errors import UserError
from .base import FrozenBase
from .networks import TaskHeadsNet


class ProgressiveColumn(nn.Module):
    def __init__(self, side_init: nn.Module, tap_channels: list[int]):
        super().__init__()
        children = list(copy.deepcopy(side_init).features.children())
        convs = [i for i, m in enumerate(children) if isinstance(m, nn.Conv2d)]
        if len(convs) < 2:
            raise UserError("the pnn column needs a side network with at least two conv layers")
        bounds = convs + [len(children)]
        self.blocks = nn.ModuleList(nn.Sequential(*children[a:b]) for a, b in zip(bounds[:-1], bounds[1:]))
        # which base stage feeds each lateral: evenly spread over the stages, the deepest feeding the last
        n_lat = len(self.blocks) - 1
        self.tap_index = [int(i) for i in np.round(np.linspace(0, len(tap_channels) - 1, n_lat))]
        self.laterals = nn.ModuleList()
        for l in range(1, len(self.blocks)):
            conv_in = self.blocks[l][0].in_channels
            lateral = nn.Conv2d(tap_channels[self.tap_index[l - 1]], conv_in, 1)
            nn.init.zeros_(lateral.weight)
            nn.init.zeros_(lateral.bias)
            self.laterals.append(lateral)

    def forward(self, x, taps):
        h = self.blocks[0](x)
        for l in range(1, len(self.blocks)):
            a = taps[self.tap_index[l - 1]]
            a = F.adaptive_avg_pool2d(a, h.shape[-2:]) if a.shape[-2:] != h.shape[-2:] else a
            h = self.blocks[l](h + self.laterals[l - 1](a))
        return h  # the last block ends in global pooling + flatten


class ProgressiveNet(TaskHeadsNet):
    def __init__(self, base: FrozenBase, side_init: nn.Module, num_classes, head_groups, image_shape):
        dim = side_init.out_features
        super().__init__(dim, num_classes, head_groups, image_shape)
        self.base = base
        with torch.no_grad():
            probe = base.taps(torch.zeros(1, *self.image_shape))
        tap_channels = [t.shape[1] for t in probe]
        self.columns = nn.ModuleList(ProgressiveColumn(side_init, tap_channels) for _ in num_classes)
        for column in self.columns:
            column.requires_grad_(True)

    def features(self, x, task):
        images = self.split_input(x)[1]
        return self.columns[task](images, self.base.taps(images))

    def task_modules(self, task):
        return {"column": self.columns[task], "head": self.heads[task]}
