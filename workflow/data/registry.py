"""Dataset registry: ``name -> loader(raw_dir, options) -> ArraySet``.

Loaders for network datasets keep torchvision's real download (with its checksums) and, offline, raise
:class:`DatasetUnavailable` naming what was tried and where to place the files by hand.
"""

from __future__ import annotations

import gzip
import pickle
from pathlib import Path
from typing import Callable

import numpy as np

from ..errors import CorruptFile, DatasetUnavailable

DATASETS: dict[str, Callable] = {}


def register_dataset(name: str):
    def deco(fn):
        DATASETS[name] = fn
        return fn
    return deco


def available_datasets() -> list[str]:
    return sorted(DATASETS)


SYNTHETIC_PREFIX = "synthetic_"  # synthetic_<tag>: more generated datasets, each with its own options


def fetch_dataset(name: str, raw_dir, options: dict | None = None):
    if name not in DATASETS and name.startswith(SYNTHETIC_PREFIX) and len(name) > len(SYNTHETIC_PREFIX):
        return _synthetic(Path(raw_dir), options or {}, name=name)
    if name not in DATASETS:
        raise DatasetUnavailable(f"unknown dataset '{name}'; available: {', '.join(available_datasets())} "
                                 f"(and {SYNTHETIC_PREFIX}<tag>, generated like synthetic)")
    return DATASETS[name](Path(raw_dir), options or {})


# --- embedded: scikit-learn's digits --------------------------------------------------------------------------

