"""Every metric of the laboratory, defined once.

Continual learning (T tasks, indices from 0). ``R[i, j]`` is the test accuracy on task j after training on
tasks 0..i; it is the primary artifact (``accuracy.csv``, long form ``after_task, task, accuracy``), and
entries that were not measured are NaN.

- average accuracy        ACC  = 1/T * sum_j R[T-1, j]
- backward transfer       BWT  = 1/(T-1) * sum_{j<T-1} (R[T-1, j] - R[j, j])          (Lopez-Paz & Ranzato 2017)
- forgetting              F    = 1/(T-1) * sum_{j<T-1} max_{i in j..T-2} (R[i, j] - R[T-1, j])  (Chaudhry et al. 2018)
- forward transfer        FWT  = 1/(T-1) * sum_{j>0} (R[j-1, j] - b_j)                (Lopez-Paz & Ranzato 2017)
  where b_j is the accuracy of a randomly initialised model on task j; it needs the upper triangle of R
  (evaluation of future tasks), otherwise it is NaN.
- transfer vs. reference  TvR  = 1/T * sum_j (R[j, j] - ref_j), e.g. ref = independent baselines.

Classification: accuracy (fraction correct), NLL (mean negative log-likelihood of the softmax), and expected
calibration error ECE = sum_b |B_b|/N * |acc(B_b) - conf(B_b)| over equal-width confidence bins.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:  # torch is imported where tensors are used: table-only jobs (collect, plots) start faster
    import torch

ACCURACY_COLUMNS = ["after_task", "task", "accuracy"]


# --- the accuracy matrix ------------------------------------------------------------------------------------

def accuracy_matrix(frame: pd.DataFrame, num_tasks: int | None = None) -> np.ndarray:
    """R as a (T, T) array from the long form; unmeasured entries are NaN."""
    t = num_tasks or int(max(frame["after_task"].max(), frame["task"].max()) + 1)
    r = np.full((t, t), np.nan)
    for row in frame.itertuples(index=False):
        r[int(row.after_task), int(row.task)] = float(row.accuracy)
    return r


def accuracy_frame(r: np.ndarray) -> pd.DataFrame:
    """The long form of R (measured entries only), sorted by (after_task, task)."""
    rows = [(i, j, float(r[i, j])) for i in range(r.shape[0]) for j in range(r.shape[1]) if not np.isnan(r[i, j])]
    return pd.DataFrame(rows, columns=ACCURACY_COLUMNS)


def average_accuracy(r: np.ndarray) -> float:
    return float(np.mean(r[-1]))


def backward_transfer(r: np.ndarray) -> float:
    t = r.shape[0]
    if t < 2:
        return 0.0
    return float(np.mean([r[-1, j] - r[j, j] for j in range(t - 1)]))


def forgetting(r: np.ndarray) -> float:
    t = r.shape[0]
    if t < 2:
        return 0.0
    return float(np.mean([np.nanmax(r[j:t - 1, j]) - r[-1, j] for j in range(t - 1)]))


def forward_transfer(r: np.ndarray, random_init: np.ndarray | None) -> float:
    t = r.shape[0]
    if t < 2 or random_init is None:
        return float("nan")
    vals = [r[j - 1, j] - random_init[j] for j in range(1, t)]
    return float("nan") if np.any(np.isnan(vals)) else float(np.mean(vals))


def transfer_vs_reference(r: np.ndarray, reference) -> float:
    reference = np.asarray(reference, dtype=float)
    return float(np.mean(np.diag(r) - reference))


def summarize(r: np.ndarray, reference=None, random_init=None) -> dict:
    """All continual-learning metrics of one run, for ``summary.json``."""
    out = {
        "num_tasks": int(r.shape[0]),
        "average_accuracy": average_accuracy(r),
        "backward_transfer": backward_transfer(r),
        "forgetting": forgetting(r),
        "forward_transfer": forward_transfer(r, random_init),
        "final_accuracy_per_task": [float(v) for v in r[-1]],
    }
    if reference is not None:
        out["transfer_vs_reference"] = transfer_vs_reference(r, reference)
    return {k: (None if isinstance(v, float) and np.isnan(v) else v) for k, v in out.items()}


# --- classification ----------------------------------------------------------------------------------------

def accuracy(logits: torch.Tensor, labels: torch.Tensor) -> float:
    return float((logits.argmax(1) == labels).float().mean()) if len(labels) else float("nan")


def nll(logits: torch.Tensor, labels: torch.Tensor) -> float:
    import torch.nn.functional as F

    return float(F.cross_entropy(logits.float(), labels)) if len(labels) else float("nan")


def expected_calibration_error(probs: torch.Tensor, labels: torch.Tensor, bins: int = 15) -> float:
    import torch

    if not len(labels):
        return float("nan")
    conf, pred = probs.max(1)
    correct = (pred == labels).float()
    edges = torch.linspace(0, 1, bins + 1)
    ece = 0.0
    for lo, hi in zip(edges[:-1], edges[1:]):
        in_bin = (conf > lo) & (conf <= hi)
        if in_bin.any():
            ece += in_bin.float().mean().item() * abs(correct[in_bin].mean().item() - conf[in_bin].mean().item())
    return float(ece)


def classification_metrics(logits: torch.Tensor, labels: torch.Tensor) -> dict:
    import torch

    probs = torch.softmax(logits.float(), 1)
    return {"accuracy": accuracy(logits, labels), "nll": nll(logits, labels),
            "ece": expected_calibration_error(probs, labels), "n": int(len(labels))}


def probs_metrics(probs: torch.Tensor, labels: torch.Tensor) -> dict:
    """The same metrics from averaged probabilities (ensembles, Bayesian model averaging)."""
    import torch.nn.functional as F

    probs = probs.float().clamp_min(1e-12)
    return {"accuracy": float((probs.argmax(1) == labels).float().mean()),
            "nll": float(F.nll_loss(probs.log(), labels)),
            "ece": expected_calibration_error(probs, labels), "n": int(len(labels))}
