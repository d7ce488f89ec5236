"""CIFAR ResNets (He et al. 2016): 3 stages of 16/32/64 channels x width, (depth - 2) / 6 basic blocks each."""

from torch import nn

from .registry import Backbone, Layers, register_model, scaled


class BasicBlock(nn.Module):
    def __init__(self, c_in, c_out, stride, layers: Layers):
        super().__init__()
        self.conv1 = layers.conv(c_in, c_out, 3, stride=stride, padding=1, bias=False)
        self.bn1 = layers.norm(c_out)
        self.conv2 = layers.conv(c_out, c_out, 3, padding=1, bias=False)
        self.bn2 = layers.norm(c_out)
        self.relu = nn.ReLU(inplace=True)
        self.shortcut = nn.Sequential()
        if stride != 1 or c_in != c_out:  # projection shortcut (option B)
            self.shortcut = nn.Sequential(layers.conv(c_in, c_out, 1, stride=stride, bias=False), layers.norm(c_out))

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + self.shortcut(x))


class CifarResNet(Backbone):
    def __init__(self, in_shape, depth: int, width: float, layers: Layers):
        if (depth - 2) % 6:
            raise ValueError(f"CIFAR ResNet depth must be 6n + 2, got {depth}")
        n = (depth - 2) // 6
        widths = [scaled(c, width) for c in (16, 32, 64)]
        blocks = [layers.conv(in_shape[0], widths[0], 3, padding=1, bias=False), layers.norm(widths[0]),
                  nn.ReLU(inplace=True)]
        c_in = widths[0]
        for stage, c_out in enumerate(widths):
            for i in range(n):
                blocks.append(BasicBlock(c_in, c_out, 2 if (stage > 0 and i == 0) else 1, layers))
                c_in = c_out
        super().__init__(blocks, c_in)


@register_model("resnet20")
def resnet20(in_shape, width=1.0, layers=Layers()):
    return CifarResNet(in_shape, 20, width, layers)


@register_model("resnet44")
def resnet44(in_shape, width=1.0, layers=Layers()):
    return CifarResNet(in_shape, 44, width, layers)
