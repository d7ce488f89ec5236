"""Datasets (a registry of loaders that write checksummed arrays) and task suites built from them."""

from .registry import DATASETS, available_datasets, fetch_dataset
from .store import ArraySet, load_arrays, save_arrays
from .suites import Split, Task, build_suite

__all__ = ["DATASETS", "available_datasets", "fetch_dataset", "ArraySet", "load_arrays", "save_arrays",
           "Split", "Task", "build_suite"]
