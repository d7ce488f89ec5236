"""Networks for the prior experiments: a backbone (whose parameters the prior covers) and a linear head.

``model`` is a name from the shared model registry (small_cnn, resnet20, ...) or ``torchvision_resnet50``, the
paper's torchvision ResNet-50 (its ImageNet weights when ``init: torchvision``), wrapped here so the shared
registry stays untouched.
"""

from __future__ import annotations

from torch import nn

from ...errors import UserError
from ...models import Classifier, build_backbone

TORCHVISION = {"torchvision_resnet50": ("resnet50", "IMAGENET1K_V2", 2048)}


class TorchvisionBackbone(nn.Module):
    """A torchvision classification network without its last fully connected layer."""

    def __init__(self, arch: str, weights: str | None, out_features: int):
        super().__init__()
        import torchvision

        try:
            net = getattr(torchvision.models, arch)(weights=weights)
        except Exception as exc:  # offline: the weight download fails
            raise UserError(f"cannot load torchvision's {arch} weights {weights} ({exc}); place the file in "
                            f"$TORCH_HOME/hub/checkpoints/ or set prior.pretrain.init to 'random'") from exc
        net.fc = nn.Identity()
        self.net, self.out_features = net, out_features

    def forward(self, x):
        return self.net(x)


def build_network(spec: dict, in_shape, num_classes: int, pretrained_init: bool = False) -> Classifier:
    """``spec`` = {"model": name, "width": w}; ``pretrained_init`` loads torchvision weights where they exist."""
    name = spec["model"]
    if name in TORCHVISION:
        arch, weights, out = TORCHVISION[name]
        backbone = TorchvisionBackbone(arch, weights if pretrained_init else None, out)
    else:
        backbone = build_backbone(name, tuple(in_shape), spec.get("width", 1.0))
    return Classifier(backbone, num_classes)
