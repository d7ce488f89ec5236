"""One builder for every backbone (timm-style registry).

A backbone maps images (N, C, H, W) to features (N, ``out_features``). Every builder takes ``layers``, a
:class:`Layers` of factories, so a method can swap in its own conv/linear/norm (CPG's masked layers,
subspace layers) without copying the architecture.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch
from torch import nn

MODELS: dict[str, Callable[..., nn.Module]] = {}


@dataclass(frozen=True)
class Layers:
    conv: Callable[..., nn.Module] = nn.Conv2d
    linear: Callable[..., nn.Module] = nn.Linear
    norm: Callable[..., nn.Module] = nn.BatchNorm2d


def register_model(name: str):
    def deco(fn):
        MODELS[name] = fn
        return fn
    return deco


def scaled(channels: int, width: float) -> int:
    """``channels`` x ``width``, rounded (at least 1)."""
    return max(1, int(round(channels * width)))


def truncated(channels: int, width: float) -> int:
    """``channels`` x ``width``, truncated (at least 1): ``int(v * w)``, as CPG's original VGG scales its layers."""
    return max(1, int(channels * width))


class Backbone(nn.Module):
    """A feature extractor: ``features`` (the blocks, then global average pooling) maps images to
    ``out_features`` values.

    ``head_bias``: whether a classification head on these features has a bias (the original architecture's
    choice); :meth:`init_head` initialises such a head (default: the layer's own initialisation).
    """

    head_bias = True

    def __init__(self, blocks: list[nn.Module], out_features: int, pool: bool = True):
        super().__init__()
        tail = [nn.AdaptiveAvgPool2d(1), nn.Flatten()] if pool else []
        self.features = nn.Sequential(*blocks, *tail)
        self.out_features = out_features

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.features(x)

    def init_head(self, head: nn.Module) -> None:
        """Initialise a head on this backbone's features; the default keeps the layer's own initialisation."""


def build_backbone(name: str, in_shape: tuple[int, int, int], width: float = 1.0,
                   layers: Layers | None = None) -> nn.Module:
    if name not in MODELS:
        raise KeyError(f"unknown model '{name}'; available: {', '.join(sorted(MODELS))}")
    return MODELS[name](in_shape=tuple(in_shape), width=width, layers=layers or Layers())


class Classifier(nn.Module):
    """A backbone and one linear head."""

    def __init__(self, backbone: nn.Module, num_classes: int, linear=nn.Linear):
        super().__init__()
        self.backbone = backbone
        no_bias = {} if getattr(backbone, "head_bias", True) else {"bias": False}
        self.head = linear(backbone.out_features, num_classes, **no_bias)
        if hasattr(backbone, "init_head"):
            backbone.init_head(self.head)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.backbone(x))


def build_classifier(name: str, in_shape, num_classes: int, width: float = 1.0,
                     layers: Layers | None = None) -> Classifier:
    layers = layers or Layers()
    return Classifier(build_backbone(name, in_shape, width, layers), num_classes, linear=layers.linear)
