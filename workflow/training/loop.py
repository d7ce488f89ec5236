"""The shared train / evaluate loop. Data live in memory as tensors (all suites here fit), so batching is an
index permutation: no DataLoader overhead, and the epoch order is a pure function of (seed, epoch), which makes
resuming from a checkpoint exact."""

from __future__ import annotations

import dataclasses
import logging
import math
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Sequence

import torch
import torch.nn.functional as F
from torch import nn
from tqdm import tqdm

from .. import metrics
from ..errors import UserError
from .checkpoint import load_checkpoint, save_checkpoint
from .hooks import Hook
from .optimizers import SGD, Adam, AdamW  # torch's, without the torch.compile guards

log = logging.getLogger(__name__)


@dataclass
class TrainConfig:
    """One training schedule (a config section such as ``baseline.train``)."""

    epochs: int = 1
    batch_size: int = 64
    optimizer: str = "sgd"          # sgd | adam | adamw
    lr: float = 0.05
    momentum: float = 0.9
    nesterov: bool = False
    weight_decay: float = 0.0
    schedule: str = "constant"      # constant | step | cosine
    lr_milestones: list = field(default_factory=list)  # epochs at which step decays by lr_gamma
    lr_gamma: float = 0.1
    warmup_epochs: int = 0
    grad_clip: float | None = None
    augment: str = "none"           # none | crop_flip (32x32 images: pad-4 random crop + horizontal flip)
    eval_batch_size: int = 512

    @classmethod
    def from_dict(cls, d: dict | None) -> "TrainConfig":
        d = dict(d or {})
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(d) - known)
        if unknown:
            raise UserError(f"unknown training keys {unknown}; allowed: {sorted(known)}")
        return cls(**d)


