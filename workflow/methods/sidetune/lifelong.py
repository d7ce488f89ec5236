"""The task sequence every lifelong method shares: for t = 0..T-1, train task t with the shared Trainer (only
the parameters task t owns or shares go to the optimizer), then evaluate every task j <= t, which fills row t of
R (R[i, j]: test accuracy on task j after training task i). ``independent`` trains one fresh network per task
with the per-task baseline's routine on the same schedule.
"""

from __future__ import annotations

import copy
import functools
import logging
import time

import numpy as np
import torch
from torch import nn

from ...errors import UserError
from ...io import torch_load, torch_save
from ...training import TrainConfig, Trainer, evaluate, seed_everything
from .. import baseline
from ..registry import defined_in
from .base import FrozenBase, packed_split
from .ewc import EWCPenalty
from .networks import FeaturesNet, FinetuneNet, SideTuneNet, TaskHeadsNet
from .pnn import ProgressiveNet

log = logging.getLogger(__name__)

# The lifelong methods whose networks this module builds (the rest of LIFELONG_METHODS bring their own network).
SIDETUNE_METHODS = defined_in("rules/sidetune.smk")


def build_network(method: str, *, backbone: nn.Module, side_init: nn.Module | None, params: dict,
                  num_classes: list[int], image_shape) -> TaskHeadsNet:
    """The network of a lifelong ``method`` around the pretrained ``backbone`` (copied, never modified)."""
    groups = params.get("head_groups", 8)
    if method in ("sidetune", "features", "pnn"):
        base = FrozenBase(copy.deepcopy(backbone))
        if method == "sidetune":
            if side_init.out_features != base.out_features:
                raise UserError(f"the side network's output ({side_init.out_features}) must match the base's "
                                f"features ({base.out_features}) to be merged")
            return SideTuneNet(base, side_init, params.get("merge", "alpha"), num_classes, groups, image_shape)
        if method == "features":
            return FeaturesNet(base, num_classes, groups, image_shape)
        return ProgressiveNet(base, side_init, num_classes, groups, image_shape)
    if method in ("finetune", "ewc"):
        return FinetuneNet(backbone, num_classes, groups, image_shape)
    raise UserError(f"unknown lifelong method '{method}'; allowed: {', '.join(SIDETUNE_METHODS)}")


def task_forward(model, x, task: int):
    return model(x, task)


def use_cache(method: str, net: TaskHeadsNet, cfg: TrainConfig, cache) -> bool:
    """Cached base features are exact only for a frozen base and a deterministic input transform."""
    return cache is not None and net.supports_cache and cfg.augment == "none"


def run_sequence(method: str, tasks, *, backbone: nn.Module, side_init: nn.Module | None, params: dict, seed: int,
                 device="cpu", cache: list[dict] | None = None, resume_path=None, progress_file=None,
                 after_task=None, network: TaskHeadsNet | None = None):
    """Train ``method`` on ``tasks`` in order. Returns (network, R, info) where info holds per-task training
    histories, seconds per task and, for side-tuning, the learned alphas.

    ``cache[t]`` holds the base's features of task t's splits ({"train", "val", "test"}); it is used where exact.
    ``resume_path``: state after each finished task is saved there, and a run restarts after the last one.
    ``after_task(t, net, R)`` is called once task t is trained and evaluated (tests snapshot modules with it).
    ``network``: a method with a network of its own (a :class:`TaskHeadsNet`, e.g. BSP's) passes it here and
    ``backbone`` / ``side_init`` are not used.
    """
    cfg = TrainConfig.from_dict(params["train"])
    seed_everything(seed, threads=None)  # threads: as the calling script set them (compute.threads)
    if network is None:
        network = build_network(method, backbone=backbone, side_init=side_init, params=params,
                                num_classes=[t.num_classes for t in tasks], image_shape=tasks[0].train.x.shape[1:])
    net = network.to(device)
    cached = use_cache(method, net, cfg, cache)
    ewc = EWCPenalty({f"trunk.{n}": p for n, p in net.trunk.named_parameters()}, params["ewc"]["coef"]) \
        if method == "ewc" else None
    t_count = len(tasks)
    r = np.full((t_count, t_count), np.nan)
    histories, seconds, start_task = [], [], 0
    if resume_path is not None and resume_path.exists():
        state = torch_load(resume_path)
        net.load_state_dict(state["model"])
        r, histories, seconds, start_task = (np.array(state["R"], dtype=float), state["history"], state["seconds"],
                                             state["task"] + 1)
        if ewc is not None:
            ewc.load_state_dict(state["ewc"])
        log.info("resumed %s after task %d", method, state["task"])

    def split(t, name):
        s = getattr(tasks[t], name)
        return packed_split(cache[t][name], s) if cached else s

    for t in range(start_task, t_count):
        tic = time.perf_counter()
        seed_everything(seed * 1000 + t, threads=None)
        forward = functools.partial(task_forward, task=t)
        trainer = Trainer(net, cfg, params=net.param_groups(t, cfg.weight_decay), hooks=[ewc] if ewc else [],
                          device=device, forward=forward, seed=seed * 1000 + t, desc=f"{method} task {t}",
                          progress_file=progress_file)
        history = trainer.fit(split(t, "train"), split(t, "val"))
        histories += [{"task": t, **row} for row in history]
        if ewc is not None:
            ewc.consolidate(net, split(t, "train"), forward, batch_size=cfg.batch_size, device=device)
        seconds.append(time.perf_counter() - tic)
        for j in range(t + 1):
            r[t, j] = evaluate(net, split(j, "test"), device=device, forward=functools.partial(task_forward, task=j),
                               batch_size=cfg.eval_batch_size)["accuracy"]
        log.info("%s after task %d: R row %s (%.1f s)", method, t, np.round(r[t, :t + 1], 4).tolist(), seconds[-1])
        if resume_path is not None:
            torch_save(resume_path, {"task": t, "model": net.state_dict(), "R": r.tolist(), "history": histories,
                                     "seconds": seconds, "ewc": ewc.state_dict() if ewc else None})
        if after_task is not None:
            after_task(t, net, r)
    info = {"history": histories, "seconds_per_task": seconds, "cached_features": cached}
    if isinstance(net, SideTuneNet):
        info["alphas"] = net.alphas()
    return net, r, info


def run_independent(tasks, *, params: dict, seed: int, device="cpu", progress_file=None):
    """One fresh network per task (the base's architecture, from scratch) on the shared schedule, with the
    per-task baseline's training routine. Returns (R, per-task results)."""
    results, seconds = [], []
    for task in tasks:
        tic = time.perf_counter()
        _, _, result = baseline.train_task(task, model=params["base"]["model"], width=params["base"]["width"],
                                           train=params["train"], seed=seed, device=device,
                                           progress_file=progress_file)
        results.append(result)
        seconds.append(time.perf_counter() - tic)
    r, _ = baseline.collect(results)
    return r, {"results": results, "seconds_per_task": seconds}


def module_state(module: nn.Module) -> dict[str, torch.Tensor]:
    """A detached copy of a module's state (for bitwise comparisons)."""
    return {k: v.detach().clone() for k, v in module.state_dict().items()}
