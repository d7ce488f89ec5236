"""The method's config section (``cpg`` or ``packnet``), checked beyond the schema, and the accuracy goals."""

from __future__ import annotations

from ...errors import UserError

CHOOSE_MODES = ("goal", "fixed")


def check_params(params: dict, section: str = "cpg") -> dict:
    """Raise a :class:`UserError` naming the key and the fix for settings the schema cannot express. A stage
    receives only the keys it reads (rules: stage_params): the checks of keys it did not receive are skipped."""
    if "prune" in params:
        levels = params["prune"]["levels"]
        if any(not 0 < s < 1 for s in levels) or list(levels) != sorted(set(levels)):
            raise UserError(f"config key '{section}.prune.levels': {levels} must be strictly increasing sparsities "
                            f"between 0 and 1, e.g. [0.1, 0.2, ..., 0.9, 0.95]")
        if params["prune"]["ramp_epochs"] > params["prune"]["train"]["epochs"]:
            raise UserError(f"config key '{section}.prune.ramp_epochs' ({params['prune']['ramp_epochs']}) exceeds "
                            f"'{section}.prune.train.epochs' ({params['prune']['train']['epochs']}): the ramp must "
                            f"fit inside each pruning run")
    if "growth" in params and params["growth"]["max_multiplier"] < 1.0:
        raise UserError(f"config key '{section}.growth.max_multiplier' must be at least 1.0 (no growth), not "
                        f"{params['growth']['max_multiplier']}")
    if "choose_by" in params and params["choose_by"] not in CHOOSE_MODES:
        raise UserError(f"config key '{section}.choose_by' must be one of {CHOOSE_MODES}")
    return params


def read_goal(goals: dict, task_index: int, path="baseline_acc.json") -> float:
    """Task ``task_index``'s goal: the independent baseline's validation accuracy (the original used test
    accuracy; we hold the test split out of every decision)."""
    if goals.get("goal_metric") != "val_accuracy":
        raise UserError(f"{path} gives goals as '{goals.get('goal_metric')}', expected 'val_accuracy': rerun "
                        f"the baseline_collect rule")
    for entry in goals["tasks"]:
        if entry["task"] == task_index:
            return float(entry["val_accuracy"])
    raise UserError(f"{path} has no goal for task {task_index}: the baseline and CPG must run on the same suite")
