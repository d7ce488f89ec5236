"""On-disk form of a dataset: ``arrays.npz`` plus ``manifest.json`` holding its sha256 and provenance.

Images are stored as uint8 (N, C, H, W) with ``pixel_max`` in the manifest; labels as int64. Optional
``coarse_train``/``coarse_test`` hold superclass labels (CIFAR-100).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import CorruptFile, UserError
from ..io import read_json, sha256_file, write_json

ARRAYS = "arrays.npz"
MANIFEST = "manifest.json"


@dataclass
class ArraySet:
    """A dataset in memory: train and test images, labels and class names."""

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    classes: list[str]
    pixel_max: float = 255.0
    coarse_train: np.ndarray | None = None
    coarse_test: np.ndarray | None = None
    coarse_classes: list[str] | None = None
    source: dict = field(default_factory=dict)

    @property
    def image_shape(self) -> tuple[int, int, int]:
        return tuple(self.x_train.shape[1:])


def save_arrays(folder, data: ArraySet) -> Path:
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    arrays = {"x_train": data.x_train, "y_train": data.y_train, "x_test": data.x_test, "y_test": data.y_test}
    if data.coarse_train is not None:
        arrays.update(coarse_train=data.coarse_train, coarse_test=data.coarse_test)
    tmp = folder / f".{ARRAYS}.tmp.npz"
    np.savez(tmp, **arrays)
    tmp.replace(folder / ARRAYS)
    manifest = {
        "name": data.name,
        "files": {ARRAYS: sha256_file(folder / ARRAYS)},
        "n_train": int(len(data.y_train)),
        "n_test": int(len(data.y_test)),
        "image_shape": list(data.image_shape),
        "pixel_max": data.pixel_max,
        "classes": list(data.classes),
        "coarse_classes": data.coarse_classes,
        "source": data.source,
    }
    write_json(folder / MANIFEST, manifest)
    return folder


def load_arrays(folder, verify: bool = True) -> ArraySet:
    """Load a dataset written by :func:`save_arrays`; a changed or truncated file fails its checksum."""
    folder = Path(folder)
    if not (folder / MANIFEST).exists() or not (folder / ARRAYS).exists():
        raise UserError(f"dataset folder {folder} is incomplete (no {MANIFEST} or {ARRAYS}); "
                        f"run `snakemake {folder / MANIFEST}` to (re)create it.")
    manifest = read_json(folder / MANIFEST)
    if verify:
        actual = sha256_file(folder / ARRAYS)
        if actual != manifest["files"][ARRAYS]:
            raise CorruptFile(f"{folder / ARRAYS} fails its checksum (manifest says "
                              f"{manifest['files'][ARRAYS][:12]}..., file is {actual[:12]}...). Delete the folder "
                              f"{folder} and rerun snakemake to recreate it.")
    try:
        with np.load(folder / ARRAYS) as npz:
            arrays = {k: npz[k] for k in npz.files}
    except Exception as exc:
        raise CorruptFile(f"cannot read {folder / ARRAYS} ({exc}); delete {folder} and rerun snakemake.") from exc
    return ArraySet(name=manifest["name"], classes=manifest["classes"], pixel_max=manifest["pixel_max"],
                    coarse_classes=manifest.get("coarse_classes"), source=manifest.get("source", {}),
                    coarse_train=arrays.get("coarse_train"), coarse_test=arrays.get("coarse_test"),
                    x_train=arrays["x_train"], y_train=arrays["y_train"],
                    x_test=arrays["x_test"], y_test=arrays["y_test"])
