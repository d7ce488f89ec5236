"""Continual-learning figures from ``accuracy.csv`` tables (one per method x seed)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .common import new_figure


def final_accuracy(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows of R's last row: accuracy on each task after the whole sequence."""
    last = frame["after_task"].max()
    return frame[frame["after_task"] == last][["task", "accuracy"]]


def per_task_accuracy_figure(tables: dict[str, list[pd.DataFrame]], title: str = ""):
    """Grouped bars: final accuracy per task for each method, mean over seeds with min-max whiskers."""
    methods = list(tables)
    n_tasks = max(int(f["task"].max()) + 1 for fs in tables.values() for f in fs)
    fig, ax = new_figure(min(14.0, max(5.0, 2.0 + 0.22 * n_tasks * len(methods))), 3.4)
    width = 0.8 / max(len(methods), 1)
    for k, method in enumerate(methods):
        per_seed = pd.concat([final_accuracy(f).assign(seed=s) for s, f in enumerate(tables[method])])
        stats = per_seed.groupby("task")["accuracy"].agg(["mean", "min", "max"]).reset_index()
        x = stats["task"].to_numpy() + (k - (len(methods) - 1) / 2) * width
        ax.bar(x, stats["mean"], width, label=method)
        ax.errorbar(x, stats["mean"], yerr=[stats["mean"] - stats["min"], stats["max"] - stats["mean"]],
                    fmt="none", ecolor="black", elinewidth=0.8, capsize=2)
    ax.set_xlabel("task")
    ax.set_ylabel("test accuracy after the last task")
    ax.set_ylim(0, 1.02)
    ax.set_xticks(sorted({int(t) for fs in tables.values() for f in fs for t in f["task"]}))
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8, frameon=False)
    if title:
        ax.set_title(title)
    return fig


def accuracy_matrix_figure(r: np.ndarray, title: str = ""):
    """Heat map of R[i, j] (rows: after task i, columns: task j)."""
    fig, ax = new_figure(3.2 + 0.3 * r.shape[1], 2.8 + 0.3 * r.shape[0])
    im = ax.imshow(np.ma.masked_invalid(r), vmin=0, vmax=1, cmap="viridis")
    for i in range(r.shape[0]):
        for j in range(r.shape[1]):
            if not np.isnan(r[i, j]):
                ax.text(j, i, f"{r[i, j]:.2f}", ha="center", va="center", fontsize=7,
                        color="white" if r[i, j] < 0.6 else "black")
    ax.set_xlabel("task j")
    ax.set_ylabel("after training task i")
    fig.colorbar(im, ax=ax, shrink=0.8)
    if title:
        ax.set_title(title)
    return fig
