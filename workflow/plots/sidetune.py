"""Side-tuning comparison figures from ``accuracy.csv`` tables ({method: [frame per seed]})."""

from __future__ import annotations

import numpy as np

from .. import metrics
from .common import new_figure


def _mean_matrix(frames) -> np.ndarray:
    return np.nanmean(np.stack([metrics.accuracy_matrix(f) for f in frames]), axis=0)


def accuracy_matrices_figure(tables: dict, title: str = ""):
    """One heat map of R[i, j] (mean over seeds) per method, side by side, on a common 0..1 colour scale."""
    methods = list(tables)
    n_tasks = _mean_matrix(tables[methods[0]]).shape[0]
    cell = 0.38 * n_tasks
    fig, _ = new_figure(0.6 + (cell + 0.5) * len(methods) + 0.8, cell + 1.3)
    fig.clf()  # new_figure's single axes replaced by one per method
    axes = fig.subplots(1, len(methods), squeeze=False)[0]
    im = None
    for ax, method in zip(axes, methods):
        r = _mean_matrix(tables[method])
        im = ax.imshow(np.ma.masked_invalid(r), vmin=0, vmax=1, cmap="viridis")
        for i in range(r.shape[0]):
            for j in range(r.shape[1]):
                if not np.isnan(r[i, j]):
                    ax.text(j, i, f"{100 * r[i, j]:.0f}", ha="center", va="center", fontsize=6,
                            color="white" if r[i, j] < 0.6 else "black")
        ax.set_title(method, fontsize=8)
        ax.set_xticks(range(r.shape[1]))
        ax.set_yticks(range(r.shape[0]))
        ax.set_xlabel("task j", fontsize=7)
        ax.tick_params(labelsize=6)
    axes[0].set_ylabel("after task i", fontsize=7)
    fig.colorbar(im, ax=list(axes), shrink=0.8, label="accuracy")
    if title:
        fig.suptitle(title, fontsize=9)
    return fig


def forgetting_figure(tables: dict, title: str = ""):
    """Forgetting per method (Chaudhry et al.: mean over tasks j < T-1 of max_i R[i, j] - R[T-1, j]), in
    percentage points; bars are the mean over seeds, dots the per-seed values."""
    fig, ax = new_figure(max(4.0, 0.9 * len(tables) + 1.5), 3.2)
    for k, (method, frames) in enumerate(tables.items()):
        values = [100 * metrics.forgetting(metrics.accuracy_matrix(f)) for f in frames]
        ax.bar(k, np.mean(values), 0.6, color=f"C{k}")
        ax.scatter([k] * len(values), values, color="black", s=8, zorder=3)
        ax.text(k, np.mean(values), f"{np.mean(values):.1f}", ha="center", va="bottom", fontsize=7)
    ax.set_xticks(range(len(tables)))
    ax.set_xticklabels(list(tables), fontsize=8)
    ax.set_ylabel("forgetting (percentage points)")
    ax.axhline(0, color="black", linewidth=0.6)
    if title:
        ax.set_title(title, fontsize=9)
    return fig
