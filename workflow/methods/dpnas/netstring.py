"""Net strings of DP-NAS, e.g. ``[C(32,5,1,2,1), P(4,4,0,0), C(32,3,1,1,0), SM(10)]``.

- ``C(f,k,s,p,skip)``: a convolution with ``f`` features, kernel ``k``, stride ``s``, padding ``p``; ``skip = 1``
  is a plain conv -> BN -> ReLU, ``skip = 0`` a pre-activation residual block of two 3x3 convs (the original's
  counter-intuitive convention: 0 means "has a skip connection").
- ``P(k,s,0,0)``: max-pooling, kernel ``k``, stride ``s``, no padding.
- ``SM(n)``: the end of the encoder; a linear classifier to ``n`` classes follows.

The printer is the parser's exact inverse on canonical strings (``to_string(parse(s)) == s``).
Spatial size after a conv or pool: ``out = floor((in - k + 2p) / s) + 1``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Union

from ...errors import UserError


@dataclass(frozen=True)
class Conv:
    features: int
    kernel: int
    stride: int
    padding: int
    skip: int  # 1: plain conv; 0: residual block

    @property
    def residual(self) -> bool:
        return self.skip == 0

    def __str__(self) -> str:
        return f"C({self.features},{self.kernel},{self.stride},{self.padding},{self.skip})"


@dataclass(frozen=True)
class Pool:
    kernel: int
    stride: int

    def __str__(self) -> str:
        return f"P({self.kernel},{self.stride},0,0)"


@dataclass(frozen=True)
class End:
    classes: int

    def __str__(self) -> str:
        return f"SM({self.classes})"


Layer = Union[Conv, Pool, End]
_TOKEN = re.compile(r"\s*(C|P|SM)\(([^()]*)\)\s*(,|$)")


def parse(text: str) -> list[Layer]:
    """``"[C(...), P(...), SM(n)]"`` -> layers. Raises :class:`UserError` on anything malformed."""
    body = text.strip()
    if not (body.startswith("[") and body.endswith("]")):
        raise UserError(f"net string {text!r} must be a bracketed list such as '[C(16,3,1,1,1), SM(10)]'")
    body, layers, pos = body[1:-1], [], 0
    while pos < len(body):
        m = _TOKEN.match(body, pos)
        if not m:
            raise UserError(f"net string {text!r}: cannot read a layer at {body[pos:]!r}; layers are "
                            f"C(f,k,s,p,skip), P(k,s,0,0) or SM(n)")
        kind, args = m.group(1), [int(a) for a in m.group(2).split(",")]
        expected = {"C": 5, "P": 4, "SM": 1}[kind]
        if len(args) != expected:
            raise UserError(f"net string {text!r}: {kind} takes {expected} numbers, got {len(args)}")
        layers.append(Conv(*args) if kind == "C" else Pool(args[0], args[1]) if kind == "P" else End(args[0]))
        pos = m.end()
    if not layers or not isinstance(layers[-1], End) or any(isinstance(l, End) for l in layers[:-1]):
        raise UserError(f"net string {text!r} must end with exactly one SM(n)")
    return layers


def to_string(layers) -> str:
    return "[" + ", ".join(str(layer) for layer in layers) + "]"


def out_size(size: int, kernel: int, stride: int, padding: int) -> int:
    """``floor((size - kernel + 2 padding) / stride) + 1``."""
    return (size - kernel + 2 * padding) // stride + 1


def resolutions(layers, image_size: int) -> list[int]:
    """Spatial size after each layer (the End keeps the last size). A residual block is 3x3, stride 1, pad 1."""
    sizes, size = [], image_size
    for layer in layers:
        if isinstance(layer, Conv):
            size = size if layer.residual else out_size(size, layer.kernel, layer.stride, layer.padding)
        elif isinstance(layer, Pool):
            size = out_size(size, layer.kernel, layer.stride, 0)
        sizes.append(size)
    return sizes


def embedding_shape(layers, in_channels: int, image_size: int) -> tuple[int, int, int]:
    """(C, H, W) of the encoder output, whose flattened length C*H*W is the classifier's input."""
    channels = in_channels
    for layer in layers:
        if isinstance(layer, Conv):
            channels = layer.features
    size = resolutions(layers, image_size)[-1]
    return channels, size, size
