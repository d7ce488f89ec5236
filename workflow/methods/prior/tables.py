"""Torch-free: the prior arms and the tables of the transfer runs (``transfer.csv`` and the summary), so the
``prior_collect`` job (runs.csv in, tables out) never imports torch."""

from __future__ import annotations

import pandas as pd

ARMS = ("sgd", "isotropic", "shifted", "learned")  # the priors of density.py, in table and figure order
TRANSFER_COLUMNS = ["arm", "inference", "n_per_class", "accuracy", "nll", "ece"]


def transfer_table(runs: pd.DataFrame) -> pd.DataFrame:
    """The selected runs in the contract's columns, sorted by inference, arm order and N."""
    sel = runs[runs["selected"].astype(bool)].copy()
    sel["arm_order"] = sel["arm"].map({a: k for k, a in enumerate(ARMS)})
    sel = sel.sort_values(["inference", "arm_order", "n_per_class"])
    return sel[TRANSFER_COLUMNS].reset_index(drop=True)


def transfer_summary(runs: pd.DataFrame) -> dict:
    """Nested scalars: test accuracy / NLL / ECE and the chosen lambda per inference, arm and N, and the
    learned-minus-isotropic accuracy gap per inference and N."""
    sel = runs[runs["selected"].astype(bool)]
    out = {"accuracy": {}, "nll": {}, "ece": {}, "prior_scale": {}, "gap_learned_minus_isotropic": {}}
    for (inf, arm, n), r in sel.groupby(["inference", "arm", "n_per_class"]):
        r = r.iloc[0]
        for key in ("accuracy", "nll", "ece"):
            out[key].setdefault(inf, {}).setdefault(arm, {})[str(n)] = float(r[key])
        if arm != "sgd":
            out["prior_scale"].setdefault(inf, {}).setdefault(arm, {})[str(n)] = float(r["prior_scale"])
    for inf, arms in out["accuracy"].items():
        if "learned" in arms and "isotropic" in arms:
            out["gap_learned_minus_isotropic"][inf] = {n: arms["learned"][n] - arms["isotropic"][n]
                                                       for n in arms["learned"]}
    return out
