"""Seeds, RNG state capture and device choice. Same config + same seed gives the same numbers on the CPU."""

from __future__ import annotations

import os
import random

import numpy as np
import torch

from ..errors import UserError


def seed_everything(seed: int, deterministic: bool = True, threads: int | None = 1) -> None:
    """Seed python, numpy and torch; ask torch for deterministic kernels.

    The intra-op thread count is fixed (default 1) because float reductions split across a different number of
    threads can round differently: results must not depend on ``--cores``.
    """
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    if threads:
        torch.set_num_threads(threads)
    if deterministic:
        torch.use_deterministic_algorithms(True, warn_only=True)
        torch.backends.cudnn.benchmark = False


def rng_state() -> dict:
    state = {"python": random.getstate(), "numpy": np.random.get_state(), "torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict) -> None:
    random.setstate(state["python"])
    np.random.set_state(state["numpy"])
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def resolve_device(name: str = "auto") -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise UserError(f"config asks for device '{name}' but no CUDA device is visible; set compute.device to "
                        f"'cpu' or 'auto'")
    return torch.device(name)
