"""Pre-Train Your Loss (issue 5): the prior's density and gradient, its limits in lambda, the file manifest, SWAG
on a quadratic with known moments, SGLD's noise, and the rules end to end on config/test.yaml."""

from __future__ import annotations

import copy
import math

import pandas as pd
import pytest
import torch
from torch import nn

from tests.conftest import make_tasks, snakemake
from workflow.data import Split
from workflow.errors import UserError
from workflow.methods.prior import files, stages, transfer
from workflow.methods.prior.density import IsotropicPrior, LowRankPrior, PriorLoss, build_prior, flat_params
from workflow.methods.prior.sgld import SGLD
from workflow.methods.prior.swag import SwagCollector
from workflow.training import TrainConfig, Trainer


def random_low_rank(p=50, k=5, seed=0):
    g = torch.Generator().manual_seed(seed)
    mean = torch.randn(p, generator=g, dtype=torch.float64)
    var = torch.rand(p, generator=g, dtype=torch.float64) + 0.1
    factor = torch.randn(p, k, generator=g, dtype=torch.float64) * 0.5
    return mean, var, factor


@pytest.mark.parametrize("normalise", [False, True])
def test_low_rank_log_density_equals_dense_mvn(normalise):
    mean, var, factor = random_low_rank()
    scale, eps = 2.5, 0.1
    prior = LowRankPrior(mean, var, factor, scale, eps, normalise=normalise)
    norm = float((var + factor.pow(2).sum(1)).mean()) if normalise else 1.0
    sigma = scale * (torch.diag(var) + factor @ factor.T + eps * norm * torch.eye(len(mean))) / norm
    dense = torch.distributions.MultivariateNormal(mean, covariance_matrix=sigma)
    theta = torch.randn(5, len(mean), dtype=torch.float64)
    torch.testing.assert_close(prior.log_prob(theta), dense.log_prob(theta))
    torch.testing.assert_close(prior.covariance(), sigma)


def test_isotropic_log_density_equals_dense_mvn():
    mean, _, _ = random_low_rank(p=20)
    prior = IsotropicPrior(mean, 0.7)
    dense = torch.distributions.MultivariateNormal(mean, covariance_matrix=0.7 * torch.eye(20, dtype=torch.float64))
    theta = torch.randn(20, dtype=torch.float64)
    torch.testing.assert_close(prior.log_prob(theta), dense.log_prob(theta))


def test_prior_loss_gradient_is_precision_times_offset_over_n():
    """d/dtheta of -log p(theta) / N = Sigma^-1 (theta - mu) / N, through the Trainer hook on real parameters."""
    mean, var, factor = random_low_rank(p=2 * 3 + 3, k=4)
    mean, var, factor = mean.float(), var.float(), factor.float()
    layer = nn.Linear(2, 3)  # 9 parameters: weight (3x2) then bias (3), flattened in that order
    prior = LowRankPrior(mean, var, factor, scale=0.5, eps=0.2)
    n_train = 37
    loss = PriorLoss(prior, layer.parameters(), n_train).extra_loss(None)
    loss.backward()
    grad = flat_params([p.grad for p in layer.parameters()]).double()
    theta = flat_params(layer.parameters()).detach().double()
    sigma = prior.covariance().double()
    expected = torch.linalg.solve(sigma, theta - mean.double()) / n_train
    torch.testing.assert_close(grad, expected, rtol=1e-4, atol=1e-6)


# --- a fitted prior on a tiny synthetic source task, shared by the limit and manifest tests ---------------------

