"""The stages of one task k (1-based owner id; ``task.index`` = k - 1), each called by its own Snakemake rule:

    grow      widen the network (only when the finetune status said so)
    finetune  free weights become task k's; train them (+ the picking mask); status ok / grow / capped
    prune     gradual pruning sweep over sparsity levels, validation accuracy recorded per level
    choose    (choose.py) the largest level whose accuracy reaches the goal
    retrain   fresh picking mask, retrain with patience; then evaluate every task so far

Networks travel between stages as :meth:`CPGNet.to_state` dicts. All training goes through the shared Trainer:
SGD for the weights (built-in weight decay 0; decay is added by hand to trainable weights only) and Adam for the
picking mask, with :class:`OwnershipGradientMask` keeping old weights bit-identical.

Every stage takes ``threads``, torch's intra-op thread count for the whole stage, evaluation included (the scripts
pass ``compute.threads``, the cores the rule reserves; None keeps the caller's setting).
"""

from __future__ import annotations

import logging
import math
from dataclasses import replace

import torch

from ...errors import UserError
from ...training import (RecomputeBatchNorm, TrainConfig, Trainer, evaluate, predict_logits, seed_everything,
                         set_threads)
from ...training.loop import build_optimizer
from ...training.optimizers import Adam  # torch's, without the torch.compile guards
from .choose import ABSOLUTE, CAPPED, collapsed, finetune_status
from .hooks import GradualPruner, MaskLrSchedule, OwnershipGradientMask, PatienceFromBaseline
from .layers import sharable_layers
from .network import CPGNet, new_network, task_view, widen
from .pruning import layer_sparsity, reserve_ratio
from .tables import accuracy_matrix  # noqa: F401  (re-exported; torch-free for cpg_collect)

log = logging.getLogger(__name__)

STAGE_SEED = {"finetune": 1, "prune": 2, "retrain": 3, "grow": 4}


def stage_seed(seed: int, task_index: int, stage: str, extra: int = 0) -> int:
    return seed * 100_000 + task_index * 1000 + STAGE_SEED[stage] * 100 + extra


def split_train(train: dict) -> tuple[TrainConfig, float]:
    """The TrainConfig with weight decay 0, and the decay to add by hand to trainable weights only."""
    cfg = TrainConfig.from_dict(train)
    return replace(cfg, weight_decay=0.0), float(train.get("weight_decay", 0.0))


def weight_params(net: CPGNet) -> list:
    """What SGD trains: sharable weights and biases, BatchNorm, and the active task's head (not other heads,
    not picking masks)."""
    params = [p for n, p in net.backbone.named_parameters() if not n.endswith(".picking")]
    return params + list(net.heads[net.active].parameters())


def prepare_task(net: CPGNet, k: int, *, picking: bool, fixed_picks: dict | None = None) -> list:
    """Set every sharable layer up for training task k. ``picking``: attach fresh trainable picking masks (k > 1);
    else old weights enter through ``fixed_picks`` (a task's stored picks) or, when None, all of them (PackNet).
    Returns the picking parameters."""
    masks = []
    for name, m in sharable_layers(net.backbone):
        m.detach_picking()
        if picking and k > 1:
            m.set_task(k, reuse_old=False)
            masks.append(m.attach_picking())
        else:
            picked = None if fixed_picks is None else fixed_picks.get(name)
            use_all = fixed_picks is None
            m.set_task(k, reuse_old=use_all or picked is not None, picked=picked)
    return masks


def owned_count(net: CPGNet, k: int) -> int:
    return int(sum(int((m.owner == k).sum()) for _, m in sharable_layers(net.backbone)))


# -- grow -------------------------------------------------------------------------------------------------------

def grow(previous: dict | None, *, multiplier: float, params: dict, in_shape, seed: int, task_index: int,
         device="cpu", threads: int | None = 1) -> CPGNet:
    """The starting network of a finetune attempt at a larger width: the previous task's chosen network widened
    (old weights top-left, new entries free), or a fresh network at that width for the first task."""
    seed_everything(stage_seed(seed, task_index, "grow"), threads=threads)
    if previous is None:
        return new_network(params["model"], in_shape, params["width"], multiplier, device)
    return widen(CPGNet.from_state(previous, device), multiplier)


