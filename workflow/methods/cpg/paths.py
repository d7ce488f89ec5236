"""CPG's and PackNet's files, as pure functions of the config (the rules' inputs; no Snakemake, no torch). Per task
k: attempt a's finetune (a checkpoint: status.json says ok / grow / capped), a grow step before attempt a > 0,
prune, choose, retrain; task k starts from task k-1's model.pt."""

from __future__ import annotations

from ..baseline_paths import RUN as BASELINE_RUN
from ...paths import num_tasks

RUN = "results/{method}/{suite}/seed{seed}"
TASK = f"{RUN}/task{{task}}"
ATTEMPT = f"{TASK}/attempt{{attempt}}"


def goals(suite: str, seed) -> str:
    """The baseline's per-task validation accuracies (CPG's goals)."""
    return f"{BASELINE_RUN.format(suite=suite, seed=seed)}/baseline_acc.json"


def previous_model(method: str, suite: str, seed, task) -> dict[str, str]:
    """Task k-1's final network as {"previous": path}; {} for the first task."""
    task = int(task)
    if task == 0:
        return {}
    return {"previous": f"{TASK.format(method=method, suite=suite, seed=seed, task=task - 1)}/model.pt"}


def finetune_start(method: str, suite: str, seed, task, attempt) -> dict[str, str]:
    """Attempt 0 starts from the previous task's network (none for task 0), attempt a > 0 from its grow step."""
    if int(attempt) > 0:
        return {"start": f"{ATTEMPT.format(method=method, suite=suite, seed=seed, task=task, attempt=attempt)}"
                         f"/start.pt"}
    previous = previous_model(method, suite, seed, task)
    return {"start": previous["previous"]} if previous else {}


def grow_status(method: str, suite: str, seed, task, attempt) -> str:
    """The status of the attempt before a grow step (it must say `grow`)."""
    return f"{ATTEMPT.format(method=method, suite=suite, seed=seed, task=task, attempt=int(attempt) - 1)}/status.json"


def task_evals(config: dict, method: str, suite: str, seed) -> list[str]:
    return [f"{TASK.format(method=method, suite=suite, seed=seed, task=task)}/eval.json"
            for task in range(num_tasks(config, suite))]


def compared(config: dict, suite: str, name: str) -> list[str]:
    """``name`` (accuracy.csv, capacity.csv) of CPG and, when enabled, PackNet, for every seed (method-major)."""
    methods = ["cpg"] + (["packnet"] if "packnet" in config["methods"] else [])
    return [f"{RUN.format(method=m, suite=suite, seed=seed)}/{name}" for m in methods for seed in config["seeds"]]


def results(config: dict, method: str) -> list[str]:
    """The final tables of ``method`` (cpg or packnet), every seed."""
    runs = [RUN.format(method=method, suite=config["suite"], seed=seed) for seed in config["seeds"]]
    return [f"{run}/{name}" for run in runs for name in ("summary.json", "capacity.csv")]
