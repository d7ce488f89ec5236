"""Gradual magnitude pruning of one task's weights (Zhu & Gupta's cubic schedule), and the capacity reservation.

Within one pruning run from sparsity s_i to s_f, at training iteration t (counted from 0)

    p(t) = clip((t - t0) / (t1 - t0), 0, 1)
    s(t) = s_f + (s_i - s_f) * (1 - p(t))^3

so s(t0) = s_i, s(t1) = s_f and s at the midpoint = s_f + (s_i - s_f) / 8. The ownership masks are updated every
``frequency`` iterations while t0 <= t <= t1 (and at t1), then the run fine-tunes with the mask fixed.

Sparsity of a layer for task k is measured over its candidates, the entries owned by k or free (owner in {k, 0}):
sparsity = #free candidates / #candidates. A mask update to sparsity s frees the round(s * n) candidates of
smallest magnitude (free entries count as smallest), so only task k's weights are ever pruned.
"""

from __future__ import annotations

import torch


def cubic_sparsity(t: int, s_initial: float, s_final: float, t0: int, t1: int) -> float:
    """s(t) of the cubic schedule (see module docstring); a zero-length ramp jumps straight to ``s_final``."""
    if t1 <= t0:
        return s_final if t >= t0 else s_initial
    p = min(max((t - t0) / (t1 - t0), 0.0), 1.0)
    return s_final + (s_initial - s_final) * (1.0 - p) ** 3


def candidates(owner: torch.Tensor, task: int) -> torch.Tensor:
    return (owner == task) | (owner == 0)


def layer_sparsity(owner: torch.Tensor, task: int) -> float:
    cand = candidates(owner, task)
    n = int(cand.sum())
    return float((owner[cand] == 0).sum()) / n if n else 0.0


@torch.no_grad()
def prune_layer(owner: torch.Tensor, weight: torch.Tensor, task: int, sparsity: float) -> int:
    """Free the smallest-magnitude candidates of task ``task`` until ``round(sparsity * n)`` are free; returns the
    number of entries newly freed. Owner values other than ``task`` are never touched (monotonic: k -> 0 only)."""
    cand = candidates(owner, task).flatten()
    n = int(cand.sum())
    target = int(round(sparsity * n))
    if n == 0 or target == 0:
        return 0
    flat_owner = owner.view(-1)
    # Free entries sort first (-1), then owned weights by |W|; a stable sort keeps ties in index order.
    magnitude = torch.where(flat_owner == task, weight.detach().abs().flatten().float(),
                            torch.full_like(weight.flatten(), -1.0, dtype=torch.float32))
    idx = cand.nonzero().squeeze(1)
    order = torch.sort(magnitude[idx], stable=True).indices
    chosen = idx[order[:target]]
    newly = chosen[flat_owner[chosen] == task]
    flat_owner[newly] = 0
    return int(len(newly))


def reserve_ratio(remaining_tasks: int) -> float:
    """The sparsity a task must reach when it missed its goal at maximum width: keep about 1/(R+1) of its weights
    for itself and free the rest for the R remaining tasks, must = 1 - round(1/(R+1), 1) (as the original)."""
    return 1.0 - round(1.0 / (remaining_tasks + 1), 1)