def build_optimizer(params, cfg: TrainConfig) -> torch.optim.Optimizer:
    """torch's optimizer of ``cfg`` without its torch.compile guards (workflow.training.optimizers)."""
    if cfg.optimizer == "sgd":
        return SGD(params, lr=cfg.lr, momentum=cfg.momentum, nesterov=cfg.nesterov and cfg.momentum > 0,
                   weight_decay=cfg.weight_decay)
    if cfg.optimizer == "adam":
        return Adam(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
    if cfg.optimizer == "adamw":
        return AdamW(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
    raise UserError(f"unknown optimizer '{cfg.optimizer}'; allowed: sgd, adam, adamw")


def lr_factor(cfg: TrainConfig, epoch: int) -> float:
    """Multiplier of the base lr during ``epoch`` (0-based): linear warm-up, then constant / step / cosine."""
    if epoch < cfg.warmup_epochs:
        return (epoch + 1) / (cfg.warmup_epochs + 1)
    if cfg.schedule == "step":
        return cfg.lr_gamma ** sum(epoch >= m for m in cfg.lr_milestones)
    if cfg.schedule == "cosine":
        span = max(1, cfg.epochs - cfg.warmup_epochs)
        return 0.5 * (1 + math.cos(math.pi * (epoch - cfg.warmup_epochs) / span))
    return 1.0


def build_scheduler(optimizer, cfg: TrainConfig):
    return torch.optim.lr_scheduler.LambdaLR(optimizer, lambda e: lr_factor(cfg, e))


def crop_flip(x: torch.Tensor, pad: int = 4) -> torch.Tensor:
    """Random crop after zero padding and random horizontal flip, per image, on a batch tensor."""
    n, _, h, w = x.shape
    padded = F.pad(x, (pad, pad, pad, pad))
    dy = torch.randint(0, 2 * pad + 1, (n,))
    dx = torch.randint(0, 2 * pad + 1, (n,))
    rows = (dy[:, None] + torch.arange(h)[None]).to(x.device)
    cols = (dx[:, None] + torch.arange(w)[None]).to(x.device)
    out = padded[torch.arange(n, device=x.device)[:, None, None, None], torch.arange(x.shape[1], device=x.device)[None, :, None, None],
                 rows[:, None, :, None], cols[:, None, None, :]]
    flip = (torch.rand(n) < 0.5).to(x.device)
    return torch.where(flip[:, None, None, None], out.flip(-1), out)


AUGMENTS: dict[str, Callable | None] = {"none": None, "crop_flip": crop_flip}


def default_forward(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    return model(x)


def epoch_permutation(n: int, seed: int, epoch: int) -> torch.Tensor:
    return torch.randperm(n, generator=torch.Generator().manual_seed(seed * 100_003 + epoch))


class Trainer:
    """Train ``model`` on a :class:`~workflow.data.Split` with a :class:`TrainConfig`.

    ``params`` (or param groups) default to all trainable parameters; ``optimizers`` may be given instead (CPG
    trains weights with SGD and masks with Adam). ``forward(model, x)`` selects e.g. a task head. If
    ``checkpoint_path`` is set, state is saved atomically after every epoch and an existing checkpoint is resumed.
    """

    def __init__(self, model: nn.Module, cfg: TrainConfig, *, params=None, optimizers: Sequence | None = None,
                 hooks: Iterable[Hook] = (), device: torch.device | str = "cpu",
                 forward: Callable = default_forward, loss_fn: Callable = F.cross_entropy, seed: int = 0,
                 checkpoint_path: str | Path | None = None, desc: str | None = "train", progress_file=None):
        self.model, self.cfg, self.device = model, cfg, torch.device(device)
        self.hooks = list(hooks)
        self.forward, self.loss_fn, self.seed = forward, loss_fn, seed
        if optimizers is None:
            params = params if params is not None else [p for p in model.parameters() if p.requires_grad]
            optimizers = [build_optimizer(params, cfg)]
        self.optimizers = list(optimizers)
        self.schedulers = [build_scheduler(o, cfg) for o in self.optimizers]
        self.augment = AUGMENTS[cfg.augment]
        self.checkpoint_path = Path(checkpoint_path) if checkpoint_path else None
        self.desc, self.progress_file = desc, progress_file
        self.history: list[dict] = []
        self.epoch = 0
        self.stop = False
        self.batch: tuple[torch.Tensor, torch.Tensor] | None = None
        self.logits: torch.Tensor | None = None
        self.loss: torch.Tensor | None = None

    # -- one epoch ---------------------------------------------------------------------------------------------
    def _train_epoch(self, train) -> dict:
        model, cfg = self.model, self.cfg
        model.train()
        n = len(train)
        perm = epoch_permutation(n, self.seed, self.epoch)
        total_loss, correct, seen = 0.0, 0, 0
        for start in range(0, n, cfg.batch_size):
            idx = perm[start:start + cfg.batch_size]
            if len(idx) < 2 <= n:  # a batch of one breaks BatchNorm; its example is seen next epoch
                continue
            x, y = train.x[idx].to(self.device), train.y[idx].to(self.device)
            if self.augment is not None:
                x = self.augment(x)
            self.batch = (x, y)
            for h in self.hooks:
                h.on_batch_start(self)
            x, y = self.batch
            logits = self.forward(model, x)
            loss = self.loss_fn(logits, y)
            self.logits = logits
            for h in self.hooks:
                extra = h.extra_loss(self)
                if extra is not None:
                    loss = loss + extra
            self.loss = loss
            for opt in self.optimizers:
                opt.zero_grad(set_to_none=True)
            loss.backward()
            for h in self.hooks:
                h.after_backward(self)
            if cfg.grad_clip:
                nn.utils.clip_grad_norm_([p for g in self.optimizers for pg in g.param_groups for p in pg["params"]],
                                         cfg.grad_clip)
            for opt in self.optimizers:
                opt.step()
            for h in self.hooks:
                h.after_step(self)
            total_loss += loss.item() * len(y)
            correct += (logits.argmax(1) == y).sum().item()
            seen += len(y)
        for s in self.schedulers:
            s.step()
        return {"train_loss": total_loss / max(seen, 1), "train_accuracy": correct / max(seen, 1)}

    # -- the whole fit -----------------------------------------------------------------------------------------
    def fit(self, train, val=None) -> list[dict]:
        if self.checkpoint_path and self.checkpoint_path.exists():
            state = load_checkpoint(self.checkpoint_path, model=self.model, optimizers=self.optimizers,
                                    schedulers=self.schedulers, hooks=self.hooks)
            self.history, self.epoch = state["history"], state["epoch"] + 1
            self.stop = bool(state["extra"].get("stop", False))
            log.info("resumed from %s after epoch %d", self.checkpoint_path, state["epoch"])
        for h in self.hooks:
            h.on_fit_start(self)
        bar = tqdm(total=self.cfg.epochs, initial=self.epoch, desc=self.desc, disable=self.desc is None,
                   file=self.progress_file or sys.stderr, mininterval=0, dynamic_ncols=False, ascii=True)
        while self.epoch < self.cfg.epochs and not self.stop:
            for h in self.hooks:
                h.on_epoch_start(self)
            record = {"epoch": self.epoch, "lr": self.optimizers[0].param_groups[0]["lr"]}
            record.update(self._train_epoch(train))
            for h in self.hooks:
                h.before_validation(self, train)
            if val is not None and len(val):
                ev = evaluate(self.model, val, device=self.device, forward=self.forward,
                              batch_size=self.cfg.eval_batch_size)
                record.update(val_accuracy=ev["accuracy"], val_loss=ev["nll"])
            for h in self.hooks:
                h.on_epoch_end(self, record)
            self.history.append(record)
            log.info("epoch %d %s", self.epoch, {k: round(v, 4) for k, v in record.items() if k != "epoch"})
            bar.set_postfix({k: f"{v:.3f}" for k, v in record.items() if k in ("train_loss", "val_accuracy")})
            bar.update(1)
            if self.checkpoint_path:
                save_checkpoint(self.checkpoint_path, model=self.model, optimizers=self.optimizers,
                                schedulers=self.schedulers, hooks=self.hooks, epoch=self.epoch,
                                history=self.history, extra={"stop": self.stop})
            self.epoch += 1
        bar.close()
        for h in self.hooks:
            h.on_fit_end(self)
        return self.history


@torch.no_grad()
def predict_logits(model: nn.Module, x: torch.Tensor, *, device="cpu", forward: Callable = default_forward,
                   batch_size: int = 512) -> torch.Tensor:
    """Logits of ``model`` in eval mode, on the CPU, batch by batch."""
    was_training = model.training
    model.eval()
    out = [forward(model, x[i:i + batch_size].to(device)).float().cpu() for i in range(0, len(x), batch_size)]
    model.train(was_training)
    return torch.cat(out) if out else torch.empty(0)


@torch.no_grad()
def recompute_batchnorm(model: nn.Module, x: torch.Tensor, *, forward: Callable = default_forward,
                        batch_size: int = 128, device="cpu") -> None:
    """Reset every BatchNorm's running statistics and re-estimate them as a cumulative average (momentum None)
    over one pass of ``x`` in train mode, so they match the weights as they are now (after weights were moved
    to a subspace point, or pruned faster than the running average follows)."""
    norms = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    if not norms:
        return
    saved = [m.momentum for m in norms]
    for m in norms:
        m.reset_running_stats()
        m.momentum = None
    was_training = model.training
    model.train()
    for i in range(0, len(x), batch_size):
        forward(model, x[i:i + batch_size].to(device))
    for m, mom in zip(norms, saved):
        m.momentum = mom
    model.train(was_training)


def evaluate(model: nn.Module, split, *, device="cpu", forward: Callable = default_forward,
             batch_size: int = 512) -> dict:
    """Accuracy, NLL and ECE of ``model`` on a split (see :mod:`workflow.metrics`)."""
    logits = predict_logits(model, split.x, device=device, forward=forward, batch_size=batch_size)
    return metrics.classification_metrics(logits, split.y)