PARAMS = {
    "model": "mlp", "width": 0.5, "source_task": 0, "target_task": 1,
    "pretrain": {"init": "random", "train": {"epochs": 3, "batch_size": 16, "lr": 0.05, "momentum": 0.9}},
    "swag": {"rank": 5, "var_clamp": 1e-6, "schedule": "constant",
             "train": {"epochs": 6, "batch_size": 16, "lr": 0.05, "momentum": 0.9}},
    "transfer": {"n_per_class": [5], "arms": ["sgd", "isotropic", "shifted", "learned"], "inference": ["map"],
                 "prior_scales": [1.0], "eps": 0.1, "steps": 40,
                 "train": {"batch_size": 16, "lr": 0.005, "momentum": 0.0, "schedule": "constant"},
                 "sgld": {"lr": 0.1, "temperature": 0.01, "cycles": 2, "samples_per_cycle": 2,
                          "explore_fraction": 0.25, "steps": 20}},
}


@pytest.fixture(scope="module")
def fitted(tmp_path_factory):
    source, target = make_tasks(n_tasks=2, classes_per_task=2, per_class=30)
    net, _, _ = stages.pretrain(source, PARAMS, seed=0, device="cpu")
    state = copy.deepcopy(net.backbone.state_dict())
    stats, _ = stages.fit_prior(net, source, PARAMS["swag"], seed=0, device="cpu")
    prefix = tmp_path_factory.mktemp("prior") / "prior"
    files.save_prior(prefix, backbone=net.backbone, model_state=state,
                     network=stages.network_spec(PARAMS, source.train.x.shape[1:]), stats=stats)
    return prefix, target, stats


def backbone_distance(net, prior):
    """Mahalanobis distance of the backbone from the prior mean in the prior's own geometry (lambda = 1):
    sqrt(2 (log p(mu) - log p(theta))); Euclidean for the isotropic priors."""
    theta = flat_params(net.backbone.parameters()).detach().double()
    return math.sqrt(2 * float(prior.log_prob(prior.mean.double()) - prior.log_prob(theta)))


def test_prior_files_are_named_as_the_original(fitted):
    prefix, _, stats = fitted
    for part in ("model", "mean", "variance", "covmat"):
        assert files.prior_paths(prefix)[part].name == f"prior_{part}.pt"
    assert stats["factor"].shape == (len(stats["mean"]), 5)
    assert (stats["variance"] >= 1e-6).all()


@pytest.mark.parametrize("arm", ["isotropic", "shifted", "learned"])
def test_infinite_scale_is_plain_sgd(fitted, arm):
    prefix, target, _ = fitted
    runner = transfer.Runner(prefix, target, PARAMS, seed=0, device="cpu")
    train = transfer.subsample(target.train, 5, seed=0)
    plain = runner.map_run(train, "sgd", None, run_seed=3)["net"]
    wide = runner.map_run(train, arm, 1e12, run_seed=3)["net"]
    for a, b in zip(plain.parameters(), wide.parameters()):
        torch.testing.assert_close(a, b, rtol=0, atol=1e-5)


@pytest.mark.parametrize("arm", ["shifted", "learned"])
def test_vanishing_scale_pins_backbone_to_mean(fitted, arm):
    prefix, target, stats = fitted
    params = copy.deepcopy(PARAMS)
    # plain SGD on a stiff prior is stable while lr x (largest prior precision 1 / (lambda eps) / N) < 2
    params["transfer"].update(steps=300, eps=1.0 if arm == "shifted" else 10.0)
    runner = transfer.Runner(prefix, target, params, seed=0, device="cpu")
    train = transfer.subsample(target.train, 5, seed=0)
    geometry = build_prior(arm, {k: v.double() for k, v in stats.items() if k != "snapshots"}, 1.0,
                           params["transfer"]["eps"])
    d_sgd = backbone_distance(runner.map_run(train, "sgd", None, run_seed=3)["net"], geometry)
    dists = [backbone_distance(runner.map_run(train, arm, s, run_seed=3)["net"], geometry)
             for s in (1.0, 1e-1, 1e-2, 1e-3 if arm == "shifted" else 1e-4)]
    assert dists[0] > dists[1] > dists[2] > dists[3]  # monotone in lambda
    assert dists[3] < 0.05 * d_sgd              # lambda -> 0: theta goes to mu


