"""BSP's network: one trunk whose conv and linear layers see each task through a fixed binary context, and one
head per task.

For task k, a superposed layer with weight W computes

    y = W (c_k * x) = (W * c_k) x,   c_k in {-1, +1}^n,

where n is the layer's number of input units: in_features for a linear layer, in_channels / groups x kh x kw
for a conv (c_k multiplies each entry of a receptive field, broadcast over the output channels). The contexts are
buffers (saved with the network, never trained) drawn from ``context_seed`` and the task index alone, so task k's
contexts do not depend on how many tasks follow. The weights W (and BatchNorm's affine parameters) are one set
shared by all tasks; they train on every task in turn.

BatchNorm keeps no running statistics (``track_running_stats=False``, as the original's BSP network): training
and evaluation both normalise with the batch's own statistics, so no statistic of an old task is overwritten.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ...errors import UserError
from ..sidetune.networks import FinetuneNet

INITS = ("base", "scratch")


class Superposed:
    """What a superposed layer adds to its plain layer: per-task contexts and the task it currently serves."""

    contexts: torch.Tensor  # (tasks, *one input unit's shape): +-1
    task: int = 0

    def init_contexts(self, contexts: torch.Tensor) -> None:
        self.register_buffer("contexts", contexts.to(self.weight.dtype))
        self.task = 0

    @property
    def input_units(self) -> int:
        return int(self.weight[0].numel())

    def copy_parameters(self, source: nn.Module):
        """This layer with ``source``'s weight and bias (the plain layer it replaces); returns self."""
        with torch.no_grad():
            self.weight.copy_(source.weight)
            if source.bias is not None:
                self.bias.copy_(source.bias)
        return self

    def context(self) -> torch.Tensor:
        if not 0 <= self.task < len(self.contexts):
            raise UserError(f"task {self.task} has no context: the network was built for {len(self.contexts)} "
                            f"tasks")
        return self.contexts[self.task]


class SuperposedConv2d(Superposed, nn.Conv2d):
    """A Conv2d computing conv(x, W * c_k): c_k has one sign per (input channel, kernel row, kernel column)."""

    @classmethod
    def of(cls, conv: nn.Conv2d, n_tasks: int) -> "SuperposedConv2d":
        layer = cls(conv.in_channels, conv.out_channels, conv.kernel_size, stride=conv.stride, padding=conv.padding,
                    dilation=conv.dilation, groups=conv.groups, bias=conv.bias is not None,
                    padding_mode=conv.padding_mode)
        layer.init_contexts(torch.ones(n_tasks, *conv.weight.shape[1:]))
        return layer.copy_parameters(conv)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self._conv_forward(x, self.weight * self.context().unsqueeze(0), self.bias)


class SuperposedLinear(Superposed, nn.Linear):
    """A Linear computing (W * c_k) x = W (c_k * x): c_k has one sign per input feature."""

    @classmethod
    def of(cls, linear: nn.Linear, n_tasks: int) -> "SuperposedLinear":
        layer = cls(linear.in_features, linear.out_features, bias=linear.bias is not None)
        layer.init_contexts(torch.ones(n_tasks, linear.in_features))
        return layer.copy_parameters(linear)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.linear(x, self.weight * self.context(), self.bias)


def without_running_stats(bn: nn.modules.batchnorm._BatchNorm) -> nn.modules.batchnorm._BatchNorm:
    """The same BatchNorm (affine parameters copied) normalising with batch statistics only, in training and in
    evaluation."""
    new = type(bn)(bn.num_features, eps=bn.eps, momentum=bn.momentum, affine=bn.affine, track_running_stats=False)
    if bn.affine:
        with torch.no_grad():
            new.weight.copy_(bn.weight)
            new.bias.copy_(bn.bias)
    return new


