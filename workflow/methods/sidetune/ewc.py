"""Elastic weight consolidation (Kirkpatrick et al. 2017) as a Trainer hook, configured as in the side-tuning
paper's iCIFAR runs.

After each finished task k the hook records the shared parameters theta*_k and a batch-level empirical Fisher

    F_k = 1/B * sum_b (dL_b/dtheta)^2        (B batches of task k's training data, L_b the batch's mean CE)

and keeps their running means over the finished tasks (the paper's ``avg_tasks``). While training later tasks
the loss becomes

    L = CE + c * sum_i Fbar_i (theta_i - thetabar*_i)^2

with c = ``coef``. The penalty is zero at the anchor and grows quadratically with the distance from it.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ...training import Hook


class EWCPenalty(Hook):
    def __init__(self, params: dict[str, nn.Parameter], coef: float):
        self.params, self.coef = dict(params), float(coef)
        self.fisher: dict[str, torch.Tensor] = {}
        self.anchor: dict[str, torch.Tensor] = {}
        self.tasks_seen = 0

    def penalty(self) -> torch.Tensor:
        """c * sum_i F_i (theta_i - theta*_i)^2 (a zero tensor before the first consolidation)."""
        terms = [(self.fisher[name] * (p - self.anchor[name]) ** 2).sum()
                 for name, p in self.params.items() if name in self.fisher]
        return self.coef * torch.stack(terms).sum() if terms else torch.zeros(())

    def extra_loss(self, trainer):
        return self.penalty() if self.tasks_seen else None

    @torch.enable_grad()
    def task_fisher(self, model: nn.Module, split, forward, *, batch_size: int, device="cpu") -> dict:
        """Empirical Fisher of one task, in eval mode (BatchNorm statistics are not touched)."""
        was_training = model.training
        model.eval()
        sums = {name: torch.zeros_like(p) for name, p in self.params.items()}
        batches = 0
        for start in range(0, len(split), batch_size):
            x, y = split.x[start:start + batch_size].to(device), split.y[start:start + batch_size].to(device)
            grads = torch.autograd.grad(F.cross_entropy(forward(model, x), y), list(self.params.values()),
                                        allow_unused=True)
            for (name, _), g in zip(self.params.items(), grads):
                if g is not None:
                    sums[name] += g.detach() ** 2
            batches += 1
        model.train(was_training)
        return {name: s / max(batches, 1) for name, s in sums.items()}

    def consolidate(self, model: nn.Module, split, forward, *, batch_size: int, device="cpu") -> None:
        """Fold the finished task's Fisher and parameters into the running means."""
        fisher = self.task_fisher(model, split, forward, batch_size=batch_size, device=device)
        k = self.tasks_seen
        for name, p in self.params.items():
            theta = p.detach().clone()
            if k == 0:
                self.fisher[name], self.anchor[name] = fisher[name], theta
            else:
                self.fisher[name] = (k * self.fisher[name] + fisher[name]) / (k + 1)
                self.anchor[name] = (k * self.anchor[name] + theta) / (k + 1)
        self.tasks_seen = k + 1

    def state_dict(self):
        return {"fisher": self.fisher, "anchor": self.anchor, "tasks_seen": self.tasks_seen, "coef": self.coef}

    def load_state_dict(self, state):
        self.fisher, self.anchor = state["fisher"], state["anchor"]
        self.tasks_seen, self.coef = state["tasks_seen"], state["coef"]
