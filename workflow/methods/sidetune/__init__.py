"""Side-tuning for lifelong learning (Zhang et al., "Side-Tuning: Network Adaptation via Additive Side Networks")
and the lifelong baselines it is compared with, all on the same suite and schedule.

Modules, one job each:

- :mod:`.base`      pretrain the base on a source pool kept apart from the tasks; freeze it (eval mode, no
                    gradients, BatchNorm statistics included); hash its state; cache its features.
- :mod:`.side`      the 4-layer FCN side network and its distillation from the base (L2 on the base's features).
- :mod:`.merge`     merge operators: learned alpha = sigmoid(a) and the MLP adapter.
- :mod:`.networks`  the lifelong networks: side-tuning, features, finetune (also EWC's), each with per-task heads.
- :mod:`.pnn`       the progressive network: per-task columns with lateral connections from the frozen base.
- :mod:`.ewc`       elastic weight consolidation as a Trainer hook (Fisher from each finished task).
- :mod:`.lifelong`  the task sequence: train task t with the shared Trainer, evaluate R's row t, resume.
- :mod:`.artifacts` the files passed between rules (base, side, cached features) and how to rebuild them.

Source pool: the paper pretrains the base on CIFAR-10 and learns CIFAR-100 tasks, so the base never sees a task's
images or classes. The default config keeps that property on the digits: the side-tuning suite uses digits 4-9
(3 tasks x 2 classes) and the base pretrains on digits 0-3 (``sidetune.source_suite``); the pretrain rule refuses
two suites of one dataset that share a class. Every lifelong method (and ``independent``) runs on that suite.
- :mod:`.paths`     the files of its jobs, as pure functions of the config (torch-free: the Snakefile's inputs).
"""

from .. import lazy_exports

# Names load lazily (PEP 562): importing the torch-free ``paths`` never imports torch.
_EXPORTS = {
    ".base": ("FrozenBase", "base_features", "check_disjoint", "pretrain_base", "state_hash"),
    ".ewc": ("EWCPenalty",),
    ".lifelong": ("SIDETUNE_METHODS", "build_network", "run_independent", "run_sequence"),
    ".merge": ("AlphaMerge", "MLPMerge", "build_merge"),
    ".side": ("build_side", "distil_side"),
}
__all__ = [name for names in _EXPORTS.values() for name in names]
__getattr__ = lazy_exports(__name__, _EXPORTS)
