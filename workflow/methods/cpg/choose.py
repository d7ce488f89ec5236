"""Decisions between stages, as pure functions of small records (no torch): the finetune status (go on, grow,
or capped at maximum width) and the choice of a pruning level."""

from __future__ import annotations

EPS = 1e-9  # accuracies are float32 fractions; compare with a hair of slack

OK, GROW, CAPPED = "ok", "grow", "capped"


ABSOLUTE, RELATIVE = "absolute", "relative"


def goal_met(train_accuracy: float, val_accuracy: float, goal: float, train_gate: float,
             collapse_gate: str = ABSOLUTE) -> bool:
    """The original asks a finetuned network for training accuracy >= ``train_gate`` (0.95) as well as the goal.
    With the ``relative`` gate that training threshold has no reference yet (it is relative to this very run), so
    only the goal, itself an accuracy the task has shown it can reach, decides."""
    trained = collapse_gate == RELATIVE or train_accuracy + EPS >= train_gate
    return trained and val_accuracy + EPS >= goal


def collapsed(train_accuracy: float, unpruned_train_accuracy: float, train_gate: float,
              collapse_gate: str = ABSOLUTE) -> bool:
    """Whether a pruning level collapsed. ``absolute`` (the original): training accuracy below ``train_gate``,
    which a hard task (Fashion-MNIST's coat vs shirt trains to ~0.93) misses before any pruning, so every level
    of it reads as collapsed. ``relative``: below ``train_gate`` x the task's own unpruned training accuracy."""
    threshold = train_gate * unpruned_train_accuracy if collapse_gate == RELATIVE else train_gate
    return train_accuracy + EPS < threshold


def finetune_status(train_accuracy: float, val_accuracy: float, goal: float, *, train_gate: float,
                    multiplier: float, max_multiplier: float, collapse_gate: str = ABSOLUTE) -> str:
    """``ok`` when the goal is met; otherwise ``grow`` below the maximum width, else ``capped``."""
    if goal_met(train_accuracy, val_accuracy, goal, train_gate, collapse_gate):
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
