"""Subspace layers, regulariser, simplex sampling, BatchNorm recompute, and the Snakemake sub-DAG (issue 6)."""

import json

import numpy as np
import pandas as pd
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from tests.conftest import make_tasks, snakemake
from workflow.methods.subspace import (alpha_curve, cos_squared, parse_model, sample_point, set_point,
                                       train_model)
from workflow.methods.subspace.evaluation import logits_at
from workflow.methods.subspace.layers import SubspaceBatchNorm2d, SubspaceConv2d, SubspaceLinear
from workflow.methods.subspace.training import build_model
from workflow.errors import UserError
from workflow.training import recompute_batchnorm


@pytest.mark.parametrize("kind,point", [("line", 0.3), ("curve", 0.7), ("simplex", [0.2, 0.5, 0.3])])
def test_subspace_conv_equals_conv_with_interpolated_weight(kind, point):
    torch.manual_seed(0)
    n = 3 if kind != "line" else 2
    conv = SubspaceConv2d(3, 4, 3, padding=1, bias=True, anchors=n)
    with torch.no_grad():
        for b in conv.extra_bias:
            b.normal_()
        conv.bias.normal_()
    set_point(conv, kind, point)
    ws, bs = [conv.weight, *conv.extra_weight], [conv.bias, *conv.extra_bias]
    if kind == "line":
        c = [1 - point, point]
    elif kind == "curve":
        c = [(1 - point) ** 2, point ** 2, 2 * point * (1 - point)]  # anchor 2 is the Bezier control point
    else:
        c = point
    ref = nn.Conv2d(3, 4, 3, padding=1)
    with torch.no_grad():
        ref.weight.copy_(sum(ci * w for ci, w in zip(c, ws)))
        ref.bias.copy_(sum(ci * b for ci, b in zip(c, bs)))
    x = torch.randn(2, 3, 6, 6)
    torch.testing.assert_close(conv(x), ref(x), rtol=1e-5, atol=1e-5)


def test_subspace_linear_and_endpoints():
    torch.manual_seed(0)
    lin = SubspaceLinear(5, 3, anchors=2)
    x = torch.randn(4, 5)
    set_point(lin, "line", 0.0)
    torch.testing.assert_close(lin(x), F.linear(x, lin.weight, lin.bias))
    set_point(lin, "line", 1.0)
    torch.testing.assert_close(lin(x), F.linear(x, lin.extra_weight[0], lin.extra_bias[0]))
    assert not torch.allclose(lin.weight, lin.extra_weight[0])  # anchors initialised independently


def test_regulariser_equals_cos_squared_by_hand():
    torch.manual_seed(0)
    net = build_model(parse_model("curve"), model="small_cnn", in_shape=(1, 8, 8), num_classes=4, width=0.25)
    convs = [m for m in net.modules() if isinstance(m, (SubspaceConv2d, SubspaceLinear))]
    for i, j in [(0, 1), (0, 2), (1, 2)]:
        wi = torch.cat([[m.weight, *m.extra_weight][i].flatten() for m in convs])
        wj = torch.cat([[m.weight, *m.extra_weight][j].flatten() for m in convs])
        by_hand = (wi @ wj) ** 2 / ((wi @ wi) * (wj @ wj))
        torch.testing.assert_close(cos_squared(net, i, j), by_hand)
    # identical anchors give cos^2 = 1
    with torch.no_grad():
        for m in convs:
            m.extra_weight[0].copy_(m.weight * 3)
    assert cos_squared(net, 0, 1).item() == pytest.approx(1.0, abs=1e-5)


def test_sampled_simplex_points_lie_on_the_simplex():
    g = torch.Generator().manual_seed(0)
    pts = torch.stack([sample_point("simplex", 4, g) for _ in range(500)])
    assert (pts >= 0).all()
    torch.testing.assert_close(pts.sum(1), torch.ones(500))
    assert pts.mean(0).sub(0.25).abs().max() < 0.03  # Dirichlet(1,...,1) has mean 1/n
    alphas = [sample_point("line", 2, g) for _ in range(200)]
    assert 0 <= min(alphas) and max(alphas) <= 1


def test_parse_model_names():
    assert parse_model("simplex4_layerwise").vertices == 4
    assert parse_model("line").anchors == 2 and parse_model("curve").anchors == 3
    with pytest.raises(UserError):
        parse_model("plane")


