"""Torch-free: what ``cpg_collect`` computes from the stages' eval.json files (the retrain stage already wrote
each task's accuracies and capacity), so the collect job never imports torch."""

from __future__ import annotations

import numpy as np


def accuracy_matrix(rows_per_task: list[list[dict]], num_tasks: int) -> np.ndarray:
    r = np.full((num_tasks, num_tasks), np.nan)
    for i, rows in enumerate(rows_per_task):
        for row in rows:
            r[i, row["task"]] = row["accuracy"]
    return r
