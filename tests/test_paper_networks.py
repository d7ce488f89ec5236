"""The papers' networks, built by this project's code, against the original architectures' parameter counts.

Every expected number below is derived by hand from the original architecture definitions (the arithmetic is in
the comments), never by calling the code under test. Large networks are built on the ``meta`` device: shapes and
parameter counts without allocating memory.

Sources: ivclab/CPG ``models/vgg.py`` (``custom_vgg_cifar100``, ``make_layers_cifar100``) and ``models/layers.py``;
jozhang97/side-tuning ``tlkit/models/resnet_cifar.py`` (``ResnetiCifar44NoLinear``, option A) and
``tlkit/models/student_models.py`` / ``model_utils.py`` (``FCN4Reshaped``); apple/learning-subspaces
``models/cifar_resnet.py`` (open_lth's cResNet, ``fc`` a bias-free 1x1 conv); the DP-NAS README (seed 004) and
``lib/Models/network.py`` as described in the reference brief.
"""

from __future__ import annotations

import copy
import math

import pytest
import torch
from torch import nn

from workflow.methods.cpg import stages
from workflow.methods.cpg.layers import SharableConv2d, SharableLinear, sharable_layers
from workflow.methods.cpg.network import CPGNet, NetSpec, task_view, widen
from workflow.methods.dpnas.encoder import DeepPriorNet, build_encoder
from workflow.methods.dpnas.netstring import embedding_shape, parse, resolutions
from workflow.methods.sidetune import build_side
from workflow.methods.subspace.training import build_model, parse_model
from workflow.models import build_backbone, build_classifier


