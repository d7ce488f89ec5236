"""The side network: the registry's 4-layer FCN with GroupNorm (as the paper's FCN4), distilled from the base.

Distillation (our choice; the paper ships a distilled FCN4 without its script): minimise
    L = 1/(N D) * sum_n || S(x_n) - B(x_n) ||^2
on the source pool, with the base's features B(x_n) computed once. Every task's side starts from this S.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from ...data.suites import Split
from ...models.fcn import FCN4
from ...models.registry import Layers
from ...training import TrainConfig, Trainer, predict_logits, seed_everything
from .base import base_features


def build_side(in_shape, channels, out_features: int, norm_groups: int = 2) -> FCN4:
    """FCN4 with conv widths ``channels`` (3 values) and ``out_features`` output channels (the base's feature
    size, so side and base outputs can be added); GroupNorm with ``norm_groups`` groups (or the largest divisor
    of the channel count below it)."""
    layers = Layers(norm=lambda c: nn.GroupNorm(math.gcd(norm_groups, c), c))
    return FCN4(tuple(in_shape), 1.0, layers, channels=tuple(int(c) for c in channels) + (int(out_features),))


def distil_side(side: nn.Module, base: nn.Module, source_task, *, train: dict, seed: int, device="cpu",
                progress_file=None) -> tuple[nn.Module, list[dict], dict]:
    """Train ``side`` to regress ``base``'s features on the source pool (train split); returns the side, the
    history and the validation MSE / cosine similarity."""
    seed_everything(seed, threads=None)
    cfg = TrainConfig.from_dict(train)
    targets = base_features(base, source_task.train, device=device)
    # Labels are example indices, so the loss can look up each example's cached target features.
    train_split = Split(source_task.train.x, torch.arange(len(source_task.train)))
    target_table = targets.to(device)

    def regression_loss(out, idx):
        return F.mse_loss(out, target_table[idx])

    trainer = Trainer(side.to(device), cfg, device=device, loss_fn=regression_loss, seed=seed,
                      desc="distil side", progress_file=progress_file)
    history = trainer.fit(train_split)
    val_target = base_features(base, source_task.val, device=device)
    val_out = predict_logits(side, source_task.val.x, device=device)
    quality = {"val_mse": float(F.mse_loss(val_out, val_target)),
               "val_target_variance": float(val_target.var(0).mean()),
               "val_cosine": float(F.cosine_similarity(val_out, val_target, dim=1).mean())}
    return side, history, quality