@pytest.mark.parametrize("arm", ["isotropic", "shifted", "learned"])
def test_the_prior_covers_the_backbone_not_the_new_head(fitted, arm):
    """The head is new and task-specific: the prior term must give it no gradient (the paper's code: the linear
    head has no prior), and the backbone's must be the prior's own."""
    prefix, target, _ = fitted
    runner = transfer.Runner(prefix, target, PARAMS, seed=0, device="cpu")
    net = runner.network(run_seed=3)
    with torch.no_grad():  # move off the mean so every prior has a non-zero gradient
        for q in net.backbone.parameters():
            q.add_(0.1)
    (hook,) = runner.hooks(net, arm, 1.0, n_train=10)
    hook.extra_loss(None).backward()
    assert all(q.grad is None for q in net.head.parameters())
    assert all(q.grad is not None and q.grad.abs().sum() > 0 for q in net.backbone.parameters())
    n_backbone = sum(q.numel() for q in net.backbone.parameters())
    assert runner.stats["mean"].numel() == n_backbone


def test_manifest_rejects_a_different_model(fitted):
    prefix, target, _ = fitted
    wider = copy.deepcopy(PARAMS)
    wider["width"] = 1.0
    with pytest.raises(UserError, match="does not fit this model"):
        transfer.Runner(prefix, target, wider, seed=0, device="cpu")
    other = copy.deepcopy(PARAMS)
    other["model"] = "small_cnn"
    with pytest.raises(UserError, match="parameter 0 is"):
        transfer.Runner(prefix, target, other, seed=0, device="cpu")


def test_manifest_rejects_files_of_another_fit(fitted, tmp_path):
    prefix, target, stats = fitted
    import shutil
    for p in files.prior_paths(prefix).values():
        shutil.copy(p, tmp_path / p.name)
        if p.suffix == ".pt":
            shutil.copy(p.with_name(p.name + ".sha256"), tmp_path / (p.name + ".sha256"))
    from workflow.io import torch_save
    torch_save(tmp_path / "prior_covmat.pt", stats["factor"][:, :2].contiguous())
    with pytest.raises(UserError, match="different fits"):
        transfer.Runner(tmp_path / "prior", target, PARAMS, seed=0, device="cpu")


def test_a_killed_transfer_job_resumes_from_its_finished_runs(fitted, tmp_path, monkeypatch):
    prefix, target, _ = fitted
    params = copy.deepcopy(PARAMS)
    params["transfer"].update(arms=["sgd", "learned"], prior_scales=[1.0, 100.0], inference=["map", "sgld"],
                              steps=10)
    cache = tmp_path / ".runs.partial.jsonl"
    first = transfer.run_transfer(prefix, target, params, seed=0, n_per_class=5, device="cpu", cache_path=cache)
    assert len(cache.read_text().splitlines()) == len(first) == 1 + 2 + 2

    def fail(*args, **kwargs):
        raise AssertionError("a finished run was redone")
    monkeypatch.setattr(transfer.Runner, "map_run", fail)
    monkeypatch.setattr(transfer.Runner, "sgld_run", fail)
    again = transfer.run_transfer(prefix, target, params, seed=0, n_per_class=5, device="cpu", cache_path=cache)
    pd.testing.assert_frame_equal(first, again)
    table = transfer.transfer_table(first)
    assert list(table.columns) == transfer.TRANSFER_COLUMNS and len(table) == 4


class Quadratic(nn.Module):
    """Per-example loss 0.5 sum_i a_i (theta_i - m_i)^2 + s xi.theta with fresh xi ~ N(0, I) per example:
    stochastic gradients of a quadratic with independent gradient noise of variance s^2 / B (the batch is unused
    except for its size)."""

    def __init__(self, a, m, s):
        super().__init__()
        self.a, self.m, self.s = a, m, s
        self.theta = nn.Parameter(m.clone())

    def forward(self, x):
        xi = torch.randn(len(x), len(self.theta))
        return (0.5 * (self.a * (self.theta - self.m) ** 2).sum() + self.s * xi @ self.theta)[:, None]


