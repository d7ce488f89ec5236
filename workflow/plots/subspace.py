"""Figures of the subspace experiments (paper figures 4 and 5), from alpha_curve.csv / simplex.csv only."""

from __future__ import annotations

import pandas as pd

from .common import new_figure, save_figure

STYLE = {"line": "C0", "line_layerwise": "C1", "curve": "C2"}


def alpha_figure(curves: pd.DataFrame, png, title: str = ""):
    """Accuracy along alpha (solid) and of the alpha / 1-alpha ensemble (dashed), mean over seeds, with standard
    training and the standard ensemble of two as horizontal lines."""
    fig, ax = new_figure(6.0, 3.6)
    sub = curves[curves["model"] != "standard"].groupby(["model", "alpha"], as_index=False).mean(numeric_only=True)
    for name, g in sub.groupby("model", sort=True):
        c = STYLE.get(name)
        ax.plot(g["alpha"], g["accuracy"], "-o", ms=3, color=c, label=name)
        ax.plot(g["alpha"], g["ensemble_accuracy"], "--", color=c, label=f"{name} (alpha / 1-alpha ensemble)")
    std = curves[curves["model"] == "standard"].mean(numeric_only=True)
    ax.axhline(std["accuracy"], color="k", lw=1, label="standard training")
    ax.axhline(std["ensemble_accuracy"], color="k", lw=1, ls=":", label="standard ensemble of two")
    ax.set_xlabel("alpha")
    ax.set_ylabel("test accuracy")
    ax.set_title(title)
    ax.legend(fontsize=6, loc="lower center")
    return save_figure(fig, png)


def simplex_figure(simplex: pd.DataFrame, standard: float, png, title: str = ""):
    """Simplex midpoint (centroid) accuracy against the number of vertices, mean over seeds."""
    fig, ax = new_figure(4.5, 3.4)
    for layerwise, g in simplex.groupby("layerwise", sort=True):
        g = g.groupby("vertices", as_index=False)["accuracy"].mean()
        ax.plot(g["vertices"], g["accuracy"], "-o", label="simplex (layerwise)" if layerwise else "simplex")
    ax.axhline(standard, color="k", lw=1, label="standard training")
    ax.set_xticks(sorted(simplex["vertices"].unique()))
    ax.set_xlabel("number of vertices")
    ax.set_ylabel("midpoint test accuracy")
    ax.set_title(title)
    ax.legend(fontsize=7)
    return save_figure(fig, png)
