"""Per-task baseline: one independent network per task, trained from scratch with the shared loop.

Its accuracies are the reference ('goals') that CPG must reach, and the independent line in every figure.
Because every task has its own network, R[i, j] = acc_j for all i >= j: nothing is forgotten, nothing transfers.
"""

from __future__ import annotations

import numpy as np


def train_task(task, *, model: str, width: float, train: dict, seed: int, device, checkpoint_path=None,
               progress_file=None, threads: int | None = None):
    """Train a fresh classifier on ``task``; returns (model, history, metrics dict of val and test).

    ``threads`` sets torch's thread count (None keeps the caller's setting)."""
    from ..models import build_classifier  # torch: only jobs that train pay for its import (not baseline_collect)
    from ..training import TrainConfig, Trainer, evaluate, seed_everything

    seed_everything(seed * 1000 + task.index, threads=threads)
    net = build_classifier(model, task.train.x.shape[1:], task.num_classes, width).to(device)
    cfg = TrainConfig.from_dict(train)
    trainer = Trainer(net, cfg, device=device, seed=seed * 1000 + task.index, checkpoint_path=checkpoint_path,
                      desc=f"baseline task {task.index}", progress_file=progress_file)
    history = trainer.fit(task.train, task.val)
    result = {
        "task": task.index, "name": task.name, "classes": task.classes, "seed": seed,
        "val": evaluate(net, task.val, device=device), "test": evaluate(net, task.test, device=device),
        "epochs_run": len(history),
    }
    return net, history, result


def collect(results: list[dict]) -> tuple[np.ndarray, list[dict]]:
    """R for independent models (row i holds every task <= i at its own accuracy) and the CPG goals."""
    results = sorted(results, key=lambda r: r["task"])
    t = len(results)
    r = np.full((t, t), np.nan)
    for i in range(t):
        for j in range(i + 1):
            r[i, j] = results[j]["test"]["accuracy"]
    goals = [{"task": res["task"], "name": res["name"], "val_accuracy": res["val"]["accuracy"],
              "test_accuracy": res["test"]["accuracy"]} for res in results]
    return r, goals
