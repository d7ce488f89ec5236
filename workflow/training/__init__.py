"""The one training core: a train/evaluate loop extended by hooks, checkpoints with RNG state, seeding."""

from .checkpoint import load_checkpoint, save_checkpoint
from .hooks import EarlyStopping, Hook, RecomputeBatchNorm
from .loop import TrainConfig, Trainer, evaluate, predict_logits, recompute_batchnorm
from .seeding import resolve_device, rng_state, seed_everything, set_rng_state, set_threads

__all__ = ["TrainConfig", "Trainer", "evaluate", "predict_logits", "recompute_batchnorm", "Hook", "EarlyStopping",
           "RecomputeBatchNorm", "save_checkpoint", "load_checkpoint", "seed_everything", "rng_state",
           "set_rng_state", "set_threads", "resolve_device"]