# -- finetune ---------------------------------------------------------------------------------------------------

def claim_free_weights(net: CPGNet, k: int) -> int:
    """make_finetuning_mask: every free entry becomes task k's, with a fresh initial value."""
    fresh = new_network(net.spec.model, net.spec.in_shape, net.spec.base_width, net.spec.multiplier, net.device)
    claimed = 0
    with torch.no_grad():
        for (_, m), (_, f) in zip(sharable_layers(net.backbone), sharable_layers(fresh.backbone)):
            free = m.owner == 0
            m.weight[free] = f.weight[free]
            m.owner[free] = k
            claimed += int(free.sum())
    return claimed


def finetune(start: dict | None, task, *, params: dict, goal: float, seed: int, device="cpu",
             checkpoint_path=None, progress_file=None, threads: int | None = 1) -> tuple[CPGNet, dict, list]:
    """Train task k = task.index + 1 on everything free; returns (network, status record, history)."""
    k = task.index + 1
    seed_everything(stage_seed(seed, task.index, "finetune"), threads=threads)
    if start is None:
        if task.index != 0:
            raise UserError(f"task {task.index} needs the previous task's network to start from")
        net = new_network(params["model"], task.train.x.shape[1:], params["width"], 1.0, device)
    else:
        net = CPGNet.from_state(start, device)
    if net.num_tasks != task.index:
        raise UserError(f"the starting network holds {net.num_tasks} tasks but this is task {task.index}: "
                        f"remove results of a different task order and rerun")
    claimed = claim_free_weights(net, k)
    net.add_head(task.num_classes)
    masks = prepare_task(net, k, picking=params["picking"])
    stage = params["finetune"]
    cfg, wd = split_train(stage["train"])
    optimizers = [build_optimizer(weight_params(net), cfg)]
    hooks = [OwnershipGradientMask(net, wd), *bn_hooks(params)]
    if masks:
        adam = Adam(masks, lr=stage["mask_lr"])
        optimizers.append(adam)
        hooks.append(MaskLrSchedule(adam, stage["mask_lr"], stage["mask_milestones"], frozen=claimed == 0))
    history = Trainer(net, cfg, optimizers=optimizers, hooks=hooks, device=device,
                      seed=stage_seed(seed, task.index, "finetune"), checkpoint_path=checkpoint_path,
                      desc=f"finetune task {task.index}", progress_file=progress_file).fit(task.train, task.val)
    net.capture_task_state(task.index, reuse_all_old=not params["picking"])
    last = history[-1] if history else {"train_accuracy": 0.0, "val_accuracy": 0.0}
    growth = params["growth"]
    status = {
        "task": task.index, "goal": goal, "multiplier": net.spec.multiplier,
        "train_accuracy": last["train_accuracy"], "val_accuracy": last["val_accuracy"],
        "owned_weights": owned_count(net, k),
        "status": finetune_status(last["train_accuracy"], last["val_accuracy"], goal,
                                  train_gate=params["train_gate"], multiplier=net.spec.multiplier,
                                  max_multiplier=growth["max_multiplier"],
                                  collapse_gate=params.get("collapse_gate", ABSOLUTE)),
    }
    for _, m in sharable_layers(net.backbone):
        m.detach_picking()
    return net, status, history


# -- prune ------------------------------------------------------------------------------------------------------

def sparsities(net: CPGNet, k: int) -> dict[str, float]:
    return {n: layer_sparsity(m.owner, k) for n, m in sharable_layers(net.backbone)}


def bn_hooks(params: dict) -> list:
    """Task k's BatchNorm statistics re-estimated before every validation (``recompute_bn``, default on): short
    scaled-down stages move the weights faster than the running averages follow."""
    return [RecomputeBatchNorm()] if params.get("recompute_bn", True) else []


