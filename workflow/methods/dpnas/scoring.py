"""Scoring a candidate prior: embed the data once with the random encoder, train a linear classifier on it.

- The encoder is never trained: its parameters are not in the optimiser and the embedding pass runs under
  ``torch.no_grad``. As in the original, the training set is embedded with BatchNorm in **train** mode (batch
  statistics; the running statistics are updated once, by this pass), validation and test in **eval** mode.
- The embeddings are kept in memory and reused by every classifier epoch (``cache=False`` recomputes the
  encoder for every batch instead: only for the benchmark).
- The classifier is a bias-free linear layer trained with Adam through the shared :class:`Trainer`.
- Early stopping: after epoch ``early_stopping_epoch`` (1-based), if the mean of the last 5 validation accuracies
  is below ``early_stopping_threshold``, training stops, ``train_flag`` is False and the test accuracy is 0.
- Reward ``r = mean(val_acc[-5:])`` in [0, 1]; the CSV columns keep accuracies in % as the original.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import torch
from torch import nn

from ...data import Split
from ...errors import UserError
from ...training import Hook, TrainConfig, Trainer, evaluate
from .encoder import DeepPriorNet, build_encoder

LAST = 5  # validation accuracies averaged into the reward


@dataclass
class ScoreConfig:
    """``dpnas.classifier`` in the config."""

    epochs: int = 70
    batch_size: int = 128
    lr: float = 1e-3
    early_stopping_epoch: int = 10
    early_stopping_threshold: float = 0.15
    bn_eps: float = 1e-4

    @classmethod
    def from_dict(cls, d: dict | None) -> "ScoreConfig":
        d = dict(d or {})
        unknown = sorted(set(d) - {f.name for f in dataclasses.fields(cls)})
        if unknown:
            raise UserError(f"unknown dpnas.classifier keys {unknown}")
        return cls(**d)

    def train_config(self, epochs: int | None = None) -> TrainConfig:
        return TrainConfig(epochs=self.epochs if epochs is None else epochs, batch_size=self.batch_size,
                           optimizer="adam", lr=self.lr, weight_decay=0.0, eval_batch_size=1024)


@dataclass
class Score:
    """One row of the replay buffer (minus epsilon and net)."""

    train_flag: bool
    reward: float
    acc_best_val: float
    acc_val_all_epochs: list
    acc_train_all_epochs: list
    acc_test_last: float


@torch.no_grad()
def embed(encoder: nn.Module, x: torch.Tensor, *, train_mode: bool, batch_size: int, device="cpu") -> torch.Tensor:
    """Encoder outputs of ``x`` batch by batch (on ``device``, returned on the CPU), BN in train (batch
    statistics) or eval mode."""
    was = encoder.training
    encoder.train(train_mode)
    bounds = list(range(0, len(x), batch_size)) + [len(x)]
    if len(bounds) > 2 and bounds[-1] - bounds[-2] == 1:  # a last batch of one breaks train-mode BN on 1x1 maps
        del bounds[-2]
    out = [encoder(x[a:b].to(device)).cpu() for a, b in zip(bounds, bounds[1:])]
    encoder.train(was)
    return torch.cat(out)


def embed_task(encoder: nn.Module, task, batch_size: int, device="cpu") -> dict[str, Split]:
    """Train split first (train-mode BN, updating running statistics once), then val and test (eval mode)."""
    out = {"train": Split(embed(encoder, task.train.x, train_mode=True, batch_size=batch_size, device=device),
                          task.train.y)}
    for name in ("val", "test"):
        split = getattr(task, name)
        out[name] = Split(embed(encoder, split.x, train_mode=False, batch_size=batch_size, device=device), split.y)
    return out


class ThresholdStop(Hook):
    """Stop at epoch ``epoch`` (1-based) if the mean of the last 5 validation accuracies is below ``threshold``."""

    def __init__(self, epoch: int, threshold: float):
        self.epoch, self.threshold, self.stopped = epoch, threshold, False

    def on_epoch_end(self, trainer, record):
        if record["epoch"] + 1 == self.epoch:
            recent = [r["val_accuracy"] for r in trainer.history[-(LAST - 1):]] + [record["val_accuracy"]]
            if sum(recent) / len(recent) < self.threshold:
                self.stopped = trainer.stop = True


def _score(history: list[dict], test_accuracy: float, stopped: bool) -> Score:
    val = [100.0 * r["val_accuracy"] for r in history]
    train = [100.0 * r["train_accuracy"] for r in history]
    recent = val[-LAST:]
    return Score(train_flag=not stopped, reward=sum(recent) / len(recent) / 100.0, acc_best_val=max(val),
                 acc_val_all_epochs=val, acc_train_all_epochs=train,
                 acc_test_last=0.0 if stopped else 100.0 * test_accuracy)


def score_prior(net, task, cfg: ScoreConfig, seed: int, *, early_stopping: bool = True, cache: bool = True,
                encoder: nn.Module | None = None, device="cpu") -> Score:
    """Score a random-weight prior: weights from ``seed`` (or the given ``encoder``), linear classifier on top."""
    image = task.train.x.shape[-1]
    torch.manual_seed(seed)
    encoder = encoder or build_encoder(net, task.train.x.shape[1], image, cfg.bn_eps)
    model = DeepPriorNet(encoder, task.num_classes).to(device)
    for p in encoder.parameters():
        p.requires_grad_(False)
    hooks = [ThresholdStop(cfg.early_stopping_epoch, cfg.early_stopping_threshold)] if early_stopping else []
    trainer_kw = dict(params=list(model.head.parameters()), hooks=hooks, seed=seed, desc=None, device=device)
    if cache:
        data = embed_task(encoder, task, cfg.batch_size, device)
        trainer = Trainer(model.head, cfg.train_config(), **trainer_kw)
        history = trainer.fit(data["train"], data["val"])
        test = evaluate(model.head, data["test"], device=device)["accuracy"]
    else:  # the benchmark's slow path: the encoder runs for every batch of every epoch (its BN statistics then
        # follow every training batch, so rewards differ slightly from the cached path)
        def forward(m, x):
            with torch.no_grad():
                z = m.encoder(x)
            return m.head(z)
        trainer = Trainer(model, cfg.train_config(), forward=forward, **trainer_kw)
        history = trainer.fit(task.train, task.val)
        test = evaluate(model, task.test, forward=forward, device=device)["accuracy"]
    return _score(history, test, bool(hooks and hooks[0].stopped))


def score_full_training(net, task, cfg: ScoreConfig, seed: int, epochs: int | None = None,
                        progress_file=None, device="cpu") -> Score:
    """Hypothesis 3: the same architecture with every parameter trained (Adam, BN in train mode)."""
    torch.manual_seed(seed)
    encoder = build_encoder(net, task.train.x.shape[1], task.train.x.shape[-1], cfg.bn_eps)
    model = DeepPriorNet(encoder, task.num_classes).to(device)
    trainer = Trainer(model, cfg.train_config(epochs), seed=seed, desc="full training" if progress_file else None,
                      progress_file=progress_file, device=device)
    history = trainer.fit(task.train, task.val)
    return _score(history, evaluate(model, task.test, device=device)["accuracy"], False)
