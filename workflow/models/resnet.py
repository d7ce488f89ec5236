"""CIFAR ResNets (He et al. 2016): 3 stages of 16/32/64 channels x width, (depth - 2) / 6 basic blocks each.

Two recipes, each as the paper that uses it builds its network:

- ``resnet20``: the subspaces paper's cResNet-20 (apple/learning-subspaces, after open_lth): projection shortcuts
  (option B: 1x1 conv + BatchNorm where the shape changes) and a bias-free classifier (its ``fc`` is a 1x1 conv
  without bias), so ``head_bias`` is False.
- ``resnet44``: side-tuning's ResNet-44 base (the akamaster CIFAR ResNet of jozhang97/side-tuning): parameter-free
  shortcuts (option A: subsample by the stride and zero-pad the new channels, half before and half after),
  Kaiming-normal (fan_in) convs and head weight; 0.66M parameters with its 10-way head.
"""

import torch.nn.functional as F
from torch import nn

from .registry import Backbone, Layers, register_model, scaled


class PadShortcut(nn.Module):
    """Option A shortcut: ``x[:, :, ::s, ::s]`` with ``c_out - c_in`` zero channels, split before / after."""

    def __init__(self, c_in: int, c_out: int, stride: int):
        super().__init__()
        if c_out < c_in:
            raise ValueError(f"a padding shortcut cannot shrink {c_in} channels to {c_out}")
        self.stride, self.before, self.after = stride, (c_out - c_in) // 2, c_out - c_in - (c_out - c_in) // 2

    def forward(self, x):
        if self.stride > 1:
            x = x[:, :, ::self.stride, ::self.stride]
        return F.pad(x, (0, 0, 0, 0, self.before, self.after))


class BasicBlock(nn.Module):
    def __init__(self, c_in, c_out, stride, layers: Layers, shortcut: str = "B"):
        super().__init__()
        self.conv1 = layers.conv(c_in, c_out, 3, stride=stride, padding=1, bias=False)
        self.bn1 = layers.norm(c_out)
        self.conv2 = layers.conv(c_out, c_out, 3, padding=1, bias=False)
        self.bn2 = layers.norm(c_out)
        self.relu = nn.ReLU(inplace=True)
        self.shortcut = nn.Sequential()
        if stride != 1 or c_in != c_out:
            if shortcut == "A":
                self.shortcut = PadShortcut(c_in, c_out, stride)
            else:  # projection shortcut (option B)
                self.shortcut = nn.Sequential(layers.conv(c_in, c_out, 1, stride=stride, bias=False),
                                              layers.norm(c_out))

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + self.shortcut(x))


class CifarResNet(Backbone):
    def __init__(self, in_shape, depth: int, width: float, layers: Layers, shortcut: str = "B"):
        if (depth - 2) % 6:
            raise ValueError(f"CIFAR ResNet depth must be 6n + 2, got {depth}")
        if shortcut not in ("A", "B"):
            raise ValueError(f"shortcut must be 'A' (zero padding) or 'B' (projection), got {shortcut!r}")
        n = (depth - 2) // 6
        widths = [scaled(c, width) for c in (16, 32, 64)]
        blocks = [layers.conv(in_shape[0], widths[0], 3, padding=1, bias=False), layers.norm(widths[0]),
                  nn.ReLU(inplace=True)]
        c_in = widths[0]
        for stage, c_out in enumerate(widths):
            for i in range(n):
                blocks.append(BasicBlock(c_in, c_out, 2 if (stage > 0 and i == 0) else 1, layers, shortcut))
                c_in = c_out
        super().__init__(blocks, c_in)


class SubspaceCifarResNet(CifarResNet):
    """open_lth's cResNet as the subspaces paper uses it: projection shortcuts, classifier without bias."""

    head_bias = False

    def __init__(self, in_shape, depth: int, width: float, layers: Layers):
        super().__init__(in_shape, depth, width, layers, shortcut="B")


class AkamasterCifarResNet(CifarResNet):
    """The akamaster CIFAR ResNet of side-tuning's base: option-A shortcuts, Kaiming-normal (fan_in) convs."""

    def __init__(self, in_shape, depth: int, width: float, layers: Layers):
        super().__init__(in_shape, depth, width, layers, shortcut="A")
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight)

    def init_head(self, head: nn.Module) -> None:
        nn.init.kaiming_normal_(head.weight)


@register_model("resnet20")
def resnet20(in_shape, width=1.0, layers=Layers()):
    return SubspaceCifarResNet(in_shape, 20, width, layers)


@register_model("resnet44")
def resnet44(in_shape, width=1.0, layers=Layers()):
    return AkamasterCifarResNet(in_shape, 44, width, layers)
