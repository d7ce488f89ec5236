"""The two source-side stages: ``pretrain`` a network on the source task, then ``fit_prior`` with SWAG."""

from __future__ import annotations

import torch

from ...training import TrainConfig, Trainer, evaluate, seed_everything
from .networks import build_network
from .sgld import CyclicCosine
from .swag import SwagCollector


def network_spec(params: dict, in_shape) -> dict:
    return {"model": params["model"], "width": params.get("width", 1.0), "in_shape": list(in_shape)}


def pretrain(task, params: dict, *, seed: int, device, checkpoint_path=None, progress_file=None,
             threads: int | None = 1):
    """Train backbone + source head on the source task (from torchvision weights if ``pretrain.init``);
    ``threads``: torch's thread count (the job's ``compute.threads``; None keeps the caller's setting)."""
    seed_everything(seed, threads=threads)
    spec = network_spec(params, task.train.x.shape[1:])
    net = build_network(spec, spec["in_shape"], task.num_classes,
                        pretrained_init=params["pretrain"].get("init", "random") == "torchvision").to(device)
    cfg = TrainConfig.from_dict(params["pretrain"]["train"])
    history = Trainer(net, cfg, device=device, seed=seed, checkpoint_path=checkpoint_path, desc="prior pretrain",
                      progress_file=progress_file).fit(task.train, task.val)
    result = {"network": spec, "val": evaluate(net, task.val, device=device),
              "test": evaluate(net, task.test, device=device), "epochs_run": len(history)}
    return net, history, result


def fit_prior(net, task, swag: dict, *, seed: int, device, checkpoint_path=None, progress_file=None,
              threads: int | None = 1):
    """Continue training on the source task for ``swag.train.epochs`` epochs, one SWAG snapshot per epoch of the
    backbone's parameters; constant lr, or ``schedule: cyclic`` (a cosine from lr to 0 within every epoch, the
    snapshot at its low point). Returns the SWAG stats (mean, variance, factor) and the training history.
    ``threads``: as :func:`pretrain`."""
    seed_everything(seed + 1, threads=threads)
    cfg = TrainConfig.from_dict({**swag["train"], "schedule": "constant"})
    collector = SwagCollector(net.backbone.parameters(), rank=swag["rank"])
    hooks = [collector]
    if swag.get("schedule", "constant") == "cyclic":
        batches = -(-len(task.train) // cfg.batch_size)
        hooks.insert(0, CyclicCosine(cfg.lr, cycle_epochs=1, batches_per_epoch=batches))
    history = Trainer(net, cfg, hooks=hooks, device=device, seed=seed + 1, checkpoint_path=checkpoint_path,
                      desc="prior fit (SWAG)", progress_file=progress_file).fit(task.train, task.val)
    stats = collector.moments.export(swag.get("var_clamp", 1e-6))
    return stats, history


def swag_summary(stats: dict) -> dict:
    """Scalars describing the fitted covariance (for the manifest and the log)."""
    factor = stats["factor"]
    low_rank_var = factor.pow(2).sum(1) if factor.numel() else torch.zeros_like(stats["variance"])
    return {"snapshots": int(stats["snapshots"]), "size": int(stats["mean"].numel()),
            "rank": int(factor.shape[1]), "mean_variance": float(stats["variance"].mean()),
            "mean_low_rank_variance": float(low_rank_var.mean()),
            "mean_abs_weight": float(stats["mean"].abs().mean())}
