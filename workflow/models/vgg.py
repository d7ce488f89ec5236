"""VGG16 with BatchNorm for 32x32 images, as CPG uses it (conv features, no big FC stack)."""

from torch import nn

from .registry import Backbone, Layers, register_model, scaled

VGG16 = [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"]


class VGG(Backbone):
    def __init__(self, in_shape, width: float, layers: Layers, cfg=VGG16):
        c_in, size, blocks = in_shape[0], in_shape[1], []
        for v in cfg:
            if v == "M":
                if size >= 2:
                    blocks.append(nn.MaxPool2d(2))
                    size //= 2
                continue
            c_out = scaled(v, width)
            blocks += [layers.conv(c_in, c_out, 3, padding=1, bias=False), layers.norm(c_out), nn.ReLU(inplace=True)]
            c_in = c_out
        super().__init__(blocks, c_in)


@register_model("vgg16_bn")
def vgg16_bn(in_shape, width=1.0, layers=Layers()):
    return VGG(in_shape, width, layers)
