"""Small CNN for 8x8 (digits) and 28x28 (Fashion-MNIST) images."""

from torch import nn

from .registry import Backbone, Layers, register_model, scaled


class SmallCNN(Backbone):
    """Three conv-BN-ReLU blocks (16, 32, 64 channels x width); 2x2 max-pool after a block while the image is
    at least 4 pixels wide; global average pooling to ``out_features`` = 64 x width."""

    def __init__(self, in_shape, width: float, layers: Layers, channels=(16, 32, 64)):
        c_in, size = in_shape[0], in_shape[1]
        blocks = []
        for c in channels:
            c_out = scaled(c, width)
            blocks += [layers.conv(c_in, c_out, 3, padding=1, bias=False), layers.norm(c_out), nn.ReLU(inplace=True)]
            if size >= 4:
                blocks.append(nn.MaxPool2d(2))
                size //= 2
            c_in = c_out
        super().__init__(blocks, c_in)


@register_model("small_cnn")
def small_cnn(in_shape, width=1.0, layers=Layers()):
    return SmallCNN(in_shape, width, layers)


class MLP(Backbone):
    """Two hidden layers on the flattened image; tiny and fast, for tests."""

    def __init__(self, in_shape, width: float, layers: Layers, hidden=64):
        n_in = in_shape[0] * in_shape[1] * in_shape[2]
        h = scaled(hidden, width)
        super().__init__([nn.Flatten(), layers.linear(n_in, h), nn.ReLU(inplace=True), layers.linear(h, h),
                          nn.ReLU(inplace=True)], h, pool=False)


@register_model("mlp")
def mlp(in_shape, width=1.0, layers=Layers()):
    return MLP(in_shape, width, layers)
