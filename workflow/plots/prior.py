"""Figure of Bayesian transfer: accuracy and NLL against training examples per class, per prior arm."""

from __future__ import annotations

import pandas as pd
from matplotlib.ticker import FixedLocator, NullLocator

from .common import new_figure

ARM_STYLE = {"sgd": ("tab:gray", "plain SGD"), "isotropic": ("tab:blue", "N(0, \u03bbI)"),
             "shifted": ("tab:orange", "N(\u03bc, \u03bbI)"), "learned": ("tab:red", "learned N(\u03bc, \u03bb\u03a3)")}
INFERENCE = {"map": "MAP (SGD)", "sgld": "cyclical SGLD + BMA"}


def accuracy_vs_n_figure(table: pd.DataFrame, title: str = ""):
    """One row per inference, columns test accuracy and test NLL over N per class (log axis); mean over seeds
    with min-max bars; arms slightly offset in x so overlapping lines stay visible.
    ``table``: rows of transfer.csv with a ``seed`` column."""
    inferences = [i for i in INFERENCE if i in set(table["inference"])] + \
        sorted(set(table["inference"]) - set(INFERENCE))
    fig, _ = new_figure(9.0, 2.8 * len(inferences) + 0.4)
    fig.clf()
    axes = fig.subplots(len(inferences), 2, squeeze=False)
    stats = table.groupby(["inference", "arm", "n_per_class"])[["accuracy", "nll"]].agg(["mean", "min", "max"])
    ns = sorted(set(table["n_per_class"]))
    arms = [a for a in ARM_STYLE if a in set(table["arm"])] + sorted(set(table["arm"]) - set(ARM_STYLE))
    for row, inference in enumerate(inferences):
        for k, arm in enumerate(arms):
            if (inference, arm) not in stats.index.droplevel("n_per_class"):
                continue
            frame = stats.loc[(inference, arm)]
            color, label = ARM_STYLE.get(arm, ("black", arm))
            dodge = 1 + 0.03 * (k - (len(arms) - 1) / 2)
            for ax, metric in zip(axes[row], ("accuracy", "nll")):
                m = frame[metric]
                ax.errorbar(m.index * dodge, m["mean"], yerr=[m["mean"] - m["min"], m["max"] - m["mean"]],
                            color=color, marker="o", markersize=3, capsize=2, label=label)
        for ax, name in zip(axes[row], ("test accuracy", "test NLL")):
            ax.set_xscale("log")
            ax.xaxis.set_major_locator(FixedLocator(ns))
            ax.xaxis.set_minor_locator(NullLocator())
            ax.set_xticklabels([str(n) for n in ns])
            ax.set_xlabel("training examples per class")
            ax.set_ylabel(name)
            ax.set_title(INFERENCE.get(inference, inference), fontsize=9)
            ax.spines[["top", "right"]].set_visible(False)
    axes[0][0].legend(fontsize=7, frameon=False)
    if title:
        fig.suptitle(title)
    return fig
