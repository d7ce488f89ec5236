"""Registry entries for the paper's downstream datasets (Oxford-IIIT Pets, Oxford Flowers 102), through torchvision.

They live here, not in workflow/data, until the shared registry adopts them (the proposed diff is in
report/prior_method.rst): importing this module registers them, and the rule ``prior_download`` (which imports
it) writes them in the shared on-disk format, resources/data/<name>/{arrays.npz,manifest.json}. Images are
resized (shorter side) and centre-cropped to ``image_size`` (option, default 160) and stored as uint8.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ...data.registry import DATASETS, register_dataset
from ...data.store import ArraySet
from ...errors import DatasetUnavailable

PAPER_DATASETS = ("oxford_pets", "flowers102")


def _to_arrays(dataset, size: int) -> tuple[np.ndarray, np.ndarray]:
    from torchvision.transforms import CenterCrop, Compose, Resize

    prep = Compose([Resize(size), CenterCrop(size)])
    xs, ys = [], []
    for image, label in dataset:
        xs.append(np.asarray(prep(image.convert("RGB")), dtype=np.uint8).transpose(2, 0, 1))
        ys.append(int(label))
    return np.stack(xs), np.asarray(ys, dtype=np.int64)


def _torchvision(cls, raw_dir: Path, name: str, splits: tuple[str, str], options: dict) -> ArraySet:
    size = int(options.get("image_size", 160))
    try:
        train = cls(raw_dir, split=splits[0], download=True)
        test = cls(raw_dir, split=splits[1], download=True)
    except Exception as exc:  # offline, or a failed checksum
        raise DatasetUnavailable(
            f"dataset '{name}' is unavailable: torchvision's {cls.__name__} download failed ({exc}). Place the "
            f"extracted files under {raw_dir}/ as torchvision expects them and rerun.") from exc
    x_tr, y_tr = _to_arrays(train, size)
    x_te, y_te = _to_arrays(test, size)
    classes = list(getattr(train, "classes", [str(c) for c in range(int(y_tr.max()) + 1)]))
    return ArraySet(name, x_tr, y_tr, x_te, y_te, classes,
                    source={"origin": f"torchvision.datasets.{cls.__name__}", "splits": list(splits),
                            "image_size": size})


def _oxford_pets(raw_dir: Path, options: dict) -> ArraySet:
    """Oxford-IIIT Pets, 37 breeds: trainval for training, test for testing (as the original)."""
    from torchvision.datasets import OxfordIIITPet

    return _torchvision(OxfordIIITPet, raw_dir, "oxford_pets", ("trainval", "test"), options)


def _flowers102(raw_dir: Path, options: dict) -> ArraySet:
    """Oxford Flowers 102: train for training, test for testing (validation held out by the suite)."""
    from torchvision.datasets import Flowers102

    return _torchvision(Flowers102, raw_dir, "flowers102", ("train", "test"), options)


for _name, _loader in (("oxford_pets", _oxford_pets), ("flowers102", _flowers102)):
    if _name not in DATASETS:  # the shared registry may adopt them later
        register_dataset(_name)(_loader)
