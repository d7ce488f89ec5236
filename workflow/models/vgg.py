"""VGG16 with BatchNorm for 32x32 images, as CPG builds it (ivclab/CPG ``custom_vgg_cifar100``).

- 13 convs, 3x3, padding 1, no bias, each followed by BatchNorm and ReLU, in the configuration
  64, 64, M, 128, 128, M, 256 x3, M, 512 x3, M, 512 x3, M (M: 2x2 max-pool, stride 2);
- then the FC stack 512 -> 4096 -> 4096, each FC with a bias and followed by ReLU, no dropout (the original
  uses dropout only in its 224x224 ImageNet variant) and no BatchNorm;
- ``out_features`` = 4096 x width: a task's head sits on these features.

Every conv and both FCs come from the ``layers`` factories (``layers.conv``, ``layers.linear``), so CPG's sharable
layers cover all 15 of them. Channel counts are truncated, ``int(v * width)``, as the original's
``int(v * network_width_multiplier)``: CPG's growth to parameter multiplier 1.5 (width sqrt(1.5)) gives
64 -> 78, 128 -> 156, 256 -> 313, 512 -> 627 and 4096 -> 5016.

Initialisation as the original's ``_initialize_weights``: Kaiming-normal (fan_out, ReLU) convs, N(0, 0.01) FC
weights with zero biases, BatchNorm gamma 1 and beta 0; heads (:meth:`VGG.init_head`) N(0, 0.01), zero bias.

Where the original flattens the 1x1x512 map after the fifth pool, we average-pool globally first: identical on
32x32 inputs (the map is already 1x1), and it lets smaller images through (a pool is skipped once the map is
1 pixel wide).
"""

from torch import nn

from .registry import Backbone, Layers, register_model, truncated

VGG16 = [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"]
FC = (4096, 4096)
FC_INIT_STD = 0.01


class VGG(Backbone):
    def __init__(self, in_shape, width: float, layers: Layers, cfg=VGG16, fc=FC):
        c_in, size, blocks = in_shape[0], in_shape[1], []
        for v in cfg:
            if v == "M":
                if size >= 2:
                    blocks.append(nn.MaxPool2d(2))
                    size //= 2
                continue
            c_out = truncated(v, width)
            blocks += [layers.conv(c_in, c_out, 3, padding=1, bias=False), layers.norm(c_out), nn.ReLU(inplace=True)]
            c_in = c_out
        blocks += [nn.AdaptiveAvgPool2d(1), nn.Flatten()]
        n_in = c_in
        for n in fc:
            n_out = truncated(n, width)
            blocks += [layers.linear(n_in, n_out), nn.ReLU(inplace=True)]
            n_in = n_out
        super().__init__(blocks, n_in, pool=False)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
            elif isinstance(m, nn.modules.batchnorm._BatchNorm) and m.affine:
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
            elif isinstance(m, nn.Linear):
                self.init_head(m)

    def init_head(self, head: nn.Module) -> None:
        nn.init.normal_(head.weight, 0.0, FC_INIT_STD)
        if head.bias is not None:
            nn.init.zeros_(head.bias)


@register_model("vgg16_bn")
def vgg16_bn(in_shape, width=1.0, layers=Layers()):
    return VGG(in_shape, width, layers)