def prune_sweep(start: dict, task, *, params: dict, status: dict, num_tasks: int, goal: float, seed: int,
                device="cpu", progress=None, save_progress=None, progress_file=None,
                threads: int | None = 1) -> tuple[list, dict, list]:
    """Gradual pruning of task k's weights over the configured levels, each run continuing from the last.

    Returns (records, {sparsity: network state}, history). Level 0.0 is the finetuned network. The sweep stops
    when a level collapses (training accuracy below ``train_gate``, or below ``train_gate`` x the unpruned
    training accuracy with ``collapse_gate: relative``; ``choose.collapsed``), when its validation accuracy is more than
    ``stop_margin`` below goal - allowed loss (goal mode), or, for a task capped at maximum width, once it reaches
    the reserve ratio 1 - round(1/(R+1), 1) (R = tasks still to come).
    """
    set_threads(threads)
    k = task.index + 1
    stage = params["prune"]
    net = CPGNet.from_state(start, device)
    net.active = task.index
    picks = net.tasks[task.index]["picked"]
    records = [{"sparsity": 0.0, "val_accuracy": status["val_accuracy"], "train_accuracy": status["train_accuracy"],
                "collapsed": False, "layer_sparsity": sparsities(net, k)}]
    levels = {0.0: start}
    history: list = []
    if progress:  # resume after the last finished level
        records, levels, history = progress["records"], progress["levels"], progress["history"]
        net = CPGNet.from_state(levels[records[-1]["sparsity"]], device)
        net.active = task.index
    reserve = None
    if status["status"] == CAPPED and params["reserve_when_capped"]:
        reserve = reserve_ratio(num_tasks - (task.index + 1))
    if owned_count(net, k) == 0:
        return records, levels, history  # nothing of its own to prune (the original's exit 5)
    cfg, wd = split_train(stage["train"])
    steps_per_epoch = max(1, math.ceil(len(task.train) / cfg.batch_size))
    ramp = stage["ramp_epochs"] * steps_per_epoch
    done = {r["sparsity"] for r in records}
    previous = records[-1]["sparsity"]
    for level, s in enumerate(stage["levels"]):
        if s in done:
            continue
        if reserve is not None and previous + 1e-9 >= reserve:
            break
        if _stop(records[-1], goal, params, stage):
            break
        seed_everything(stage_seed(seed, task.index, "prune", level), threads=threads)
        reuse_all = not params["picking"]
        prepare_task(net, k, picking=False, fixed_picks=None if reuse_all else picks)
        pruner = GradualPruner(net, k, previous, s, ramp, stage["frequency"])
        optimizers = [build_optimizer(weight_params(net), cfg)]
        hooks = [pruner, OwnershipGradientMask(net, wd), *bn_hooks(params)]
        hist = Trainer(net, cfg, optimizers=optimizers, hooks=hooks, device=device,
                       seed=stage_seed(seed, task.index, "prune", level), desc=f"prune task {task.index} to {s}",
                       progress_file=progress_file).fit(task.train, task.val)
        history += [{**h, "sparsity": s} for h in hist]
        last = hist[-1]
        net.capture_task_state(task.index, picked=picks, reuse_all_old=reuse_all)
        records.append({"sparsity": s, "val_accuracy": last["val_accuracy"],
                        "train_accuracy": last["train_accuracy"],
                        "collapsed": collapsed(last["train_accuracy"], records[0]["train_accuracy"],
                                               params["train_gate"], params.get("collapse_gate", ABSOLUTE)),
                        "layer_sparsity": sparsities(net, k)})
        levels[s] = net.to_state()
        log.info("task %d sparsity %.2f: val %.4f train %.4f", task.index, s, last["val_accuracy"],
                 last["train_accuracy"])
        if save_progress:
            save_progress({"records": records, "levels": levels, "history": history})
        previous = s
        if records[-1]["collapsed"] or (reserve is not None and s + 1e-9 >= reserve):
            break
    return records, levels, history


def _stop(last: dict, goal: float, params: dict, stage: dict) -> bool:
    margin = stage.get("stop_margin")
    if params["choose_by"] != "goal" or margin is None or last["sparsity"] == 0.0:
        return False
    return last["val_accuracy"] < goal - params["allowed_loss"] - margin