def test_batchnorm_recompute_changes_stats_and_restores_interior_accuracy():
    task = make_tasks(1, 4, per_class=60, seed=1)[0]
    task.test = task.val
    params = {"model": "small_cnn", "width": 0.5, "beta": 1.0,
              "train": {"epochs": 8, "batch_size": 32, "optimizer": "sgd", "lr": 0.05, "momentum": 0.9,
                        "schedule": "cosine"}}
    net, spec, _ = train_model(task, "line", params, seed=0)
    bns = [m for m in net.modules() if isinstance(m, SubspaceBatchNorm2d)]
    before = [m.running_mean.clone() for m in bns]
    stale = logits_at(net, spec, 0.5, task, bn_recompute=False)
    fresh = logits_at(net, spec, 0.5, task, bn_recompute=True)
    assert any(not torch.allclose(b, m.running_mean) for b, m in zip(before, bns))
    acc = lambda lg: (lg.argmax(1) == task.test.y).float().mean().item()  # noqa: E731
    assert acc(fresh) >= acc(stale)
    assert acc(fresh) > 0.8
    # recompute = the exact mean over the data of a single train-mode pass at that point
    set_point(net, "line", 0.5)
    recompute_batchnorm(net, task.train.x, batch_size=len(task.train.x))
    feats = net.backbone.features[0](task.train.x)
    torch.testing.assert_close(bns[0].running_mean, feats.mean((0, 2, 3)), rtol=1e-4, atol=1e-5)
    curve = alpha_curve(net, spec, task, np.linspace(0, 1, 11))
    assert len(curve) == 11 and list(curve.columns) == ["model", "alpha", "accuracy", "ensemble_accuracy", "ece"]


def test_same_seed_gives_identical_alpha_curve():
    task = make_tasks(1, 3, per_class=20, seed=2)[0]
    task.test = task.val
    params = {"model": "mlp", "width": 0.25, "beta": 1.0, "label_noise": 0.2,
              "train": {"epochs": 2, "batch_size": 16, "optimizer": "sgd", "lr": 0.05}}
    curves = []
    for _ in range(2):
        net, spec, _ = train_model(task, "line_layerwise", params, seed=3)
        curves.append(alpha_curve(net, spec, task, np.linspace(0, 1, 11)))
    pd.testing.assert_frame_equal(curves[0], curves[1])


def test_training_hook_parks_the_model_at_the_midpoint():
    task = make_tasks(1, 3, per_class=10, seed=0)[0]
    params = {"model": "mlp", "width": 0.25, "beta": 1.0, "train": {"epochs": 1, "batch_size": 8, "lr": 0.05}}
    net, _, _ = train_model(task, "simplex3_layerwise", params, seed=0)
    for m in net.modules():
        if hasattr(m, "coeffs"):  # validation and the saved model see the centroid, not the last sampled point
            torch.testing.assert_close(m.coeffs, torch.full((3,), 1 / 3))


def test_standard_network_uses_one_anchor_and_the_same_initialisation():
    torch.manual_seed(0)
    std = build_model(parse_model("standard"), model="small_cnn", in_shape=(1, 8, 8), num_classes=4, width=0.25)
    conv = next(m for m in std.modules() if isinstance(m, SubspaceConv2d))
    assert conv.n_anchors == 1 and len(conv.extra_weight) == 0
    assert abs(conv.weight.std().item() - (2 / conv.weight[0].numel()) ** 0.5) < 0.1  # Kaiming normal, fan_in


def test_snakemake_test_config(test_config_run):
    """The session's shared run of config/test.yaml (every method; read only)."""
    targets = [f"results/subspace/digits/seed0/{name}" for name in ("alpha_curve.csv", "simplex.csv", "summary.json")]
    targets += [f"results/figures/subspace/digits_{fig}.png" for fig in ("alpha", "simplex")]
    workdir = test_config_run("2")
    seed = workdir / "results/subspace/digits/seed0"
    curve = pd.read_csv(seed / "alpha_curve.csv")
    assert list(curve.columns) == ["model", "alpha", "accuracy", "ensemble_accuracy", "ece"]
    assert set(curve["model"]) == {"line", "line_layerwise", "curve", "standard"}
    assert (curve[curve["model"] == "line"]["alpha"].nunique()) >= 11
    simplex = pd.read_csv(seed / "simplex.csv")
    assert simplex["vertices"].tolist() == [3]
    summary = json.loads((seed / "summary.json").read_text())
    assert 0 <= summary["line"]["midpoint"] <= 1
    for fig in ("digits_alpha", "digits_simplex"):
        assert (workdir / f"results/figures/subspace/{fig}.png").stat().st_size > 0
        assert (workdir / f"results/figures/subspace/{fig}.pdf").exists()
    again = snakemake(workdir, *targets, "-n", "--cores", "1", "--configfile", "config/test.yaml")
    assert "Nothing to be done" in again.stdout + again.stderr