def test_swag_on_a_quadratic_recovers_mean_and_variance():
    """Constant-lr SGD on a quadratic is an AR(1) process: theta_i is stationary around m_i with variance
    eta s^2 / (B a_i (2 - eta a_i)). One SWAG snapshot per epoch (many correlation times apart) recovers both."""
    torch.manual_seed(0)
    a, m, s = torch.tensor([1.0, 2.0, 4.0]), torch.tensor([1.0, -2.0, 0.5]), 1.0
    lr, batch = 0.1, 4
    model = Quadratic(a, m, s)
    data = Split(torch.zeros(4 * 50, 3), torch.zeros(200, dtype=torch.long))  # 50 steps per epoch
    swag = SwagCollector(model.parameters(), rank=20)
    cfg = TrainConfig(epochs=800, batch_size=batch, lr=lr, momentum=0.0)
    Trainer(model, cfg, hooks=[swag], loss_fn=lambda out, y: out.mean(), desc=None).fit(data)
    stats = swag.moments.export(1e-8)
    expected_var = lr * s ** 2 / (batch * a * (2 - lr * a))
    stderr = (expected_var / 800).sqrt()
    assert (stats["mean"] - m).abs().max() < 4 * stderr.max()
    torch.testing.assert_close(stats["variance"], expected_var, rtol=0.15, atol=0)
    assert stats["factor"].shape == (3, 20)


def test_sgld_noise_has_the_langevin_scale():
    """With a zero gradient one SGLD step moves theta by N(0, 2 eta T / N)."""
    torch.manual_seed(0)
    p = nn.Parameter(torch.zeros(200_000))
    p.grad = torch.zeros_like(p)
    opt = SGLD([p], lr=0.1, n_train=50, temperature=0.5)
    opt.step()
    assert abs(p.detach().std().item() - math.sqrt(2 * 0.1 * 0.5 / 50)) < 1e-3
    opt.param_groups[0]["noise"] = False
    before = p.detach().clone()
    p.grad = torch.ones_like(p)
    opt.step()
    torch.testing.assert_close(p.detach(), before - 0.1)


PRIOR_TARGETS = ["results/prior/digits_prior_target_tiny/seed0/transfer.csv",
                 "results/prior/digits_prior_target_tiny/seed0/summary.json",
                 "results/figures/prior/digits_prior_target_tiny_accuracy_vs_n.png"]


def test_rules_run_on_the_test_config(test_config_run):
    workdir = test_config_run("2")  # the session's shared run of config/test.yaml (every method; read only)
    # targets before --configfile, which takes several values
    dry = snakemake(workdir, *PRIOR_TARGETS, "-n", "--cores", "1", "--configfile", "config/test.yaml")
    assert "Nothing to be done" in dry.stdout + dry.stderr
    out = workdir / "results/prior/digits_prior_target_tiny/seed0"
    table = pd.read_csv(out / "transfer.csv")
    assert list(table.columns) == ["arm", "inference", "n_per_class", "accuracy", "nll", "ece"]
    assert set(table["arm"]) == {"sgd", "isotropic", "shifted", "learned"}
    assert set(table["inference"]) == {"map", "sgld"} and set(table["n_per_class"]) == {3, 10}
    assert len(table) == 4 * 2 * 2 and table["accuracy"].between(0, 1).all()
    assert (out / "summary.json").exists()
    assert (workdir / "results/figures/prior/digits_prior_target_tiny_accuracy_vs_n.png").exists()
    source = workdir / "results/prior/digits_prior_source_tiny/source"
    for part in ("model", "mean", "variance", "covmat"):
        assert (source / f"prior_{part}.pt").exists()
    assert (source / "prior_manifest.json").exists()


def test_an_unknown_prior_suite_stops_before_any_job(workdir):
    proc = snakemake(workdir, "-n", "--cores", "1", "--config", "methods=[prior]", "prior={target_suite: nope}",
                     check=False)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1
    assert "'prior.target_suite': 'nope' is not a key of 'suites'" in out
    assert "Traceback" not in out
