"""Seeds, RNG state capture and device choice. Same config + same seed gives the same numbers on the CPU."""

from __future__ import annotations

import os
import random

import numpy as np
import torch

from ..errors import UserError


def seed_everything(seed: int, deterministic: bool = True, threads: int | None = 1) -> None:
    """Seed python, numpy and torch; ask torch for deterministic kernels.

    The intra-op thread count is fixed (``threads``, default 1; None keeps the current setting) because float
    reductions split across a different number of threads can round differently: results must not depend on
    ``--cores``. A job passes its ``compute.threads`` (the cores its rule reserves), so that every stage seeding
    itself keeps that count instead of falling back to 1.
    """
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    set_threads(threads)
    if deterministic:
        deterministic_kernels()
        torch.backends.cudnn.benchmark = False


def deterministic_kernels() -> None:
    """Ask torch for deterministic kernels (a warning where an op has none), as
    ``torch.use_deterministic_algorithms(True, warn_only=True)`` does, without that function's other effect: it
    also sets torch.compile's (inductor's) flag, and importing the compiler for it costs 1.2 s of CPU (torch 2.14,
    measured on a 2-core machine), for a compiler this project never calls: a job that seeds and only evaluates
    saves it (one that steps a torch optimizer imports that stack anyway). The public function where torch lacks
    the kernel flag's own setter."""
    setter = getattr(torch._C, "_set_deterministic_algorithms", None)
    if setter is None:
        torch.use_deterministic_algorithms(True, warn_only=True)
    else:
        setter(True, warn_only=True)


def set_threads(threads: int | None) -> None:
    """Fix torch's intra-op thread count to ``threads`` (a job's ``compute.threads``, the cores its rule reserves);
    None or 0 keeps the current setting."""
    if threads:
        torch.set_num_threads(int(threads))


def rng_state() -> dict:
    """Every RNG's state as plain data (tensors, lists, numbers), so a checkpoint loads with weights_only=True."""
    name, key, pos, has_gauss, gauss = np.random.get_state()
    numpy_state = [str(name), key.tolist(), int(pos), int(has_gauss), float(gauss)]
    state = {"python": random.getstate(), "numpy": numpy_state, "torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict) -> None:
    random.setstate(state["python"])
    name, key, pos, has_gauss, gauss = state["numpy"]
    np.random.set_state((name, np.asarray(key, dtype=np.uint32), pos, has_gauss, gauss))
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
