"""The baseline's files (one independent network per task; CPG's goals), as pure functions of the config."""

from __future__ import annotations

from ..paths import num_tasks

RUN = "results/baseline/{suite}/seed{seed}"


def task_results(config: dict, suite: str, seed) -> list[str]:
    """Each task's result.json (the inputs of baseline_collect)."""
    run = RUN.format(suite=suite, seed=seed)
    return [f"{run}/task{task}/result.json" for task in range(num_tasks(config, suite))]


def accuracy_tables(config: dict, suite: str) -> list[str]:
    """accuracy.csv of every seed (the per-task figure, CPG's comparison)."""
    return [f"{RUN.format(suite=suite, seed=seed)}/accuracy.csv" for seed in config["seeds"]]


def goals(suite: str, seed) -> str:
    """baseline_acc.json: each task's validation accuracy, CPG's goals."""
    return f"{RUN.format(suite=suite, seed=seed)}/baseline_acc.json"
