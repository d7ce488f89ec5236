"""Helpers every method shares: loading a suite from the config, evaluating tasks, writing the result contract."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from .. import metrics
from ..io import write_csv
from ..provenance import write_summary


def load_suite(data_dir, suite_spec: dict):
    """The tasks of a suite, from the dataset folder written by the ``download`` rule."""
    from ..data import build_suite, load_arrays  # torch: only jobs that train pay for its import

    return build_suite(suite_spec, load_arrays(data_dir))


def write_continual_results(out_dir, r: np.ndarray, extra_summary: dict | None = None, reference=None, *,
                            params=None, device=None) -> dict:
    """Write ``accuracy.csv`` (long R) and ``summary.json`` (metrics of R + ``extra_summary`` + provenance of
    ``params``, the job's config section, and ``device``) into ``out_dir``."""
    out_dir = Path(out_dir)
    write_csv(out_dir / "accuracy.csv", metrics.accuracy_frame(r))
    summary = metrics.summarize(r, reference=reference)
    summary.update(extra_summary or {})
    return write_summary(out_dir / "summary.json", summary, params=params, device=device)


def read_accuracy(path) -> pd.DataFrame:
    frame = pd.read_csv(path)
    missing = set(metrics.ACCURACY_COLUMNS) - set(frame.columns)
    if missing:
        raise ValueError(f"{path} lacks columns {sorted(missing)}")
    return frame


def method_of(path) -> str:
    """The method whose results hold ``path``: the folder after ``results/`` (results/<method>/<suite>/seed<S>/...)."""
    parts = Path(path).parts
    if "results" not in parts or parts.index("results") + 1 >= len(parts):
        raise ValueError(f"{path} is not under results/<method>/: a comparison figure labels a table by its method")
    return parts[parts.index("results") + 1]


def tables_by_method(paths, read=read_accuracy) -> dict[str, list[pd.DataFrame]]:
    """The tables at ``paths`` grouped by their method (:func:`method_of`), methods in the order they first appear:
    what a comparison figure draws, one group per method, its seeds averaged."""
    tables: dict[str, list[pd.DataFrame]] = {}
    for path in paths:
        tables.setdefault(method_of(path), []).append(read(path))
    return tables
