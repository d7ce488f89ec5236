"""The 4-layer fully convolutional side network of side-tuning (its ``FCN4``), width-scalable.

The original (jozhang97/side-tuning, for 32x32 CIFAR images): four bias-free 3x3 convs 16, 16, 32, 64 channels,

    conv s1 p1 -> norm -> ReLU,  conv s2 p0 -> norm -> ReLU,  conv s2 p0 -> norm -> ReLU,  conv s1 p0 -> ReLU

(no norm after the last conv), then global average pooling; 32x32 maps go 32 -> 15 -> 7 -> 5. This geometry is
used for images of at least 32 pixels (``original=None``: chosen by the input size).

Smaller images (8x8 digits, 28x28 Fashion-MNIST: the default and Fashion configs) keep the variant those configs
were measured with: padding 1 on every conv, stride 2 on the middle two only from 8 pixels up, and a norm after
every conv. ``original=True``/``False`` forces one geometry.
"""

from torch import nn

from .registry import Backbone, Layers, register_model, scaled

ORIGINAL_MIN_SIZE = 32  # the original's input size (CIFAR); smaller images get the padded variant


class FCN4(Backbone):
    """Four conv layers (stride 2 on the middle two), global average pooling to ``channels[-1]`` x width."""

    def __init__(self, in_shape, width: float, layers: Layers, channels=(16, 16, 32, 64), original: bool | None = None):
        if original is None:
            original = in_shape[1] >= ORIGINAL_MIN_SIZE
        c_in, blocks = in_shape[0], []
        last = len(channels) - 1
        for i, c in enumerate(channels):
            c_out = scaled(c, width)
            middle = i in (1, 2)
            if original:
                stride, padding, norm = (2 if middle else 1), (1 if i == 0 else 0), i != last
            else:
                stride, padding, norm = (2 if middle and in_shape[1] >= 8 else 1), 1, True
            blocks.append(layers.conv(c_in, c_out, 3, stride=stride, padding=padding, bias=False))
            if norm:
                blocks.append(layers.norm(c_out))
            blocks.append(nn.ReLU(inplace=True))
            c_in = c_out
        super().__init__(blocks, c_in)


@register_model("fcn4")
def fcn4(in_shape, width=1.0, layers=Layers()):
    return FCN4(in_shape, width, layers)