def n_params(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


# --- CPG: VGG16-BN (custom_vgg_cifar100) -------------------------------------------------------------------------
#
# Convs: 3x3, no bias; weights = c_in * c_out * 9. At multiplier 1.0 (channels 64/128/256/512):
#   3*64*9       =     1,728      64*64*9      =    36,864
#   64*128*9     =    73,728      128*128*9    =   147,456
#   128*256*9    =   294,912      256*256*9 x2 = 1,179,648
#   256*512*9    = 1,179,648      512*512*9 x5 = 11,796,480   (two in the 4th block, three in the 5th)
#   13 convs: 14,710,464
# FCs (SharableLinear, bias): 512*4096 = 2,097,152 and 4096*4096 = 16,777,216 -> 18,874,368
# Sharable weights (13 convs + 2 FCs): 14,710,464 + 18,874,368 = 33,584,832 (the "33.6M")
# Other backbone parameters: BatchNorm 2 x (2*64 + 2*128 + 3*256 + 6*512) = 2 x 4,224 = 8,448;
#   FC biases 4096 + 4096 = 8,192 -> backbone 33,584,832 + 8,448 + 8,192 = 33,601,472
#
# Multiplier 1.5: width sqrt(1.5) = 1.22474..., int() truncation:
#   64 -> int(78.38) = 78, 128 -> int(156.77) = 156, 256 -> int(313.53) = 313, 512 -> int(627.07) = 627,
#   4096 -> int(5016.55) = 5016   (rounding would give 157, 314 and 5017)
#   3*78*9 = 2,106; 78*78*9 = 54,756; 78*156*9 = 109,512; 156*156*9 = 219,024; 156*313*9 = 439,452;
#   313*313*9 x2 = 1,763,442; 313*627*9 = 1,766,259; 627*627*9 x5 = 17,690,805 -> convs 22,045,356
#   FCs: 627*5016 = 3,145,032; 5016*5016 = 25,160,256 -> 28,305,288
#   sharable weights: 22,045,356 + 28,305,288 = 50,350,644
VGG_CHANNELS_1 = [64, 64, 128, 128, 256, 256, 256, 512, 512, 512, 512, 512, 512]
VGG_CHANNELS_15 = [78, 78, 156, 156, 313, 313, 313, 627, 627, 627, 627, 627, 627]
SHARABLE_1, SHARABLE_15 = 33_584_832, 50_350_644
BACKBONE_1 = 33_601_472


def layer_shapes(net: CPGNet) -> list[tuple[int, int]]:
    return [tuple(m.weight.shape[:2]) for _, m in sharable_layers(net.backbone)]


def expected_shapes(channels: list[int], fc: int) -> list[tuple[int, int]]:
    ins = [3] + channels[:-1]
    return list(zip(channels, ins)) + [(fc, channels[-1]), (fc, fc)]


def meta_cpg(multiplier: float) -> CPGNet:
    with torch.device("meta"):
        return CPGNet(NetSpec("vgg16_bn", (3, 32, 32), 1.0, multiplier))


def test_cpg_vgg16_bn_at_multiplier_1():
    net = meta_cpg(1.0)
    layers = sharable_layers(net.backbone)
    assert [type(m) for _, m in layers] == [SharableConv2d] * 13 + [SharableLinear] * 2
    assert layer_shapes(net) == expected_shapes(VGG_CHANNELS_1, 4096)
    assert sum(m.weight.numel() for _, m in layers) == SHARABLE_1
    assert n_params(net.backbone) == BACKBONE_1
    assert all(m.bias is None for _, m in layers[:13]) and all(m.bias is not None for _, m in layers[13:])
    assert not any(isinstance(m, nn.Dropout) for m in net.backbone.modules())  # the CIFAR variant has none
    assert net.backbone.out_features == 4096
    with torch.device("meta"):
        head = net.add_head(5)
    assert (head.in_features, head.out_features) == (4096, 5)  # int(4096 * 1.0) features per task head


def test_cpg_vgg16_bn_grown_to_multiplier_1_5():
    with torch.device("meta"):
        wide = widen(meta_cpg(1.0), 1.5)
        head = wide.add_head(5)
    assert layer_shapes(wide) == expected_shapes(VGG_CHANNELS_15, 5016)
    assert sum(m.weight.numel() for _, m in sharable_layers(wide.backbone)) == SHARABLE_15
    assert head.in_features == 5016
    direct = meta_cpg(1.5)  # a network built at 1.5 has the same layers
    assert layer_shapes(direct) == layer_shapes(wide)


def test_packnet_and_baseline_use_the_same_vgg():
    # The per-task baseline (plain layers) and PackNet (CPG's sharable layers, no picking) build the same network:
    # backbone 33,601,472 (above) + head 4096*5 + 5 = 20,485 -> 33,621,957.
    with torch.device("meta"):
        plain = build_classifier("vgg16_bn", (3, 32, 32), 5)
    assert n_params(plain) == BACKBONE_1 + 20_485


def test_vgg_initialisation_is_the_originals():
    """Kaiming-normal fan_out convs, N(0, 0.01) FC weights and zero biases, N(0, 0.01) heads with zero bias."""
    torch.manual_seed(0)
    net = CPGNet(NetSpec("vgg16_bn", (3, 32, 32), 0.25, 1.0))  # 128-channel convs, 1024-wide FCs
    head = net.add_head(5)
    layers = [m for _, m in sharable_layers(net.backbone)]
    last_conv, fc2 = layers[12].weight.detach(), layers[14].weight.detach()
    assert last_conv.shape == (128, 128, 3, 3)
    want = math.sqrt(2.0 / (128 * 9))  # gain sqrt(2) / sqrt(fan_out), fan_out = 128 * 3 * 3
    assert abs(float(last_conv.std()) / want - 1) < 0.03
    assert abs(float(fc2.std()) / 0.01 - 1) < 0.03 and fc2.shape == (1024, 1024)
    assert all(torch.count_nonzero(m.bias) == 0 for m in layers[13:])
    assert torch.count_nonzero(head.bias) == 0 and float(head.weight.detach().std()) < 0.02


def test_widen_truncates_and_keeps_fc_blocks():
    """Growth at a small base width on real tensors: channels int(v * w * sqrt(1.5)) (truncated), every conv and FC
    keeps its old weights in the top-left block, new entries free."""
    base = 0.125  # 8/16/32/64 channels, FC 512
    net = CPGNet(NetSpec("vgg16_bn", (3, 32, 32), base, 1.0))
    stages.claim_free_weights(net, 1)
    w = base * math.sqrt(1.5)  # 0.15309...
    # 64w = 9.80 -> 9, 128w = 19.60 -> 19, 256w = 39.19 -> 39, 512w = 78.38 -> 78, 4096w = 627.07 -> 627
    wide = widen(net, 1.5)
    assert layer_shapes(wide) == expected_shapes([9, 9, 19, 19, 39, 39, 39, 78, 78, 78, 78, 78, 78], 627)
    for (_, old), (_, new) in zip(sharable_layers(net.backbone), sharable_layers(wide.backbone)):
        block = tuple(slice(0, s) for s in old.weight.shape)
        assert torch.equal(new.weight[block], old.weight)
        assert torch.equal(new.owner[block], old.owner) and bool((old.owner == 1).all())
        assert int((new.owner != 0).sum()) == old.owner.numel()  # everything outside the block is free
        if old.bias is not None:
            assert torch.equal(new.bias[:old.bias.numel()], old.bias)


def test_cpg_on_vgg_does_not_forget_through_growth():
    """Two tiny tasks through CPG's stages on a narrow VGG16-BN (FC layers sharable): task 1 grows the network
    1.0 -> 1.5 and task 0's logits stay bit-identical."""
    from tests.conftest import make_tasks
    from tests.test_cpg import run_task, tiny_params

    tasks = make_tasks(n_tasks=2, per_class=20)
    params = tiny_params("cpg")
    params.update(model="vgg16_bn", width=0.0625, train_gate=0.0)  # 4/8/16/32-channel convs, 256-wide FCs
    net0, _, _ = run_task(None, tasks[0], params, 0.0, 2)
    _, before = stages.evaluate_tasks(net0, tasks)
    net1, attempts, _ = run_task(copy.deepcopy(net0.to_state()), tasks[1], params, 2.0, 2)
    assert attempts[0]["status"] == "grow" and net1.spec.multiplier == 1.5
    assert net1.backbone.out_features == int(4096 * 0.0625 * math.sqrt(1.5))  # 313
    _, after = stages.evaluate_tasks(net1, tasks)
    assert torch.equal(after[0], before[0])
    assert task_view(net1, 0).head.in_features == 256


# --- side-tuning: ResNet-44 base (option A) and FCN4 side ------------------------------------------------------
#
# ResNet-44, akamaster (ResnetiCifar44NoLinear): conv 3->16 (432) + BN16 (32); 3 stages x 7 basic blocks.
#   Block (c -> c): 2 convs c*c*9 + 2 BNs 2c. Option A shortcuts have no parameters.
#   Stage 1 (16): 7 x (2*2,304 + 64) = 7 x 4,672 = 32,704
#   Stage 2 (32): first block 16*32*9 + 32*32*9 + 128 = 4,608 + 9,216 + 128 = 13,952; 6 x (2*9,216 + 128) =
#                 6 x 18,560 = 111,360 -> 125,312
#   Stage 3 (64): first block 32*64*9 + 64*64*9 + 256 = 18,432 + 36,864 + 256 = 55,552; 6 x (2*36,864 + 256) =
#                 6 x 73,984 = 443,904 -> 499,456
#   Backbone: 432 + 32 + 32,704 + 125,312 + 499,456 = 657,936; with the 10-way head 64*10 + 10 = 650: 658,586
#   (the "0.66M" of ResNet44 in the original's table)
# FCN4 (FCN4Reshaped, 32x32 input): bias-free convs 3->16 (s1 p1), 16->16 (s2 p0), 16->32 (s2 p0), 32->64
#   (s1 p0); GroupNorm(2) with affine after the first three only.
#   3*16*9 + 16*16*9 + 16*32*9 + 32*64*9 = 432 + 2,304 + 4,608 + 18,432 = 25,776; GN 2*16 + 2*16 + 2*32 = 128
#   -> 25,904 (the "about 26k"); spatial 32 -> 32 -> 15 -> 7 -> 5, then average pooling to 64.

def test_sidetune_resnet44_base():
    base = build_backbone("resnet44", (3, 32, 32))
    assert n_params(base) == 657_936 and base.out_features == 64
    assert n_params(build_classifier("resnet44", (3, 32, 32), 10)) == 658_586
    convs = [m for m in base.modules() if isinstance(m, nn.Conv2d)]
    assert len(convs) == 43 and all(m.kernel_size == (3, 3) for m in convs)  # no 1x1 projection shortcuts
    assert base(torch.randn(2, 3, 32, 32)).shape == (2, 64)


def test_sidetune_fcn4_side():
    side = build_side((3, 32, 32), [16, 16, 32], 64)
    assert n_params(side) == 25_904 and side.out_features == 64
    norms = [m for m in side.modules() if isinstance(m, nn.GroupNorm)]
    assert [m.num_channels for m in norms] == [16, 16, 32]  # no norm after the last conv
    trunk = side.features[:-2]  # before average pooling
    assert trunk(torch.randn(2, 3, 32, 32)).shape == (2, 64, 5, 5)


# --- subspaces: cResNet-20 (open_lth, option B, bias-free 1x1-conv classifier) ------------------------------------
#
# conv 3->16 (432) + BN (32); 3 stages x 3 blocks; projection shortcut (1x1 conv + BN) where the shape changes.
#   Stage 1 (16): 3 x (2*2,304 + 64) = 3 x 4,672 = 14,016
#   Stage 2 (32): first block 4,608 + 9,216 + 128 + shortcut 16*32 + 64 = 14,528; 2 x 18,560 = 37,120 -> 51,648
#   Stage 3 (64): first block 18,432 + 36,864 + 256 + shortcut 32*64 + 128 = 57,728; 2 x 73,984 = 147,968
#                 -> 205,696
#   Backbone: 432 + 32 + 14,016 + 51,648 + 205,696 = 271,824; classifier 64*10 (no bias) = 640 -> 272,464
# A line has two anchors of every parameter (conv, BN affine, classifier): 2 x 272,464 = 544,928.

def test_subspace_cresnet20():
    backbone = build_backbone("resnet20", (3, 32, 32))
    assert n_params(backbone) == 271_824
    net = build_classifier("resnet20", (3, 32, 32), 10)
    assert n_params(net) == 272_464 and net.head.bias is None
    assert sum(isinstance(m, nn.Conv2d) and m.kernel_size == (1, 1) for m in backbone.modules()) == 2
    for name, anchors in (("standard", 1), ("line", 2)):
        model = build_model(parse_model(name), model="resnet20", in_shape=(3, 32, 32), num_classes=10, width=1.0)
        assert n_params(model) == anchors * 272_464


# --- DP-NAS: the README's example deep prior (FashionMNIST row 2621) ----------------------------------------------
#
# [C(32,5,1,2,1), P(4,4,0,0), C(32,3,1,1,0), C(1024,1,1,0,1), C(512,3,1,0,1), SM(10)], grayscale 28x28:
#   resolution floor((in - k + 2p)/s) + 1: 28 -> (28-5+4)/1+1 = 28 -> (28-4)/4+1 = 7 -> residual block keeps 7
#   -> (7-1)/1+1 = 7 -> (7-3)/1+1 = 5; embedding 512 * 5 * 5 = 12,800.
#   At 32x32 (CIFAR patch 32, grayscale): 32 -> 32 -> 8 -> 8 -> 8 -> 6; 512 * 6 * 6 = 18,432.
# Encoder parameters (bias-free convs, BN weight + bias):
#   C(32,5): 1*32*25 = 800 + BN 64; residual 32->32: BN 64 + 32*32*9 = 9,216 + BN 64 + 9,216 = 18,560 (identity
#   shortcut); C(1024,1): 32*1024 = 32,768 + BN 2,048; C(512,3): 1024*512*9 = 4,718,592 + BN 1,024
#   -> 800 + 64 + 18,560 + 32,768 + 2,048 + 4,718,592 + 1,024 = 4,773,856; head Linear(12,800, 10, no bias) = 128,000
DPNAS_EXAMPLE = "[C(32,5,1,2,1), P(4,4,0,0), C(32,3,1,1,0), C(1024,1,1,0,1), C(512,3,1,0,1), SM(10)]"


@pytest.mark.parametrize("size, shape, sizes", [(28, (512, 5, 5), [28, 7, 7, 7, 5, 5]),
                                                 (32, (512, 6, 6), [32, 8, 8, 8, 6, 6])])
def test_dpnas_example_embedding(size, shape, sizes):
    layers = parse(DPNAS_EXAMPLE)
    assert resolutions(layers, size) == sizes
    assert embedding_shape(layers, 1, size) == shape
    encoder = build_encoder(DPNAS_EXAMPLE, 1, size, seed=0)
    assert encoder.out_features == shape[0] * shape[1] * shape[2]  # 12,800 at 28x28, 18,432 at 32x32
    with torch.no_grad():
        assert encoder.eval()(torch.randn(2, 1, size, size)).shape == (2, encoder.out_features)
    if size == 28:
        assert encoder.out_features == 12_800
        assert n_params(encoder) == 4_773_856
        assert n_params(DeepPriorNet(encoder, 10).head) == 128_000
