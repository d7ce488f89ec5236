"""The deep prior: a CNN encoder built from a net string, with random (Kaiming-normal) weights.

Plain conv ``C(f,k,s,p,1)``: bias-free conv -> BatchNorm (eps ``bn_eps``; none if 0) -> ReLU.
Residual block ``C(f,3,1,1,0)``, pre-activation: ``y = conv(relu(bn(conv(relu(bn(x)))))) + shortcut``, where the
shortcut is ``x`` or, when the channel count changes, a 1x1 conv of ``relu(bn(x))``.
Pool ``P(k,s,0,0)``: max-pool. The output is flattened to a ``C*H*W`` vector.

During a search the encoder is never trained; :class:`DeepPriorNet` (encoder + linear head, no bias) is the
whole network that hypothesis 3 trains end to end.
"""

from __future__ import annotations

import torch
from torch import nn

from .netstring import Conv, Pool, embedding_shape, parse


def _norm(channels: int, eps: float) -> nn.Module:
    return nn.BatchNorm2d(channels, eps=eps) if eps > 0 else nn.Identity()


class ResidualBlock(nn.Module):
    def __init__(self, in_ch: int, out_ch: int, eps: float):
        super().__init__()
        self.bn1, self.conv1 = _norm(in_ch, eps), nn.Conv2d(in_ch, out_ch, 3, 1, 1, bias=False)
        self.bn2, self.conv2 = _norm(out_ch, eps), nn.Conv2d(out_ch, out_ch, 3, 1, 1, bias=False)
        self.shortcut = nn.Conv2d(in_ch, out_ch, 1, bias=False) if in_ch != out_ch else None

    def forward(self, x):
        pre = torch.relu(self.bn1(x))
        out = self.conv2(torch.relu(self.bn2(self.conv1(pre))))
        return out + (x if self.shortcut is None else self.shortcut(pre))


class Encoder(nn.Module):
    """Layers of a net string (all but ``SM``), flattened output of length ``out_features``."""

    def __init__(self, layers, in_channels: int, image_size: int, bn_eps: float = 1e-4):
        super().__init__()
        modules, ch = [], in_channels
        for layer in layers:
            if isinstance(layer, Conv) and layer.residual:
                modules.append(ResidualBlock(ch, layer.features, bn_eps))
                ch = layer.features
            elif isinstance(layer, Conv):
                modules += [nn.Conv2d(ch, layer.features, layer.kernel, layer.stride, layer.padding, bias=False),
                            _norm(layer.features, bn_eps), nn.ReLU()]
                ch = layer.features
            elif isinstance(layer, Pool):
                modules.append(nn.MaxPool2d(layer.kernel, layer.stride))
        self.body = nn.Sequential(*modules)
        c, h, w = embedding_shape(layers, in_channels, image_size)
        self.out_shape, self.out_features = (c, h, w), c * h * w

    def forward(self, x):
        return self.body(x).flatten(1)


def init_weights(module: nn.Module) -> None:
    """Kaiming-normal convs and linears, BN weight 1 and bias 0 (the original's default initialisation)."""
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            nn.init.kaiming_normal_(m.weight)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)


def build_encoder(net, in_channels: int, image_size: int, bn_eps: float = 1e-4, seed: int | None = None) -> Encoder:
    """An encoder from a net string (or parsed layers); ``seed`` fixes its random weights."""
    layers = parse(net) if isinstance(net, str) else net
    if seed is not None:
        torch.manual_seed(seed)
    enc = Encoder(layers, in_channels, image_size, bn_eps)
    init_weights(enc)
    return enc


class DeepPriorNet(nn.Module):
    """Encoder + bias-free linear classifier (the whole net, trained end to end for hypothesis 3)."""

    def __init__(self, encoder: Encoder, classes: int):
        super().__init__()
        self.encoder, self.head = encoder, nn.Linear(encoder.out_features, classes, bias=False)
        init_weights(self.head)

    def forward(self, x):
        return self.head(self.encoder(x))
