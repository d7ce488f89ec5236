"""Stochastic-gradient Langevin dynamics with a cyclical cosine schedule, and Bayesian model averaging.

With U(theta) = mean-over-batch loss - log p(theta) / N (what the Trainer minimises with a PriorLoss hook), the
posterior is p(theta | D) ~ exp(-N U(theta) / T). One SGLD step with step size eta (the optimiser's lr) is

    theta <- theta - eta * grad U(theta) + sqrt(2 eta T / N) * xi,   xi ~ N(0, I)

(Langevin dynamics on N U / T with time step eta / N). T = 1 samples the posterior, T < 1 a tempered ("cold")
one. The cyclical schedule (Zhang et al., 2020) restarts eta with a cosine in every cycle: the first
``explore_fraction`` of a cycle runs without noise (exploration), the rest with noise; the last
``samples_per_cycle`` epochs of each cycle each contribute one sample. BMA averages the samples' softmax outputs.
"""

from __future__ import annotations

import copy
import math

import torch

from ...training import Hook, optimizers, predict_logits
from ...training.loop import default_forward


class SGLD(optimizers.Optimizer):
    """SGLD as an optimiser of the shared Trainer; ``noise`` per param group is switched by the schedule."""

    def __init__(self, params, lr: float, n_train: int, temperature: float = 1.0):
        super().__init__(params, {"lr": lr, "n_train": n_train, "temperature": temperature, "noise": True})

    @torch.no_grad()
    def step(self, closure=None):
        for group in self.param_groups:
            lr = group["lr"]
            std = math.sqrt(2 * lr * group["temperature"] / group["n_train"]) if group["noise"] else 0.0
            for p in group["params"]:
                if p.grad is None:
                    continue
                p.add_(p.grad, alpha=-lr)
                if std > 0:
                    p.add_(torch.randn_like(p), alpha=std)


class CyclicCosine(Hook):
    """Per-batch lr = lr0 / 2 * (1 + cos(pi * u)), u in [0, 1) the position in the current cycle of
    ``cycle_epochs`` epochs; sets ``noise`` on the optimiser's groups when u >= ``explore_fraction``."""

    def __init__(self, lr0: float, cycle_epochs: int, batches_per_epoch: int, explore_fraction: float = 0.0):
        self.lr0, self.cycle_epochs = float(lr0), max(1, int(cycle_epochs))
        self.batches, self.explore = max(1, int(batches_per_epoch)), float(explore_fraction)
        self.batch = 0

    def on_epoch_start(self, trainer):
        self.batch = 0

    def on_batch_start(self, trainer):
        u = ((trainer.epoch % self.cycle_epochs) + min(self.batch, self.batches - 1) / self.batches) \
            / self.cycle_epochs
        self.batch += 1
        lr = 0.5 * self.lr0 * (1 + math.cos(math.pi * u))
        for opt in trainer.optimizers:
            for group in opt.param_groups:
                group["lr"] = lr
                if "noise" in group:
                    group["noise"] = u >= self.explore


class SampleCollector(Hook):
    """Keep a copy of the model's state at the end of the last ``per_cycle`` epochs of every cycle."""

    def __init__(self, cycle_epochs: int, per_cycle: int):
        self.cycle_epochs, self.per_cycle = max(1, int(cycle_epochs)), int(per_cycle)
        self.samples: list[dict] = []

    def on_epoch_end(self, trainer, record):
        if trainer.epoch % self.cycle_epochs >= self.cycle_epochs - self.per_cycle:
            # on the CPU: a dozen ResNet-50 copies would not fit next to training in GPU memory
            self.samples.append({k: v.detach().cpu().clone() for k, v in trainer.model.state_dict().items()})

    def state_dict(self):
        return {"samples": self.samples}

    def load_state_dict(self, state):
        self.samples = state["samples"]


@torch.no_grad()
def bma_probs(model, samples: list[dict], x: torch.Tensor, *, device="cpu", forward=default_forward,
              batch_size: int = 512) -> torch.Tensor:
    """Bayesian model average: mean over samples of softmax(model_s(x)). Restores the model's state after."""
    keep = copy.deepcopy(model.state_dict())
    total = None
    for state in samples:
        model.load_state_dict(state)
        probs = torch.softmax(predict_logits(model, x, device=device, forward=forward, batch_size=batch_size), 1)
        total = probs if total is None else total + probs
    model.load_state_dict(keep)
    return total / len(samples)
