"""Evaluating a trained subspace: BatchNorm recomputed at every point, accuracy along alpha, alpha / 1-alpha
ensembles (sum of logits), simplex centroids; standard training and a standard ensemble of two as baselines."""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch

from ... import metrics
from ...training import predict_logits, recompute_batchnorm
from .layers import cos_squared, set_point, subspace_modules
from .training import ModelSpec


def logits_at(model, spec: ModelSpec, point, task, *, device="cpu", bn_recompute=True) -> torch.Tensor:
    set_point(model, spec.kind, point)
    if bn_recompute:
        recompute_batchnorm(model, task.train.x, device=device)
    return predict_logits(model, task.test.x, device=device)


def alpha_curve(model, spec: ModelSpec, task, alphas, *, device="cpu") -> pd.DataFrame:
    """One row per alpha: accuracy and ECE at alpha, and accuracy of the sum of logits at alpha and 1-alpha."""
    cache = {}

    def at(a):
        key = round(float(a), 10)
        if key not in cache:
            cache[key] = logits_at(model, spec, key, task, device=device)
        return cache[key]

    rows = []
    for a in alphas:
        lg = at(a)
        m = metrics.classification_metrics(lg, task.test.y)
        rows.append({"model": spec.name, "alpha": float(a), "accuracy": m["accuracy"],
                     "ensemble_accuracy": metrics.accuracy(lg + at(1 - a), task.test.y), "ece": m["ece"]})
    return pd.DataFrame(rows)


def standard_rows(members: list, task, *, device="cpu") -> tuple[pd.DataFrame, dict]:
    """Standard training: mean accuracy/ECE over members; standard ensemble of two: sum of the first two's logits."""
    logits = [predict_logits(m, task.test.x, device=device) for m in members]
    per = [metrics.classification_metrics(lg, task.test.y) for lg in logits]
    ens = metrics.accuracy(logits[0] + logits[1], task.test.y) if len(logits) >= 2 else float("nan")
    row = {"model": "standard", "alpha": float("nan"), "accuracy": float(np.mean([p["accuracy"] for p in per])),
           "ensemble_accuracy": ens, "ece": float(np.mean([p["ece"] for p in per]))}
    return pd.DataFrame([row]), {"standard_members": [p["accuracy"] for p in per], "standard_ensemble": ens}


@torch.no_grad()
def anchor_geometry(model) -> dict:
    """Mean pairwise cos^2 and L2 distance between anchors (all conv/linear layers jointly)."""
    n = subspace_modules(model)[0].n_anchors
    cos2, dist = [], []
    for i in range(n):
        for j in range(i + 1, n):
            cos2.append(float(cos_squared(model, i, j)))
            sq = sum(float((m.anchor_weights()[i] - m.anchor_weights()[j]).pow(2).sum())
                     for m in subspace_modules(model) if m.anchor_weights())
            dist.append(sq ** 0.5)
    return {"cos2": float(np.mean(cos2)), "l2": float(np.mean(dist))}


def simplex_row(model, spec: ModelSpec, task, *, device="cpu") -> dict:
    m = metrics.classification_metrics(logits_at(model, spec, spec.centre, task, device=device), task.test.y)
    return {"model": spec.name, "vertices": spec.vertices, "layerwise": spec.layerwise,
            "accuracy": m["accuracy"], "ece": m["ece"], **anchor_geometry(model)}


def line_summary(curve: pd.DataFrame, standard: dict, std_row: pd.DataFrame) -> dict:
    """The issue's checks for one seed: midpoint vs endpoints vs standard; alpha/1-alpha ensemble vs endpoint."""
    out = {"standard_accuracy": float(std_row["accuracy"].iloc[0]), **standard}
    for name, g in curve.groupby("model", sort=True):
        g = g.set_index("alpha")
        ends = [float(g.loc[0.0, "accuracy"]), float(g.loc[1.0, "accuracy"])]
        out[name] = {"midpoint": float(g.loc[0.5, "accuracy"]), "endpoints": ends,
                     "midpoint_ece": float(g.loc[0.5, "ece"]),
                     "best_ensemble": float(g["ensemble_accuracy"].max()),
                     "endpoint_ensemble": float(g.loc[0.0, "ensemble_accuracy"])}
    return out
