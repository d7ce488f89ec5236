"""Hooks that plug CPG's rules into the shared Trainer: gradient masks, weight re-masking, the picking-mask lr
schedule, gradual pruning, and retraining with patience against the chosen checkpoint."""

from __future__ import annotations

import copy

import torch

from ...training import Hook
from .layers import sharable_layers
from .pruning import cubic_sparsity, prune_layer


class OwnershipGradientMask(Hook):
    """Old weights never change; only task k's weights (and the picking mask over old weights) learn.

    After backward: g_W <- (g_W + wd * W) * 1[owner == k]   (weight decay by hand, only on trainable weights)
                    g_p <- g_p * 1[1 <= owner < k]           (picking mask: old-task entries only)
    After the step: W <- W * 1[owner != 0]                     (pruned entries stay exactly zero)

    With the optimisers' built-in weight decay at 0, an old weight's gradient and momentum stay exactly 0, so SGD
    leaves it bit-identical.
    """

    def __init__(self, net, weight_decay: float = 0.0):
        self.layers = [m for _, m in sharable_layers(net.backbone)]
        self.weight_decay = weight_decay

    def after_backward(self, trainer):
        for m in self.layers:
            if m.weight.grad is not None:
                if self.weight_decay:
                    m.weight.grad.add_(m.weight.detach(), alpha=self.weight_decay)
                m.weight.grad.mul_(m.own)
            if m.picking is not None and m.picking.grad is not None:
                m.picking.grad.mul_(m.old)

    def after_step(self, trainer):
        with torch.no_grad():
            for m in self.layers:
                m.weight.masked_fill_(m.owner == 0, 0.0)


class MaskLrSchedule(Hook):
    """Picking-mask learning rate per epoch: base * prod of the factors of the milestones passed, e.g.
    [[50, 0.2], [70, 0.0]] (x0.2 from epoch 50, x0 from 70). ``frozen`` keeps the base lr (a task that owns no
    weights keeps learning its mask)."""

    def __init__(self, optimizer, lr: float, milestones, frozen: bool = False):
        self.optimizer, self.lr, self.milestones, self.frozen = optimizer, lr, milestones, frozen

    def factor(self, epoch: int) -> float:
        if self.frozen:
            return 1.0
        f = 1.0
        for start, mult in self.milestones:
            if epoch >= start:
                f = mult
        return f

    def on_epoch_start(self, trainer):
        for group in self.optimizer.param_groups:
            group["lr"] = self.lr * self.factor(trainer.epoch)


class GradualPruner(Hook):
    """Prunes task ``task``'s weights from ``s_initial`` to ``s_final`` over the first ``ramp_steps`` iterations,
    updating the masks every ``frequency`` iterations (and at the end of the ramp)."""

    def __init__(self, net, task: int, s_initial: float, s_final: float, ramp_steps: int, frequency: int):
        self.layers = [m for _, m in sharable_layers(net.backbone)]
        self.task, self.s_initial, self.s_final = task, s_initial, s_final
        self.ramp_steps, self.frequency = ramp_steps, max(1, frequency)
        self.step = 0

    def update(self, sparsity: float) -> None:
        for m in self.layers:
            prune_layer(m.owner, m.weight, self.task, sparsity)
            m.refresh_masks()
            with torch.no_grad():
                m.weight.masked_fill_(m.owner == 0, 0.0)

    def on_batch_start(self, trainer):
        t = self.step
        if t <= self.ramp_steps and (t % self.frequency == 0 or t == self.ramp_steps):
            self.update(cubic_sparsity(t, self.s_initial, self.s_final, 0, self.ramp_steps))
        self.step += 1

    def on_fit_end(self, trainer):
        if self.step <= self.ramp_steps:  # a run shorter than its ramp still ends at its target
            self.update(self.s_final)

    def state_dict(self):
        return {"step": self.step}

    def load_state_dict(self, state):
        self.step = state["step"]


class PatienceFromBaseline(Hook):
    """Retrain with patience: keep a snapshot only on strict improvement of validation accuracy over the best so
    far, starting from ``baseline`` (the chosen checkpoint's accuracy); stop after ``patience`` epochs without one.
    At the end the best snapshot is restored, or the model as it was before retraining if no epoch improved."""

    def __init__(self, baseline: float, patience: int, snapshot, restore):
        self.best, self.patience = baseline, patience
        self.snapshot, self.restore = snapshot, restore
        self.best_state = None
        self.best_epoch = -1
        self.initial_state = None
        self.bad_epochs = 0

    def on_fit_start(self, trainer):
        if self.initial_state is None:
            self.initial_state = copy.deepcopy(self.snapshot())

    def on_epoch_end(self, trainer, record):
        if record["val_accuracy"] > self.best:
            self.best, self.best_epoch, self.bad_epochs = record["val_accuracy"], record["epoch"], 0
            self.best_state = copy.deepcopy(self.snapshot())
        else:
            self.bad_epochs += 1
            if self.bad_epochs >= self.patience:
                trainer.stop = True

    def on_fit_end(self, trainer):
        self.restore(self.best_state if self.best_state is not None else self.initial_state)

    def state_dict(self):
        return {k: getattr(self, k) for k in ("best", "best_epoch", "best_state", "initial_state", "bad_epochs")}

    def load_state_dict(self, state):
        for k, v in state.items():
            setattr(self, k, v)
