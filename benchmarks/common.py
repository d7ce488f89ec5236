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


def machine_speed(steps: int = 60) -> float:
    """A fixed reference workload, in seconds: ``steps`` SGD steps of a 16-32-64-channel CNN on 64 random 28x28
    images with 1 torch thread (best of 3). Budgets divide wall times by it, so two machines' budgets compare."""
    from torch import nn

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        gen = torch.Generator().manual_seed(0)
        x, y = torch.randn(64, 1, 28, 28, generator=gen), torch.randint(0, 10, (64,), generator=gen)
        net = nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                            nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                            nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                            nn.Linear(64, 10))
        opt = torch.optim.SGD(net.parameters(), lr=0.01)

        def run():
            for _ in range(steps):
                opt.zero_grad()
                nn.functional.cross_entropy(net(x), y).backward()
                opt.step()

        run()  # warm-up
        return best_of(run)
    finally:
        torch.set_num_threads(threads)


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