def _replace_layers(module: nn.Module, n_tasks: int) -> None:
    for name, child in module.named_children():
        if isinstance(child, nn.Conv2d) and not isinstance(child, Superposed):
            setattr(module, name, SuperposedConv2d.of(child, n_tasks))
        elif isinstance(child, nn.Linear) and not isinstance(child, Superposed):
            setattr(module, name, SuperposedLinear.of(child, n_tasks))
        elif isinstance(child, nn.modules.batchnorm._BatchNorm):
            setattr(module, name, without_running_stats(child))
        elif isinstance(child, (nn.Conv1d, nn.Conv3d, nn.ConvTranspose2d)):
            raise UserError(f"BSP has no context layer for {type(child).__name__}; use a trunk of Conv2d and "
                            f"Linear layers (sidetune.base.model)")
        else:
            _replace_layers(child, n_tasks)


def context_layers(module: nn.Module) -> list[Superposed]:
    """The superposed layers of ``module``, in module order (the order their contexts are drawn in)."""
    return [m for m in module.modules() if isinstance(m, Superposed)]


def task_generator(context_seed: int, task: int) -> torch.Generator:
    """The generator of task ``task``'s contexts: a function of (context_seed, task) only."""
    state = np.random.SeedSequence([int(context_seed), int(task)]).generate_state(1, dtype=np.uint64)[0]
    return torch.Generator().manual_seed(int(state))


def draw_contexts(layers: list[Superposed], n_tasks: int, context_seed: int) -> None:
    """Fill each layer's contexts: for task k, one generator (see :func:`task_generator`) draws a +-1 sign per
    input unit of every layer in turn."""
    for task in range(n_tasks):
        g = task_generator(context_seed, task)
        for layer in layers:
            signs = torch.randint(0, 2, (layer.input_units,), generator=g) * 2 - 1
            layer.contexts[task].copy_(signs.view_as(layer.contexts[task]))


def superpose(trunk: nn.Module, n_tasks: int, context_seed: int) -> nn.Module:
    """``trunk`` with its Conv2d and Linear layers superposed over ``n_tasks`` tasks (contexts from
    ``context_seed``) and its BatchNorm layers keeping no running statistics, changed in place (returned). The
    weights are copied unchanged."""
    _replace_layers(trunk, n_tasks)
    layers = context_layers(trunk)
    if not layers:
        raise UserError("BSP found no Conv2d or Linear layer in the trunk to superpose")
    draw_contexts(layers, n_tasks, context_seed)
    return trunk


class BSPNet(FinetuneNet):
    """Fine-tuning's network (one trainable copy of the trunk shared by every task, task t's own head) with the
    copy superposed: logits = T_t(GN(N_t(x))), where N_t is the trunk seen through task t's contexts. Task t
    trains the trunk and its head (``param_groups``)."""

    def __init__(self, trunk: nn.Module, num_classes: list[int], head_groups: int, image_shape,
                 context_seed: int = 0):
        super().__init__(trunk, num_classes, head_groups, image_shape)  # self.trunk: a trainable copy
        self.context_seed = int(context_seed)
        superpose(self.trunk, len(num_classes), self.context_seed)

    def set_task(self, task: int) -> None:
        for layer in context_layers(self.trunk):
            layer.task = task

    def features(self, x: torch.Tensor, task: int) -> torch.Tensor:
        self.set_task(task)
        return super().features(x, task)


def starting_trunk(backbone: nn.Module, base_state: dict, init: str) -> nn.Module:
    """The trunk BSP starts from: side-tuning's pretrained base (``base``), or the same architecture freshly
    initialised from the global RNG (``scratch``). The original started from a base pretrained with contexts,
    which is not shipped (and not built here)."""
    if init == "base":
        return backbone
    if init == "scratch":
        from ...models import build_backbone

        return build_backbone(base_state["model"], tuple(base_state["in_shape"]), base_state["width"])
    raise UserError(f"bsp.init is '{init}'; allowed: {', '.join(INITS)}")


def build_network(backbone: nn.Module, base_state: dict, *, init: str, context_seed: int, num_classes: list[int],
                  head_groups: int, image_shape) -> BSPNet:
    """BSP's network for a suite of ``len(num_classes)`` tasks, from side-tuning's base (see
    :func:`starting_trunk`)."""
    return BSPNet(starting_trunk(backbone, base_state, init), num_classes, head_groups, image_shape, context_seed)
