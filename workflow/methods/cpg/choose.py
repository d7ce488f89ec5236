"""Decisions between stages, as pure functions of small records (no torch): the finetune status (go on, grow,
or capped at maximum width) and the choice of a pruning level."""

from __future__ import annotations

EPS = 1e-9  # accuracies are float32 fractions; compare with a hair of slack

OK, GROW, CAPPED = "ok", "grow", "capped"


def goal_met(train_accuracy: float, val_accuracy: float, goal: float, train_gate: float) -> bool:
    return train_accuracy + EPS >= train_gate and val_accuracy + EPS >= goal


def finetune_status(train_accuracy: float, val_accuracy: float, goal: float, *, train_gate: float,
                    multiplier: float, max_multiplier: float) -> str:
    """``ok`` when the goal is met; otherwise ``grow`` below the maximum width, else ``capped``."""
    if goal_met(train_accuracy, val_accuracy, goal, train_gate):
        return OK
    return GROW if multiplier + EPS < max_multiplier else CAPPED


def next_multiplier(multiplier: float, step: float, max_multiplier: float) -> float:
    return min(multiplier + step, max_multiplier)


def choose_sparsity(records: list[dict], goal: float, allowed_loss: float, *, mode: str = "goal",
                    capped: bool = False) -> float:
    """The pruning level to keep.

    ``records``: one dict per level run (``sparsity``, ``val_accuracy``, ``collapsed``), level 0.0 being the
    unpruned finetune. ``goal`` mode: the largest sparsity with val_accuracy + allowed_loss >= goal, else 0.0; when
    ``capped`` (goal unmet at maximum width, the sweep stopped at the reserve ratio) or in ``fixed`` mode (PackNet's
    fixed ratio): the largest level that did not collapse.
    """
    valid = [r for r in records if not r.get("collapsed", False)]
    if not valid:
        return 0.0
    if mode == "fixed" or capped:
        return max(r["sparsity"] for r in valid)
    for r in sorted(valid, key=lambda r: r["sparsity"], reverse=True):
        if r["val_accuracy"] + allowed_loss + EPS >= goal:
            return r["sparsity"]
    return 0.0
