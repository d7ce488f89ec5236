"""Checkpoints: model, optimizers, schedulers, method (hook) state and RNG states, written atomically."""

from __future__ import annotations

from pathlib import Path

from ..io import torch_load, torch_save
from .seeding import rng_state, set_rng_state


def save_checkpoint(path, *, model, optimizers=(), schedulers=(), hooks=(), epoch: int, history: list,
                    extra: dict | None = None) -> Path:
    return torch_save(path, {
        "epoch": epoch,
        "model": model.state_dict(),
        "optimizers": [o.state_dict() for o in optimizers],
        "schedulers": [s.state_dict() for s in schedulers],
        "hooks": [h.state_dict() for h in hooks],
        "history": history,
        "rng": rng_state(),
        "extra": extra or {},
    })


def load_checkpoint(path, *, model, optimizers=(), schedulers=(), hooks=(), restore_rng: bool = True) -> dict:
    """Restore everything :func:`save_checkpoint` wrote; returns the raw dict (epoch, history, extra)."""
    state = torch_load(path)
    model.load_state_dict(state["model"])
    for obj, sd in zip(optimizers, state["optimizers"]):
        obj.load_state_dict(sd)
    for obj, sd in zip(schedulers, state["schedulers"]):
        obj.load_state_dict(sd)
    for obj, sd in zip(hooks, state["hooks"]):
        obj.load_state_dict(sd)
    if restore_rng:
        set_rng_state(state["rng"])
    return state