@register_dataset("digits")
def _digits(raw_dir: Path, options: dict):
    """The 1,797 8x8 digits bundled with scikit-learn: no network. No official split exists, so a fixed
    stratified 80/20 split (random_state 0) is used and recorded in the manifest."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    from .store import ArraySet

    bunch = load_digits()
    x = bunch.images.astype(np.uint8)[:, None]  # values 0..16
    y = bunch.target.astype(np.int64)
    x_tr, x_te, y_tr, y_te = train_test_split(x, y, test_size=0.2, stratify=y, random_state=0)
    return ArraySet("digits", x_tr, y_tr, x_te, y_te, [str(c) for c in range(10)], pixel_max=16.0,
                    source={"origin": "sklearn.datasets.load_digits", "split": "stratified 80/20, random_state=0"})


# --- tiny generated data for unit tests ----------------------------------------------------------------------

@register_dataset("synthetic")
def _synthetic(raw_dir: Path, options: dict, name: str = "synthetic"):
    """Class-dependent blobs: learnable in a few steps, for tests and smoke runs. Options: ``classes`` (6),
    ``per_class`` training images (40), ``test_per_class`` (max(per_class // 4, 5)), ``channels`` (1), ``size``
    (8: size x size images), ``superclasses`` (0: none; k > 0 adds k coarse labels over contiguous class blocks,
    as CIFAR-100's, for ``grouping: superclasses``), ``seed`` (0). The defaults give the original 1x8x8 data
    bit for bit. Stand-ins of a real dataset's shape are named ``synthetic_<tag>`` (see :func:`fetch_dataset`)."""
    from .store import ArraySet

    n_classes = int(options.get("classes", 6))
    per_class = int(options.get("per_class", 40))
    test_per_class = int(options.get("test_per_class", max(per_class // 4, 5)))
    channels, size = int(options.get("channels", 1)), int(options.get("size", 8))
    n_coarse = int(options.get("superclasses", 0) or 0)
    if min(n_classes, per_class, test_per_class, channels, size) < 1 or not 0 <= n_coarse <= n_classes:
        raise DatasetUnavailable(f"dataset '{name}': options {options} need classes, per_class, test_per_class, "
                                 f"channels, size >= 1 and 0 <= superclasses <= classes")
    rng = np.random.default_rng(int(options.get("seed", 0)))
    protos = rng.uniform(0, 255, size=(n_classes, channels, size, size))

    def sample(n):
        y = np.repeat(np.arange(n_classes), n)
        x = protos[y] + rng.normal(0, 40, size=(len(y), channels, size, size))
        return np.clip(x, 0, 255).astype(np.uint8), y.astype(np.int64)

    x_tr, y_tr = sample(per_class)
    x_te, y_te = sample(test_per_class)
    coarse = {}
    if n_coarse:
        def to_coarse(y):
            return (y * n_coarse // n_classes).astype(np.int64)
        coarse = {"coarse_train": to_coarse(y_tr), "coarse_test": to_coarse(y_te),
                  "coarse_classes": [f"s{i}" for i in range(n_coarse)]}
    source = {"origin": "generated", "seed": int(options.get("seed", 0))}
    if (channels, size) != (1, 8) or n_coarse or "test_per_class" in options:
        source["options"] = {k: options[k] for k in sorted(options)}
    return ArraySet(name, x_tr, y_tr, x_te, y_te, [f"c{i}" for i in range(n_classes)], **coarse, source=source)


# --- Fashion-MNIST: local IDX files (e.g. Debian's dataset-fashion-mnist) or torchvision download -----------

FASHION_LOCAL_DIRS = ["/usr/share/datasets/fashion-mnist"]
FASHION_CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
                   "Ankle boot"]
IDX_FILES = {"x_train": "train-images-idx3-ubyte", "y_train": "train-labels-idx1-ubyte",
             "x_test": "t10k-images-idx3-ubyte", "y_test": "t10k-labels-idx1-ubyte"}


def read_idx(path: Path) -> np.ndarray:
    """Read an IDX file (optionally gzipped): magic (2 zero bytes, dtype code, ndim), big-endian dims, data."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as fh:
        raw = fh.read()
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08:
        raise CorruptFile(f"{path} is not an unsigned-byte IDX file")
    ndim = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim)]
    data = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim)
    if data.size != int(np.prod(dims)):
        raise CorruptFile(f"{path} is truncated: {data.size} bytes for shape {dims}")
    return data.reshape(dims)


def _find_idx(dirs: list[Path], stem: str) -> Path | None:
    for d in dirs:
        for candidate in (d / stem, d / f"{stem}.gz", d / "raw" / stem, d / "raw" / f"{stem}.gz"):
            if candidate.exists():
                return candidate
    return None


@register_dataset("fashion_mnist")
def _fashion_mnist(raw_dir: Path, options: dict):
    from .store import ArraySet

    dirs = [Path(p) for p in options.get("local_dirs", [])] + [Path(p) for p in FASHION_LOCAL_DIRS]
    dirs += [raw_dir / "FashionMNIST"]
    found = {k: _find_idx(dirs, stem) for k, stem in IDX_FILES.items()}
    origin = "local IDX files"
    if not all(found.values()):
        origin = "torchvision download"
        try:
            from torchvision.datasets import FashionMNIST
            FashionMNIST(str(raw_dir), train=True, download=True)
            FashionMNIST(str(raw_dir), train=False, download=True)
        except Exception as exc:
            raise DatasetUnavailable(
                f"dataset 'fashion_mnist' is unavailable: no local IDX files in {', '.join(map(str, dirs))} and "
                f"torchvision's download from {FashionMNIST.mirrors[0]} failed ({exc}). Either install Debian's "
                f"'dataset-fashion-mnist' package, or copy the four files {', '.join(IDX_FILES.values())} "
                f"(optionally .gz) into {raw_dir / 'FashionMNIST' / 'raw'}, then rerun.") from exc
        found = {k: _find_idx(dirs, stem) for k, stem in IDX_FILES.items()}
    arrays = {k: read_idx(p) for k, p in found.items()}
    return ArraySet("fashion_mnist", arrays["x_train"][:, None], arrays["y_train"].astype(np.int64),
                    arrays["x_test"][:, None], arrays["y_test"].astype(np.int64), FASHION_CLASSES,
                    source={"origin": origin, "files": {k: str(p) for k, p in found.items()}})


# --- CIFAR-10 / CIFAR-100 (with the 20 superclasses) through torchvision -------------------------------------

def _torchvision_cifar(cls, raw_dir: Path, name: str):
    try:
        cls(str(raw_dir), train=True, download=True)
        cls(str(raw_dir), train=False, download=True)
    except Exception as exc:
        raise DatasetUnavailable(
            f"dataset '{name}' is unavailable: torchvision's download from {cls.url} failed ({exc}). "
            f"Download {cls.filename} (md5 {cls.tgz_md5}) by hand and place it in {raw_dir}, then rerun.") from exc


def _unpickle(path: Path) -> dict:
    with open(path, "rb") as fh:
        return pickle.load(fh, encoding="latin1")


@register_dataset("cifar10")
def _cifar10(raw_dir: Path, options: dict):
    from torchvision.datasets import CIFAR10

    from .store import ArraySet

    _torchvision_cifar(CIFAR10, raw_dir, "cifar10")
    base = raw_dir / CIFAR10.base_folder
    train = [_unpickle(base / f"data_batch_{i}") for i in range(1, 6)]
    test = _unpickle(base / "test_batch")
    meta = _unpickle(base / "batches.meta")
    x_tr = np.concatenate([b["data"] for b in train]).reshape(-1, 3, 32, 32)
    y_tr = np.concatenate([b["labels"] for b in train]).astype(np.int64)
    return ArraySet("cifar10", x_tr, y_tr, test["data"].reshape(-1, 3, 32, 32),
                    np.asarray(test["labels"], dtype=np.int64), meta["label_names"],
                    source={"origin": CIFAR10.url, "md5": CIFAR10.tgz_md5})


@register_dataset("cifar100")
def _cifar100(raw_dir: Path, options: dict):
    from torchvision.datasets import CIFAR100

    from .store import ArraySet

    _torchvision_cifar(CIFAR100, raw_dir, "cifar100")
    base = raw_dir / CIFAR100.base_folder
    train, test, meta = _unpickle(base / "train"), _unpickle(base / "test"), _unpickle(base / "meta")
    return ArraySet("cifar100", train["data"].reshape(-1, 3, 32, 32), np.asarray(train["fine_labels"], np.int64),
                    test["data"].reshape(-1, 3, 32, 32), np.asarray(test["fine_labels"], np.int64),
                    meta["fine_label_names"], coarse_train=np.asarray(train["coarse_labels"], np.int64),
                    coarse_test=np.asarray(test["coarse_labels"], np.int64),
                    coarse_classes=meta["coarse_label_names"],
                    source={"origin": CIFAR100.url, "md5": CIFAR100.tgz_md5})


# --- Oxford-IIIT Pets and Oxford Flowers 102 (the prior method's paper scale) through torchvision -----------

def _torchvision_folder(cls, raw_dir: Path, name: str, splits: tuple[str, str], options: dict):
    """Images resized (shorter side) and centre-cropped to ``image_size`` (option, default 160), stored uint8."""
    from torchvision.transforms import CenterCrop, Compose, Resize

    from .store import ArraySet

    size = int(options.get("image_size", 160))
    try:
        parts = [cls(str(raw_dir), split=split, download=True) for split in splits]
    except Exception as exc:  # offline, or a failed checksum
        raise DatasetUnavailable(
            f"dataset '{name}' is unavailable: torchvision's {cls.__name__} download failed ({exc}). Place the "
            f"extracted files under {raw_dir}/ as torchvision expects them and rerun.") from exc
    prep = Compose([Resize(size), CenterCrop(size)])
    arrays = []
    for part in parts:
        xs = [np.asarray(prep(image.convert("RGB")), dtype=np.uint8).transpose(2, 0, 1) for image, _ in part]
        arrays += [np.stack(xs), np.asarray([int(label) for _, label in part], dtype=np.int64)]
    classes = list(getattr(parts[0], "classes", [str(c) for c in range(int(arrays[1].max()) + 1)]))
    return ArraySet(name, *arrays, classes,
                    source={"origin": f"torchvision.datasets.{cls.__name__}", "splits": list(splits),
                            "image_size": size})


@register_dataset("oxford_pets")
def _oxford_pets(raw_dir: Path, options: dict):
    """Oxford-IIIT Pets, 37 breeds: trainval for training, test for testing (as the original)."""
    from torchvision.datasets import OxfordIIITPet

    return _torchvision_folder(OxfordIIITPet, raw_dir, "oxford_pets", ("trainval", "test"), options)


@register_dataset("flowers102")
def _flowers102(raw_dir: Path, options: dict):
    """Oxford Flowers 102: train for training, test for testing (validation held out by the suite)."""
    from torchvision.datasets import Flowers102

    return _torchvision_folder(Flowers102, raw_dir, "flowers102", ("train", "test"), options)