# -- retrain ----------------------------------------------------------------------------------------------------

def retrain(chosen: dict, task, *, params: dict, seed: int, device="cpu", checkpoint_path=None,
            progress_file=None, threads: int | None = 1) -> tuple[CPGNet, dict, list]:
    """Fresh picking masks (0.01) and task k's remaining weights, retrained with patience against the chosen
    network's validation accuracy; skipped for the first task and when picking is off with 0 epochs."""
    set_threads(threads)
    k = task.index + 1
    stage = params["retrain"]
    net = CPGNet.from_state(chosen, device)
    net.active = task.index
    stored_picks = net.tasks[task.index]["picked"]
    reuse_all = not params["picking"]
    cfg, wd = split_train(stage["train"])
    skip = cfg.epochs == 0 or (params["picking"] and k == 1)
    prepare_task(net, k, picking=False, fixed_picks=None if reuse_all else stored_picks)
    baseline = evaluate(net, task.val, device=device)["accuracy"]
    info = {"task": task.index, "baseline_val_accuracy": baseline, "skipped": skip, "improved": False,
            "epochs_run": 0}
    if skip:
        return net, info, []
    seed_everything(stage_seed(seed, task.index, "retrain"), threads=threads)
    masks = prepare_task(net, k, picking=params["picking"])
    optimizers = [build_optimizer(weight_params(net), cfg)]
    if masks:
        optimizers.append(Adam(masks, lr=stage["mask_lr"]))
    patience = PatienceFromBaseline(baseline, stage["patience"], snapshot=net.state_dict,
                                    restore=net.load_state_dict)
    hooks = [OwnershipGradientMask(net, wd), *bn_hooks(params), patience]
    history = Trainer(net, cfg, optimizers=optimizers, hooks=hooks, device=device,
                      seed=stage_seed(seed, task.index, "retrain"), checkpoint_path=checkpoint_path,
                      desc=f"retrain task {task.index}", progress_file=progress_file).fit(task.train, task.val)
    improved = patience.best_state is not None
    if improved:
        net.capture_task_state(task.index, reuse_all_old=reuse_all)
    for _, m in sharable_layers(net.backbone):
        m.detach_picking()
    info.update(improved=improved, best_val_accuracy=patience.best, epochs_run=len(history))
    return net, info, history


# -- evaluation and capacity ------------------------------------------------------------------------------------

def evaluate_tasks(net: CPGNet, tasks, *, device="cpu") -> tuple[list[dict], dict[int, torch.Tensor]]:
    """Test accuracy and logits of every task the network has learned, each through its own task view."""
    rows, logits = [], {}
    for task in tasks[:len(net.tasks)]:
        view = task_view(net, task.index)
        out = predict_logits(view, task.test.x, device=device)
        logits[task.index] = out
        rows.append({"task": task.index, "accuracy": float((out.argmax(1) == task.test.y).float().mean())})
    return rows, logits


def capacity(net: CPGNet, task_index: int) -> dict:
    """Weights of the sharable layers after task k: owned by k, old weights k picked, free, and the total."""
    k = task_index + 1
    owner_all = [m.owner for _, m in sharable_layers(net.backbone)]
    total = int(sum(o.numel() for o in owner_all))
    state = net.tasks[task_index]
    if state.get("reuse_all_old"):
        picked = int(sum(int(((o >= 1) & (o < k)).sum()) for o in owner_all))
    else:
        picked = int(sum(int(p.sum()) for p in state["picked"].values()))
    owned = int(sum(int((o == k).sum()) for o in owner_all))
    used = int(sum(int(((o >= 1) & (o <= k)).sum()) for o in owner_all))
    return {"task": task_index, "multiplier": state["multiplier"], "total_weights": total, "owned": owned,
            "picked": picked, "free": int(sum(int((o == 0).sum()) for o in owner_all)), "used_by_all": used,
            "owned_fraction": owned / total, "used_fraction": used / total}
