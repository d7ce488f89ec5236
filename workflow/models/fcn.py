"""The 4-layer fully convolutional side network of side-tuning, width-scalable."""

from torch import nn

from .registry import Backbone, Layers, register_model, scaled


class FCN4(Backbone):
    """Four conv-BN-ReLU layers (stride 2 on the middle two), global average pooling to 64 x width features."""

    def __init__(self, in_shape, width: float, layers: Layers, channels=(16, 32, 64, 64)):
        c_in, blocks = in_shape[0], []
        for i, c in enumerate(channels):
            c_out = scaled(c, width)
            stride = 2 if i in (1, 2) and in_shape[1] >= 8 else 1
            blocks += [layers.conv(c_in, c_out, 3, stride=stride, padding=1, bias=False), layers.norm(c_out),
                       nn.ReLU(inplace=True)]
            c_in = c_out
        super().__init__(blocks, c_in)


@register_model("fcn4")
def fcn4(in_shape, width=1.0, layers=Layers()):
    return FCN4(in_shape, width, layers)
