"""Hooks: how methods extend the one training loop instead of copying it.

The loop calls, in order, per epoch: ``on_epoch_start``; per batch: ``on_batch_start`` -> forward ->
``extra_loss`` (regularisers: EWC, priors, cos^2) -> backward -> ``after_backward`` (gradient masks) ->
optimiser step -> ``after_step`` (weight masks, projections); then ``before_validation`` (BatchNorm statistics
recomputed), the validation pass, and ``on_epoch_end(record)``, which may set
``trainer.stop``. ``on_fit_end`` runs once. Hooks with state implement ``state_dict``/``load_state_dict`` so a
resumed run continues exactly.
"""

from __future__ import annotations

import copy


class Hook:
    def on_fit_start(self, trainer) -> None: ...
    def on_epoch_start(self, trainer) -> None: ...
    def on_batch_start(self, trainer) -> None: ...
    def extra_loss(self, trainer):
        return None
    def after_backward(self, trainer) -> None: ...
    def after_step(self, trainer) -> None: ...
    def before_validation(self, trainer, train) -> None: ...
    def on_epoch_end(self, trainer, record: dict) -> None: ...
    def on_fit_end(self, trainer) -> None: ...

    def state_dict(self) -> dict:
        return {}

    def load_state_dict(self, state: dict) -> None: ...


class RecomputeBatchNorm(Hook):
    """Re-estimate the BatchNorm running statistics on the training images (no augmentation) after every epoch,
    before validation: weights that change fast (a pruning ramp of a few steps) leave the momentum-0.1 running
    averages behind, and evaluation-mode accuracy then misreports the network (chance level, where train mode
    is at 99%, was seen on a narrow CPG network pruned over one epoch)."""

    def before_validation(self, trainer, train) -> None:
        from .loop import recompute_batchnorm  # the loop imports this module

        recompute_batchnorm(trainer.model, train.x, forward=trainer.forward, batch_size=trainer.cfg.eval_batch_size,
                            device=trainer.device)


class EarlyStopping(Hook):
    """Stop after ``patience`` epochs without a better ``metric``; optionally restore the best weights at the end."""

    def __init__(self, patience: int, metric: str = "val_accuracy", restore_best: bool = True):
        self.patience, self.metric, self.restore_best = patience, metric, restore_best
        self.best, self.best_epoch, self.best_state = float("-inf"), -1, None

    def on_epoch_end(self, trainer, record):
        value = record[self.metric]
        if value > self.best:
            self.best, self.best_epoch = value, record["epoch"]
            if self.restore_best:
                self.best_state = copy.deepcopy(trainer.model.state_dict())
        elif record["epoch"] - self.best_epoch >= self.patience:
            trainer.stop = True

    def on_fit_end(self, trainer):
        if self.restore_best and self.best_state is not None:
            trainer.model.load_state_dict(self.best_state)

    def state_dict(self):
        return {"best": self.best, "best_epoch": self.best_epoch, "best_state": self.best_state}

    def load_state_dict(self, state):
        self.best, self.best_epoch, self.best_state = state["best"], state["best_epoch"], state["best_state"]
