"""Shared by the benchmark scripts: timing and writing a CSV plus a bar chart into benchmarks/."""

from __future__ import annotations

import platform
import time
from pathlib import Path

import pandas as pd
import torch

HERE = Path(__file__).resolve().parent


def best_of(fn, repeats: int = 3) -> float:
    """Fastest wall time of ``repeats`` calls (the least disturbed by other processes)."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def machine() -> str:
    return f"{platform.processor() or platform.machine()}, torch {torch.__version__}, {torch.get_num_threads()} thread(s)"


def write(name: str, frame: pd.DataFrame, value: str, label: str, title: str) -> Path:
    """Write benchmarks/<name>.csv and a bar chart benchmarks/<name>.png of column ``value`` by ``label``."""
    from workflow.plots.common import new_figure, save_figure

    frame = frame.assign(machine=machine())
    frame.to_csv(HERE / f"{name}.csv", index=False)
    fig, ax = new_figure(5, 3)
    ax.bar(frame[label].astype(str), frame[value])
    for i, v in enumerate(frame[value]):
        ax.text(i, v, f"{v:.3g}", ha="center", va="bottom", fontsize=8)
    ax.set_ylabel(value)
    ax.set_title(title, fontsize=9)
    save_figure(fig, HERE / f"{name}.png")
    return HERE / f"{name}.csv"
