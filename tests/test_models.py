"""Every registered model builds, runs on its input size and scales with width."""

import pytest
import torch

from workflow.models import MODELS, Layers, build_backbone, build_classifier

SHAPES = {"small_cnn": [(1, 8, 8), (1, 28, 28)], "mlp": [(1, 8, 8)], "vgg16_bn": [(3, 32, 32)],
          "resnet20": [(3, 32, 32)], "resnet44": [(3, 32, 32)], "fcn4": [(1, 8, 8), (3, 32, 32)]}


def n_params(m):
    return sum(p.numel() for p in m.parameters())


@pytest.mark.parametrize("name", sorted(MODELS))
def test_forward_and_width(name):
    for shape in SHAPES[name]:
        net = build_classifier(name, shape, 5, width=0.5)
        out = net(torch.randn(2, *shape))
        assert out.shape == (2, 5)
    assert n_params(build_backbone(name, SHAPES[name][0], 1.0)) > n_params(build_backbone(name, SHAPES[name][0], 0.5))


def test_layer_factories_are_used():
    made = []

    def conv(*a, **k):
        made.append("conv")
        return torch.nn.Conv2d(*a, **k)

    build_backbone("small_cnn", (1, 8, 8), 1.0, Layers(conv=conv))
    assert made.count("conv") == 3


def test_unknown_model():
    with pytest.raises(KeyError, match="available"):
        build_backbone("alexnet", (3, 32, 32))
