"""CPG figures from result tables only: final accuracy per task (CPG vs PackNet vs the independent baseline) and
the capacity each task uses (weights it owns, old weights it picks, and the width multiplier)."""

from __future__ import annotations

import pandas as pd

from .accuracy import per_task_accuracy_figure
from .common import new_figure


def accuracy_figure(tables: dict[str, list[pd.DataFrame]], title: str = ""):
    """Grouped bars of R's last row per method (mean over seeds, min-max whiskers); y zoomed to the data."""
    fig = per_task_accuracy_figure(tables, title)
    ax = fig.axes[0]
    lows = [f[f["after_task"] == f["after_task"].max()]["accuracy"].min() for fs in tables.values() for f in fs]
    ax.set_ylim(max(0.0, min(lows) - 0.1), 1.01)
    return fig


def capacity_figure(tables: dict[str, list[pd.DataFrame]], title: str = ""):
    """Per method one panel: stacked bars per task of the fraction of the (final) network's weights the task
    owns and the old weights it picks; the width multiplier on a second axis."""
    fig, axes = new_figure(4.2 * len(tables), 3.4, ncols=len(tables), squeeze=False)
    for ax, (method, frames) in zip(axes[0], tables.items()):
        frame = pd.concat(frames).groupby("task", as_index=False).mean(numeric_only=True)
        total = frame["total_weights"].max()
        owned, picked = frame["owned"] / total, frame["picked"] / total
        ax.bar(frame["task"], owned, label="owned")
        ax.bar(frame["task"], picked, bottom=owned, label="picked (old, reused)")
        ax.plot(frame["task"], frame["used_by_all"] / total, "k.-", label="all tasks so far")
        ax.set_ylim(0, 1.05)
        ax.set_xlabel("task")
        ax.set_ylabel("fraction of the final network's weights")
        ax.set_xticks(frame["task"])
        ax.set_title(method)
        twin = ax.twinx()
        twin.plot(frame["task"], frame["multiplier"], "r--", marker="s", label="width multiplier")
        twin.set_ylabel("parameter multiplier", color="r")
        twin.set_ylim(0.9, max(2.0, frame["multiplier"].max() + 0.1))
        ax.legend(loc="upper right", fontsize=7)
    if title:
        fig.suptitle(title, fontsize=9)
    return fig
