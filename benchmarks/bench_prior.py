"""Cost of the learned prior's log-density + gradient: LowRankMultivariateNormal (O(P K + K^3)) against a dense
Cholesky-based MultivariateNormal (O(P^3) set-up, O(P^2) per call), and the prior's share of a training step.

Target: the low-rank prior adds at most 25% to a small_cnn training step on digits (P = 23k, K = 20), and its
per-call time grows linearly in P (the dense one is out of reach beyond a few thousand parameters).
Run: .venv/bin/python -m benchmarks.bench_prior
"""

import pandas as pd
import torch

from benchmarks.common import HERE, best_of, machine
from workflow.methods.prior.density import LowRankPrior, PriorLoss
from workflow.models import build_classifier
from workflow.training import TrainConfig, Trainer, seed_everything

from workflow.data import Split

K = 20


def low_rank_call(p: int):
    g = torch.Generator().manual_seed(0)
    prior = LowRankPrior(torch.zeros(p), torch.rand(p, generator=g) + 0.1, torch.randn(p, K, generator=g) * 0.1,
                         scale=1.0, eps=0.1)
    theta = torch.randn(p, requires_grad=True)
    return lambda: (-prior.log_prob(theta)).backward()


def dense_call(p: int):
    g = torch.Generator().manual_seed(0)
    factor = torch.randn(p, K, generator=g) * 0.1
    sigma = torch.diag(torch.rand(p, generator=g) + 0.2) + factor @ factor.T
    theta = torch.randn(p, requires_grad=True)

    def call():  # the set-up (Cholesky) is part of the cost: a prior is built per run
        dist = torch.distributions.MultivariateNormal(torch.zeros(p), covariance_matrix=sigma)
        (-dist.log_prob(theta)).backward()
    return call


def training_step_seconds(with_prior: bool) -> float:
    seed_everything(0)
    net = build_classifier("small_cnn", (1, 8, 8), 5)
    data = Split(torch.randn(256, 1, 8, 8), torch.randint(0, 5, (256,)))
    hooks = []
    if with_prior:
        p = sum(x.numel() for x in net.backbone.parameters())
        prior = LowRankPrior(torch.zeros(p), torch.rand(p) + 0.1, torch.randn(p, K) * 0.01, scale=1.0, eps=0.1)
        hooks = [PriorLoss(prior, net.backbone.parameters(), 256)]
    trainer = Trainer(net, TrainConfig(epochs=10, batch_size=32), hooks=hooks, desc=None)
    return best_of(lambda: trainer.fit(data) if not setattr(trainer, "epoch", 0) else None) / (10 * 8)


def main():
    rows = []
    for p in (1_000, 4_000, 23_000, 100_000):
        rows.append({"case": f"low-rank P={p}", "ms_per_call": 1e3 * best_of(low_rank_call(p), 5)})
        if p <= 4_000:
            rows.append({"case": f"dense P={p}", "ms_per_call": 1e3 * best_of(dense_call(p), 2)})
    plain, with_prior = training_step_seconds(False), training_step_seconds(True)
    rows.append({"case": "step small_cnn", "ms_per_call": 1e3 * plain})
    rows.append({"case": "step + prior", "ms_per_call": 1e3 * with_prior})
    frame = pd.DataFrame(rows)
    print(frame.to_string(index=False))
    print(f"prior overhead per training step: {with_prior / plain - 1:+.1%} (target <= +25%)")
    save(frame)


def save(frame: pd.DataFrame) -> None:
    """benchmarks/prior_density.csv and a horizontal bar chart on a log axis (the cases span 4 decades)."""
    from workflow.plots.common import new_figure, save_figure

    frame = frame.assign(machine=machine())
    frame.to_csv(HERE / "prior_density.csv", index=False)
    fig, ax = new_figure(6, 3.4)
    ax.barh(frame["case"][::-1], frame["ms_per_call"][::-1])
    ax.set_xscale("log")
    for y, v in enumerate(frame["ms_per_call"][::-1]):
        ax.text(v, y, f" {v:.3g}", va="center", fontsize=7)
    ax.set_xlabel("ms per call (log scale)")
    ax.set_title(f"prior log-density + gradient, K = {K}", fontsize=9)
    save_figure(fig, HERE / "prior_density.png")


if __name__ == "__main__":
    main()
