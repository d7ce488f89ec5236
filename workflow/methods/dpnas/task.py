"""The data DP-NAS runs on: one task holding every class of ``dpnas.dataset``, with a held-out validation split
(the original splits its training set 90/10 at random; here through the shared suite builder, seeded)."""

from __future__ import annotations

from ...data import build_suite, load_arrays
from .space import SearchSpace


def suite_spec(params: dict, n_classes: int) -> dict:
    return {"dataset": params["dataset"], "grouping": "classes", "tasks": 1,
            "class_groups": [list(range(n_classes))], "class_order_seed": 0,
            "val_fraction": params.get("val_fraction", 0.1), "train_per_class": params.get("train_per_class")}


def load_task(data_dir, params: dict):
    data = load_arrays(data_dir)
    return build_suite(suite_spec(params, len(data.classes)), data)[0]


def search_space(params: dict, task) -> SearchSpace:
    _, channels, height, _ = task.train.x.shape
    return SearchSpace.from_config(params.get("space", {}), image_size=height, in_channels=channels,
                                   classes=task.num_classes)
