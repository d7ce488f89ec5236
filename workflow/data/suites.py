"""Task suites: a dataset cut into tasks of disjoint classes, each with train / validation / test splits.

A suite spec (``config['suites'][name]``) says how:

- ``grouping: classes``: shuffle the class ids with ``class_order_seed`` (null keeps 0..C-1), then cut them into
  ``tasks`` groups of ``classes_per_task``; or give ``class_groups`` explicitly (a list of lists of class ids).
- ``grouping: superclasses``: one task per superclass (CIFAR-100's 20 coarse labels), its fine classes in id order;
  ``class_order_seed`` shuffles the task order.

Labels are remapped to 0..k-1 inside each task in the order of the task's class list. The validation split is
held out of the training data per class (the original papers tuned on the test set; we do not). The class order
and the validation split depend only on ``class_order_seed``, never on the training seed.

``image_share: {part: i, parts: k, seed: s}`` keeps only share i of k disjoint, class-stratified shares of the
training images (chosen by seed s) before anything else: two suites on one dataset with the same k and s and
different i never see the same training image, so a source pool may cover a target's classes without leaking
the target's images (the prior's default source, as ImageNet covers Pets). The test split is never cut.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import torch

from ..errors import UserError
from .store import ArraySet


@dataclass
class Split:
    x: torch.Tensor  # float32 (N, C, H, W), normalised
    y: torch.Tensor  # int64 labels in 0..k-1

    def __len__(self) -> int:
        return len(self.y)


@dataclass
class Task:
    index: int
    name: str
    classes: list[int]  # original class ids, in label order
    train: Split
    val: Split
    test: Split

    @property
    def num_classes(self) -> int:
        return len(self.classes)


def class_groups(spec: dict, data: ArraySet) -> list[list[int]]:
    """The classes of each task, in task order."""
    n_classes = len(data.classes)
    rng = np.random.default_rng(spec.get("class_order_seed"))
    if spec.get("grouping", "classes") == "superclasses":
        if data.coarse_train is None:
            raise UserError(f"suite grouping 'superclasses' needs a dataset with superclasses (cifar100), "
                            f"not '{data.name}'")
        pairs = set(zip(data.coarse_train.tolist(), data.y_train.tolist()))
        groups = [sorted(f for c, f in pairs if c == coarse) for coarse in sorted({c for c, _ in pairs})]
        order = rng.permutation(len(groups)) if spec.get("class_order_seed") is not None else range(len(groups))
        groups = [groups[i] for i in order]
        return groups[: spec.get("tasks") or len(groups)]
    if spec.get("class_groups"):
        groups = [list(map(int, g)) for g in spec["class_groups"]]
    else:
        order = (rng.permutation(n_classes) if spec.get("class_order_seed") is not None
                 else np.arange(n_classes)).tolist()
        k, t = spec["classes_per_task"], spec["tasks"]
        if k * t > n_classes:
            raise UserError(f"suite asks for {t} tasks x {k} classes but dataset '{data.name}' has {n_classes} "
                            f"classes; lower 'tasks' or 'classes_per_task'")
        groups = [order[i * k:(i + 1) * k] for i in range(t)]
    flat = [c for g in groups for c in g]
    if len(set(flat)) != len(flat) or not all(0 <= c < n_classes for c in flat):
        raise UserError(f"suite class groups {groups} must be disjoint class ids in 0..{n_classes - 1}")
    return groups


def share_indices(y: np.ndarray, part: int, parts: int, seed: int) -> np.ndarray:
    """Sorted indices of share ``part`` of ``parts`` disjoint shares of ``y``: each class's indices permuted
    with ``seed`` and cut into ``parts`` near-equal runs, so every share holds about 1/parts of every class."""
    if not 0 <= part < parts:
        raise UserError(f"suite image_share: part {part} is not in 0..{parts - 1}; set part below parts")
    rng = np.random.default_rng(seed)
    keep = []
    for c in np.unique(y):
        idx = np.flatnonzero(y == c)
        keep.append(np.array_split(idx[rng.permutation(len(idx))], parts)[part])
    return np.sort(np.concatenate(keep))


def image_share(spec: dict, data: ArraySet) -> ArraySet:
    """``data`` with only the suite's share of the training images (all of them without ``image_share``)."""
    share = spec.get("image_share")
    if not share:
        return data
    idx = share_indices(data.y_train, int(share["part"]), int(share["parts"]), int(share.get("seed", 0)))
    coarse = data.coarse_train[idx] if data.coarse_train is not None else None
    return replace(data, x_train=data.x_train[idx], y_train=data.y_train[idx], coarse_train=coarse)


def normalisation(data: ArraySet) -> tuple[np.ndarray, np.ndarray]:
    """Per-channel mean and std of the whole training set, in [0, 1] units."""
    x = data.x_train.astype(np.float32) / data.pixel_max
    mean = x.mean(axis=(0, 2, 3))
    std = x.std(axis=(0, 2, 3)) + 1e-6
    return mean, std


def build_suite(spec: dict, data: ArraySet) -> list[Task]:
    mean, std = normalisation(data)  # of the whole training set: every share normalised alike
    data = image_share(spec, data)
    groups = class_groups(spec, data)
    rng = np.random.default_rng(spec.get("class_order_seed", 0) or 0)
    val_fraction = float(spec.get("val_fraction", 0.1))
    per_class = spec.get("train_per_class")

    def to_tensor(x):
        x = (x.astype(np.float32) / data.pixel_max - mean[None, :, None, None]) / std[None, :, None, None]
        return torch.from_numpy(np.ascontiguousarray(x))

    tasks = []
    for t, classes in enumerate(groups):
        relabel = {c: i for i, c in enumerate(classes)}
        train_idx, val_idx = [], []
        for c in classes:
            idx = np.flatnonzero(data.y_train == c)
            idx = idx[rng.permutation(len(idx))]
            n_val = max(1, int(round(val_fraction * len(idx)))) if val_fraction > 0 else 0
            val_idx.append(idx[:n_val])
            rest = idx[n_val:]
            train_idx.append(rest[:per_class] if per_class else rest)
        train_idx, val_idx = np.sort(np.concatenate(train_idx)), np.sort(np.concatenate(val_idx))
        test_idx = np.flatnonzero(np.isin(data.y_test, classes))

        def split(x, y, idx):
            labels = np.asarray([relabel[int(v)] for v in y[idx]], dtype=np.int64)
            return Split(to_tensor(x[idx]), torch.from_numpy(labels))

        name = "-".join(str(c) for c in classes) if len(classes) <= 5 else f"task{t}"
        if spec.get("grouping") == "superclasses" and data.coarse_classes:
            coarse = int(data.coarse_train[np.flatnonzero(data.y_train == classes[0])[0]])
            name = data.coarse_classes[coarse]
        tasks.append(Task(t, name, list(classes), split(data.x_train, data.y_train, train_idx),
                          split(data.x_train, data.y_train, val_idx), split(data.x_test, data.y_test, test_idx)))
    return tasks
