"""Expected GPU hours per method for config/paper.yaml: an ESTIMATE from the paper config's own schedules, not a
measurement.

The device check (benchmarks/device_check.sh, config/device_check.yaml, benchmarks/device_check_h200.csv) ran
1-epoch stages on a few generated images per class: its 8-22 s per job are start-up (CUDA, imports, data) and
cannot be scaled up. This script instead counts the work the paper config asks for and divides it by assumed
speeds:

- network cost: the paper networks are built with the project's own builders (those tests/test_paper_networks.py
  checks) on the ``meta`` device (shapes only: no memory, no arithmetic); on one dummy batch, forward hooks count
  the multiply-adds of every Conv2d and Linear call per image (FLOPs = 2 x MACs; BatchNorm, activations, pooling
  not counted) and a dispatch mode counts the operators that launch a GPU kernel (CPG's masks, BSP's contexts and
  the subspace layers' anchor mixing included);
- work: the stage structure (tasks, attempts, pruning levels, seeds, transfer runs, subspace models, scored nets)
  comes from the merged config and the method's code under workflow/methods/<m>/ and rules/<m>.smk; dataset sizes
  are the real datasets' (DATASETS), split as workflow.data.suites.build_suite splits them. A training pass costs
  3 x the forward FLOPs (forward + backward; a frozen part, e.g. side-tuning's base under PNN, 1 x), an evaluation
  1 x, wherever the code evaluates (the validation split after every epoch, test splits as each stage does);
- time of a work item = steps x max(FLOPs of a step / THROUGHPUT + weight traffic of a step / MEMORY, kernel
  launches of a step x LAUNCH) + steps x STEP_OVERHEAD + bytes copied from the host / HOST_BANDWIDTH; per method,
  + GPU jobs (rules whose resources are ``train_resources()``) x JOB_OVERHEAD.

The three hour columns take the three assumption sets of ASSUMPTIONS (low: fast, high: slow). Schedules that stop
early (CPG's collapse / patience, DP-NAS's early stopping and duplicate nets) are counted at their upper bound;
each row's ``basis`` says what it counts.

Writes benchmarks/gpu_hours.csv and report/gpu_hours.md. Run: .venv/bin/python -m benchmarks.gpu_hours
(20-30 s on one CPU core; no training, no data, no GPU).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from torch import nn
from torch.utils._python_dispatch import TorchDispatchMode

from benchmarks.common import HERE
from workflow.config import dataset_classes
from workflow.methods.cpg.choose import EPS, next_multiplier
from workflow.methods.cpg.layers import Sharable
from workflow.training.loop import TrainConfig

ROOT = HERE.parent
CSV = HERE / "gpu_hours.csv"
REPORT = ROOT / "report" / "gpu_hours.md"
DEVICE_CHECK = HERE / "device_check_h200.csv"

# --- the assumptions (named, so a measured number can replace any one of them) ------------------------------
# THROUGHPUT: sustained TFLOP/s of these small-image convnets on one H200-class GPU: fp32, cuDNN convolutions in
#   TF32 (PyTorch's default; matmuls stay fp32), deterministic kernels and cudnn.benchmark off (as
#   workflow.training.seed_everything sets). MEMORY: sustained GPU memory bandwidth (TB/s) for the weight-sized work
#   of a step (WEIGHT_BYTES per parameter). LAUNCH: host time per operator (dispatch + kernel launch), x3 in a
#   training step (forward + backward). STEP_OVERHEAD: the rest of the Trainer's step (index gather, optimizer, two
#   .item() syncs). HOST_BANDWIDTH: data live in host memory; every batch is gathered and copied to the GPU.
#   JOB_OVERHEAD: start-up of one GPU job (CUDA, imports, loading the dataset): the device check's 1-epoch jobs
#   took 8-22 s each, most 10-13 s (benchmarks/device_check_h200.csv).
ASSUMPTIONS = {
    "low": {"throughput_tflops": 50.0, "launch_us": 5.0, "step_overhead_ms": 0.25, "host_gbps": 10.0,
            "memory_tbps": 4.0, "job_overhead_s": 10.0},
    "mid": {"throughput_tflops": 25.0, "launch_us": 10.0, "step_overhead_ms": 0.5, "host_gbps": 5.0,
            "memory_tbps": 3.0, "job_overhead_s": 15.0},
    "high": {"throughput_tflops": 10.0, "launch_us": 20.0, "step_overhead_ms": 1.0, "host_gbps": 2.0,
             "memory_tbps": 2.0, "job_overhead_s": 20.0},
}
# Bytes moved per parameter per step: training a plain layer reads the weight (forward, backward), writes and reads
# its gradient, reads and writes the optimizer state and the weight (about 8 float32 touches); CPG's masked layers
# also build the effective weight from the masks in every forward pass, mask the gradient by ownership and train a
# weight-sized picking mask with Adam (about 32).
WEIGHT_BYTES = {"train": 32, "train_masked": 128, "eval": 8, "eval_masked": 24}
LEVELS = tuple(ASSUMPTIONS)
EVAL_BATCH = TrainConfig.eval_batch_size   # the Trainer's (and predict_logits') default
DPNAS_SAMPLE = 200        # random (epsilon = 1) feasible nets of the paper search space whose mean cost is used
FLOAT_BYTES = 4

# The real datasets: training and test images (the registry's loaders: torchvision's splits; Flowers-102 `train`,
# Oxford-IIIT Pets `trainval`); their classes and superclasses are workflow.config.dataset_classes'. Images per class
# are taken as equal (exact for CIFAR and Fashion-MNIST; Pets' 93-100 trainval images per class and Flowers' uneven
# test split are averaged).
DATASETS = {
    "cifar100": {"train": 50_000, "test": 10_000, "shape": (3, 32, 32)},
    "cifar10": {"train": 50_000, "test": 10_000, "shape": (3, 32, 32)},
    "fashion_mnist": {"train": 60_000, "test": 10_000, "shape": (1, 28, 28)},
    "oxford_pets": {"train": 3_680, "test": 3_669, "shape": None},   # image_size option (160)
    "flowers102": {"train": 1_020, "test": 6_149, "shape": None},
}
COLUMNS = ["method", "network", "params", "gflops_per_image", "image_passes", "jobs", "gpu_jobs", "pflop",
           "steps", "host_gb", "gpu_hours_low", "gpu_hours_mid", "gpu_hours_high", "mid_time_by", "basis"]


# --- counting FLOPs ----------------------------------------------------------------------------------------------

def layer_macs(module: nn.Module, out: torch.Tensor) -> int:
    """Multiply-adds per example of one Conv2d / Linear call, from its output's shape: every output element of a
    conv costs in_channels / groups x kh x kw, of a linear layer in_features."""
    per_example = out.numel() // out.shape[0]
    if isinstance(module, nn.Conv2d):
        return per_example * (module.in_channels // module.groups) * module.kernel_size[0] * module.kernel_size[1]
    if isinstance(module, nn.Linear):
        return per_example * module.in_features
    return 0


# Operators that launch no GPU kernel (views, allocations): not counted as launches.
NO_KERNEL = {"empty", "empty_like", "empty_strided", "new_empty", "view", "_unsafe_view", "reshape", "_reshape_alias",
             "t", "transpose", "permute", "expand", "unsqueeze", "squeeze", "slice", "select", "split", "chunk",
             "unbind", "detach", "alias", "as_strided", "lift_fresh", "flatten"}
REST = "_rest"  # operators run outside every named part (e.g. the heads' group norm): they train with the net


@dataclass
class Count:
    """Forward cost per example of a network's parts: GFLOPs (2 x MACs of Conv2d / Linear layers) and operator
    calls (each a kernel launch on a GPU), and the network's parameter count."""

    gflops: dict[str, float]
    calls: dict[str, int]
    params: int
    part_params: dict[str, int] = field(default_factory=dict)   # parameters per part
    masked: dict[str, int] = field(default_factory=dict)        # of them, in CPG's masked (sharable) layers

    @property
    def total_gflops(self) -> float:
        return sum(self.gflops.values())


class _Ops(TorchDispatchMode):
    """Counts the operators a forward pass dispatches, per part (the part whose module is running)."""

    def __init__(self, stack: list[str], calls: dict[str, int]):
        super().__init__()
        self.stack, self.calls = stack, calls

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        if func.overloadpacket.__name__ not in NO_KERNEL:
            self.calls[self.stack[-1]] += 1
        return func(*args, **(kwargs or {}))


def count(model: nn.Module, in_shape, forward=None, parts: dict | None = None,
          device="meta", batch: int = 2) -> Count:
    """Run ``forward(model, x)`` (default ``model(x)``) once on a dummy batch and count, per part (``parts``: name ->
    a submodule or a list of them; default one part ``all``), the FLOPs per example of every Conv2d / Linear call
    (forward hooks) and the operators dispatched (kernel launches; those outside every part under ``_rest``)."""
    parts = parts or {"all": model}
    members = {name: {id(m): m for module in (part if isinstance(part, (list, tuple)) else [part])
                      for m in module.modules()} for name, part in parts.items()}
    owner = {}
    for name, mods in members.items():
        for i in mods:
            owner.setdefault(i, name)
    gflops = {name: 0.0 for name in parts}
    calls = {name: 0 for name in [*parts, REST]}
    stack = [REST]

    def macs_hook(module, inputs, out):
        name = owner.get(id(module))
        if name is not None:
            gflops[name] += 2 * layer_macs(module, out) / 1e9

    def enter(name):
        return lambda module, inputs: stack.append(name)

    def leave(module, inputs, out):
        stack.pop()

    handles = [m.register_forward_hook(macs_hook) for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    for m in model.modules():  # every module of a part says whose operators run while it runs
        if id(m) in owner:
            handles += [m.register_forward_pre_hook(enter(owner[id(m)])), m.register_forward_hook(leave)]
    try:
        x = torch.zeros(batch, *in_shape, device=device)
        with torch.no_grad(), _Ops(stack, calls):
            forward(model, x) if forward else model(x)
    finally:
        for h in handles:
            h.remove()
    part_params, masked = {}, {}
    for name, mods in members.items():
        part_params[name] = sum(p.numel() for m in mods.values() for p in m.parameters(recurse=False))
        masked[name] = sum(m.weight.numel() for m in mods.values() if isinstance(m, Sharable))
    return Count(gflops, calls, sum(p.numel() for p in model.parameters()), part_params, masked)


# --- work items ------------------------------------------------------------------------------------------------

@dataclass
class Cost:
    """What one pass of one image costs: FLOPs that train (forward + backward: x3) or only run forward (a frozen
    part, or any evaluation: x1), operator calls (kernel launches), parameters, host bytes copied per image."""

    trained_gflops: float
    frozen_gflops: float = 0.0
    trained_calls: int = 0
    frozen_calls: int = 0
    bytes_per_image: float = 0.0
    trained_params: int = 0
    frozen_params: int = 0
    masked_params: int = 0   # trained parameters in CPG's masked layers (more memory traffic per step)

    @classmethod
    def of(cls, c: Count, trained=(), frozen=(), bytes_per_image: float = 0.0) -> "Cost":
        """A cost from parts of a count; operators outside the parts (``_rest``) go with the trained ones."""
        rest = [REST] if trained else []
        return cls(sum(c.gflops[p] for p in trained), sum(c.gflops[p] for p in frozen),
                   sum(c.calls[p] for p in [*trained, *rest]), sum(c.calls[p] for p in frozen), bytes_per_image,
                   sum(c.part_params.get(p, 0) for p in trained), sum(c.part_params.get(p, 0) for p in frozen),
                   sum(c.masked.get(p, 0) for p in trained))

    def weight_bytes(self, train: bool) -> float:
        """Bytes of weight-sized memory traffic per step (reading weights, gradients, optimizer state, masks)."""
        if train:
            plain = self.trained_params - self.masked_params
            return (WEIGHT_BYTES["train"] * plain + WEIGHT_BYTES["train_masked"] * self.masked_params
                    + WEIGHT_BYTES["eval"] * self.frozen_params)
        return WEIGHT_BYTES["eval"] * (self.trained_params + self.frozen_params) + \
            (WEIGHT_BYTES["eval_masked"] - WEIGHT_BYTES["eval"]) * self.masked_params


@dataclass
class Work:
    cost: Cost
    images: int          # per epoch
    batch: int
    epochs: int = 1
    train: bool = True
    extra_bytes_per_image: float = 0.0   # e.g. embeddings copied back to the host

    @property
    def steps(self) -> int:
        return self.epochs * math.ceil(self.images / self.batch) if self.images else 0

    @property
    def passes(self) -> int:
        return self.epochs * self.images

    @property
    def flops(self) -> float:
        c = self.cost
        per_image = (3 * c.trained_gflops if self.train else c.trained_gflops) + c.frozen_gflops
        return per_image * 1e9 * self.passes

    @property
    def launches_per_step(self) -> int:
        c = self.cost
        return (3 if self.train else 1) * c.trained_calls + c.frozen_calls

    @property
    def host_bytes(self) -> float:
        return self.passes * (self.cost.bytes_per_image + self.extra_bytes_per_image)

    def terms(self, a: dict) -> dict[str, float]:
        """Seconds under assumptions ``a``, by what bounds them: each step takes the longer of its FLOPs at the
        throughput plus its weight-sized memory traffic (``compute``) and its kernel launches (``launch``), plus the
        per-step overhead (``step``); the data copied from the host (``host``) come on top."""
        out = {"compute": 0.0, "launch": 0.0, "step": 0.0, "host": 0.0}
        if not self.steps:
            return out
        compute = (self.flops / self.steps / (a["throughput_tflops"] * 1e12)
                   + self.cost.weight_bytes(self.train) / (a["memory_tbps"] * 1e12))
        launch = self.launches_per_step * a["launch_us"] * 1e-6
        out["compute" if compute >= launch else "launch"] = self.steps * max(compute, launch)
        out["step"] = self.steps * a["step_overhead_ms"] * 1e-3
        out["host"] = self.host_bytes / (a["host_gbps"] * 1e9)
        return out

    def seconds(self, a: dict) -> float:
        return sum(self.terms(a).values())


def fit(cost: Cost, train: int, val: int, epochs: int, batch: int, eval_batch: int = EVAL_BATCH) -> list[Work]:
    """The shared Trainer's fit: ``epochs`` training epochs, the validation split evaluated after each."""
    return [Work(cost, train, batch, epochs), Work(cost, val, eval_batch, epochs, train=False)]


def evaluate(cost: Cost, images: int, times: int = 1, batch: int = EVAL_BATCH) -> list[Work]:
    return [Work(cost, images, batch, times, train=False)]


def repeat(works: list[Work], n: int) -> list[Work]:
    return [w for _ in range(n) for w in works]


@dataclass
class Estimate:
    method: str
    network: str
    params: int
    gflops_per_image: float
    works: list[Work]
    gpu_jobs: int
    cpu_jobs: int
    basis: str
    conditional_gpu_jobs: int = 0   # of the jobs, those a checkpoint adds only on some outcomes (CPG's growth)
    conditional_cpu_jobs: int = 0

    def terms(self, level: str = "mid") -> dict[str, float]:
        """Seconds by term (compute, launch, step, host, jobs) under the assumptions of ``level``."""
        a = ASSUMPTIONS[level]
        out = {"compute": 0.0, "launch": 0.0, "step": 0.0, "host": 0.0}
        for w in self.works:
            for k, v in w.terms(a).items():
                out[k] += v
        out["jobs"] = self.gpu_jobs * a["job_overhead_s"]
        return out

    def row(self) -> dict:
        hours = {lvl: sum(self.terms(lvl).values()) / 3600 for lvl in LEVELS}
        mid = self.terms("mid")
        share = ", ".join(f"{k} {100 * v / sum(mid.values()):.0f}%" for k, v in
                          sorted(mid.items(), key=lambda kv: -kv[1]) if v / sum(mid.values()) >= 0.05)
        return {"method": self.method, "network": self.network, "params": int(self.params),
                "gflops_per_image": sig(self.gflops_per_image, 4),
                "image_passes": int(sum(w.passes for w in self.works if w.train)),
                "jobs": self.gpu_jobs + self.cpu_jobs, "gpu_jobs": self.gpu_jobs,
                "pflop": sig(sum(w.flops for w in self.works) / 1e15),
                "steps": int(sum(w.steps for w in self.works)),
                "host_gb": sig(sum(w.host_bytes for w in self.works) / 1e9),
                **{f"gpu_hours_{lvl}": sig(hours[lvl]) for lvl in LEVELS}, "mid_time_by": share,
                "basis": self.basis}


def sig(x: float, digits: int = 3) -> float:
    return float(f"{x:.{digits}g}")


# --- data --------------------------------------------------------------------------------------------------------

def image_shape(config: dict, dataset: str) -> tuple[int, int, int]:
    shape = DATASETS[dataset]["shape"]
    if shape is None:  # the torchvision folder datasets: resized and centre-cropped to image_size (default 160)
        size = int(((config["data"].get("options") or {}).get(dataset) or {}).get("image_size", 160))
        shape = (3, size, size)
    return tuple(shape)


@dataclass(frozen=True)
class Split:
    train: int
    val: int
    test: int
    classes: int


def suite_tasks(spec: dict) -> list[Split]:
    """Images per task of a suite spec, as workflow.data.suites.build_suite cuts them: per class
    max(1, round(val_fraction x n)) held out for validation, at most train_per_class kept for training."""
    ds = DATASETS[spec["dataset"]]
    classes, superclasses = dataset_classes(spec["dataset"])
    if spec.get("grouping", "classes") == "superclasses":
        sizes = [classes // superclasses] * (spec.get("tasks") or superclasses)
    elif spec.get("class_groups"):
        sizes = [len(g) for g in spec["class_groups"]]
    else:
        sizes = [spec["classes_per_task"]] * spec["tasks"]
    per_class, test_per_class = ds["train"] / classes, ds["test"] / classes
    vf = float(spec.get("val_fraction", 0.1))
    val = max(1, int(round(vf * per_class))) if vf > 0 else 0
    train = per_class - val
    if spec.get("train_per_class"):
        train = min(train, spec["train_per_class"])
    return [Split(int(round(k * train)), k * val, int(round(k * test_per_class)), k) for k in sizes]


# --- the methods ---------------------------------------------------------------------------------------------------

def lifelong_nets(config: dict) -> dict:
    """Side-tuning's networks on the suite's image shape: the ResNet-44 base, the FCN4 side and every lifelong
    method's network (10 tasks), each counted by part."""
    from workflow.methods.sidetune import FrozenBase, build_side
    from workflow.methods.sidetune.lifelong import build_network
    from workflow.models import build_backbone, build_classifier

    st = config["sidetune"]
    tasks = suite_tasks(config["suites"][st["suite"]])
    shape = image_shape(config, config["suites"][st["suite"]]["dataset"])
    source = suite_tasks(config["suites"][st["source_suite"]])[0]
    ncls = [t.classes for t in tasks]
    with torch.device("meta"):
        backbone = build_backbone(st["base"]["model"], shape, st["base"]["width"])
        side = build_side(shape, st["side"]["channels"], backbone.out_features, st["side"]["norm_groups"])
        params = {"merge": st["merge"], "head_groups": st["head_groups"]}
        nets = {m: build_network(m, backbone=backbone, side_init=side, params=params, num_classes=ncls,
                                 image_shape=shape) for m in ("sidetune", "features", "finetune", "pnn")}
        if "bsp" in config["methods"]:  # a method of its own package (workflow/methods/bsp)
            from workflow.methods.bsp.network import build_network as build_bsp

            base_state = {"model": st["base"]["model"], "in_shape": list(shape), "width": st["base"]["width"]}
            nets["bsp"] = build_bsp(backbone, base_state, init=config["bsp"]["init"],
                                    context_seed=config["bsp"]["context_seed"], num_classes=ncls,
                                    head_groups=st["head_groups"], image_shape=shape)
        pretrain = build_classifier(st["base"]["model"], shape, source.classes, st["base"]["width"])
        independent = build_classifier(st["base"]["model"], shape, tasks[0].classes, st["base"]["width"])
        frozen = FrozenBase(backbone)

    def task0(m, x):
        return m(x, 0)

    counts = {
        "pretrain": count(pretrain, shape),
        "independent": count(independent, shape),
        "base": count(frozen, shape),
        "side": count(side, shape),
        "sidetune": count(nets["sidetune"], shape, task0, {"base": nets["sidetune"].base, "own": [
            nets["sidetune"].sides[0], nets["sidetune"].merges[0], nets["sidetune"].heads[0]]}),
        "features": count(nets["features"], shape, task0, {"base": nets["features"].base,
                                                            "own": nets["features"].heads[0]}),
        "finetune": count(nets["finetune"], shape, task0),
        "pnn": count(nets["pnn"], shape, task0, {"base": nets["pnn"].base, "own": [
            nets["pnn"].columns[0], nets["pnn"].heads[0]]}),
    }
    if "bsp" in nets:
        counts["bsp"] = count(nets["bsp"], shape, task0)
    return {"tasks": tasks, "source": source, "shape": shape, "counts": counts, "nets": nets}


def lifelong_sequence(tasks: list[Split], cost: Cost, train: dict, fisher: bool = False) -> list[Work]:
    """workflow.methods.sidetune.lifelong.run_sequence: per task t, fit (validation every epoch), EWC's Fisher pass
    (forward + backward over the training split), then the test split of every task j <= t."""
    works = []
    for t, task in enumerate(tasks):
        works += fit(cost, task.train, task.val, train["epochs"], train["batch_size"])
        if fisher:
            works.append(Work(cost, task.train, train["batch_size"]))
        works += evaluate(cost, sum(tasks[j].test for j in range(t + 1)))
    return works


def sidetune_estimates(config: dict) -> list[Estimate]:
    st, seeds = config["sidetune"], len(config["seeds"])
    info = lifelong_nets(config)
    tasks, source, shape, counts = info["tasks"], info["source"], info["shape"], info["counts"]
    image_bytes = FLOAT_BYTES * math.prod(shape)
    train = st["train"]
    cached = bool(st["cache_features"]) and train.get("augment", "none") == "none"
    feature_bytes = FLOAT_BYTES * info["nets"]["sidetune"].feature_dim
    packed_bytes = feature_bytes + image_bytes  # a cached row: [base features | image]
    n_tasks, epochs = len(tasks), train["epochs"]
    label = f"{n_tasks} tasks x {tasks[0].classes} classes ({tasks[0].train} train images each), {epochs} epochs " \
            f"per task, batch {train['batch_size']}, {seeds} seed(s)"

    # shared jobs (sidetune's DAG; finetune, features, ewc, pnn and bsp read their base / side / features)
    base_train, side_cfg = st["base"]["train"], st["side"]["distil"]
    pre = Cost.of(counts["pretrain"], trained=["all"], bytes_per_image=image_bytes)
    base = Cost.of(counts["base"], frozen=["all"], bytes_per_image=image_bytes)
    side = Cost.of(counts["side"], trained=["all"], bytes_per_image=image_bytes)
    shared = (fit(pre, source.train, source.val, base_train["epochs"], base_train["batch_size"])
              + evaluate(pre, source.val + source.test)                                    # pretrain
              + [Work(side, source.train, side_cfg["batch_size"], side_cfg["epochs"])]       # distil
              + evaluate(base, source.train + source.val) + evaluate(side, source.val))
    if cached:  # sidetune_cache: the base's features of every task split, copied back to the host
        shared.append(Work(base, sum(t.train + t.val + t.test for t in tasks), EVAL_BATCH, train=False,
                           extra_bytes_per_image=feature_bytes))

    def seq(name, trained, frozen, use_cache, fisher=False):
        c = counts[name]
        if use_cache:  # the base's part is read from the cache: [features | image] rows
            cost = Cost.of(c, trained=trained, bytes_per_image=packed_bytes)
        else:
            cost = Cost.of(c, trained=trained, frozen=frozen, bytes_per_image=image_bytes)
        return lifelong_sequence(tasks, cost, train, fisher)

    out = []
    shared_jobs = 3 if st["cache_features"] else 2  # pretrain, distil (, cache)
    out.append(Estimate(
        "sidetune", f"{st['base']['model']} base (frozen) + fcn4 side x {n_tasks}",
        sum(p.numel() for p in info["nets"]["sidetune"].parameters()), counts["sidetune"].total_gflops,
        repeat(shared + seq("sidetune", ["own"], ["base"], cached), seeds),
        gpu_jobs=seeds * (shared_jobs + 1), cpu_jobs=3 + 1,
        basis=f"{label}; base features cached={cached} (only the side trains: "
              f"{counts['sidetune'].gflops['own']:.3g} GFLOP/image); INCLUDES the shared jobs that finetune, "
              f"features, ewc, pnn and bsp also read: base pretraining on {st['source_suite']} "
              f"({source.train} images x {base_train['epochs']} epochs), side distillation "
              f"({side_cfg['epochs']} epochs), feature cache"))
    indep = Cost.of(counts["independent"], trained=["all"], bytes_per_image=image_bytes)
    indep_works = []
    for task in tasks:  # baseline.train_task per task: fit, then its validation and test split
        indep_works += fit(indep, task.train, task.val, epochs, train["batch_size"]) + evaluate(indep, task.val +
                                                                                               task.test)
    rows = {
        "independent": (f"{st['base']['model']} from scratch per task", counts["independent"], indep_works,
                        f"{label}; one fresh network per task (no shared jobs)"),
        "finetune": (f"{st['base']['model']} (trained) + heads", counts["finetune"],
                     seq("finetune", ["all"], [], False), f"{label}; the whole trunk trains; reads the shared base"),
        "features": (f"{st['base']['model']} base (frozen) + heads", counts["features"],
                     seq("features", ["own"], ["base"], cached),
                     f"{label}; only the heads train on cached base features (cached={cached}): start-up and "
                     f"per-step overhead dominate"),
        "ewc": (f"{st['base']['model']} (trained) + heads", counts["finetune"], seq("finetune", ["all"], [], False,
                                                                                   fisher=True),
                f"{label}; as finetune plus one Fisher pass (forward + backward) over each task's training split"),
        "pnn": (f"{st['base']['model']} base (frozen) + fcn4 columns with laterals", counts["pnn"],
                seq("pnn", ["own"], ["base"], False),
                f"{label}; the frozen base runs forward in every step (laterals need its activations: no cache), "
                f"the task's column trains"),
    }
    if "bsp" in counts:
        rows["bsp"] = (f"{st['base']['model']} superposed (trained) + heads", counts["bsp"],
                       seq("bsp", ["all"], [], False),
                       f"{label}; the whole superposed trunk trains (init {config['bsp']['init']}); reads the "
                       f"shared base")
    for method, (network, c, works, basis) in rows.items():
        if method not in config["methods"]:
            continue
        net = info["nets"].get(method if method != "ewc" else "finetune")
        params = sum(p.numel() for p in net.parameters()) if net is not None else c.params
        out.append(Estimate(method, network, params, c.total_gflops, repeat(works, seeds), gpu_jobs=seeds,
                            cpu_jobs=1, basis=basis))
    return [e for e in out if e.method in config["methods"]]


def baseline_estimate(config: dict) -> Estimate:
    from workflow.models import build_classifier

    b, seeds = config["baseline"], len(config["seeds"])
    spec = config["suites"][config["suite"]]
    tasks, shape = suite_tasks(spec), image_shape(config, spec["dataset"])
    with torch.device("meta"):
        c = count(build_classifier(b["model"], shape, tasks[0].classes, b["width"]), shape)
    cost = Cost.of(c, trained=["all"], bytes_per_image=FLOAT_BYTES * math.prod(shape))
    works = []
    for task in tasks:
        works += fit(cost, task.train, task.val, b["train"]["epochs"], b["train"]["batch_size"])
        works += evaluate(cost, task.val + task.test)
    return Estimate("baseline", f"{b['model']} x{b['width']:g}, one per task", c.params, c.total_gflops,
                    repeat(works, seeds), gpu_jobs=seeds * len(tasks), cpu_jobs=seeds + 1 + 1,
                    basis=f"{config['suite']}: {len(tasks)} tasks x {tasks[0].train} train images, "
                          f"{b['train']['epochs']} epochs, batch {b['train']['batch_size']}, {seeds} seed(s); "
                          f"CPG and PackNet read its goals")


def cpg_estimate(config: dict, method: str) -> Estimate:
    from workflow.methods.cpg.network import CPGNet, NetSpec

    p, seeds = config[method], len(config["seeds"])
    spec = config["suites"][config["suite"]]
    tasks, shape = suite_tasks(spec), image_shape(config, spec["dataset"])
    image_bytes = FLOAT_BYTES * math.prod(shape)
    growth = p["growth"]
    multipliers = [1.0]  # finetune_status grows below max_multiplier; cpg_grow takes next_multiplier
    while multipliers[-1] + EPS < growth["max_multiplier"]:
        multipliers.append(next_multiplier(multipliers[-1], growth["step"], growth["max_multiplier"]))
    steps = len(multipliers) - 1
    counts = {}
    with torch.device("meta"):
        for m in multipliers:
            net = CPGNet(NetSpec(p["model"], shape, p["width"], m))
            net.add_head(tasks[0].classes)
            counts[m] = count(net, shape)
    cost = {m: Cost.of(c, trained=["all"], bytes_per_image=image_bytes) for m, c in counts.items()}
    top = multipliers[-1]
    ft, pr, rt = p["finetune"]["train"], p["prune"]["train"], p["retrain"]["train"]
    works = []
    for k, task in enumerate(tasks):
        # upper bound: every growth step taken on the first task, so every later stage runs the widest network
        for m in (multipliers if k == 0 else [top]):
            works += fit(cost[m], task.train, task.val, ft["epochs"], ft["batch_size"])
        for _ in p["prune"]["levels"]:
            works += fit(cost[top], task.train, task.val, pr["epochs"], pr["batch_size"])
        skip = rt.get("epochs", 0) == 0 or (p["picking"] and k == 0)
        if not skip:
            works += fit(cost[top], task.train, task.val, rt["epochs"], rt.get("batch_size", 64))
        works += evaluate(cost[top], task.val)                                 # the chosen level's val accuracy
        works += evaluate(cost[top], sum(t.test for t in tasks[:k + 1]))      # every task so far
    n = len(tasks)
    gpu = n + steps + n + n                                  # finetune attempts, prune, retrain
    cpu = steps + n + 1                                      # grow, choose, collect
    figures = 2 if method == "cpg" else 0
    levels = len(p["prune"]["levels"])
    if rt.get("epochs", 0) == 0:
        retrain = "skipped"
    else:
        retrain = f"{rt['epochs']} epochs (patience {p['retrain']['patience']} stops it earlier" + \
            ("; skipped for the first task)" if p["picking"] else ")")
    basis = (f"{config['suite']}: {n} tasks x {tasks[0].train} train images, batch {ft['batch_size']}, {seeds} "
             f"seed(s). UPPER BOUND per task: finetune {ft['epochs']} epochs, all {levels} pruning level(s) x "
             f"{pr['epochs']} epochs (a collapsed level stops the sweep), retrain {retrain}")
    if steps:
        basis += (f"; growth x{growth['max_multiplier']:g} ({steps} extra finetune attempt(s)) taken on the first "
                  f"task, so every later stage runs the {top:g}x network "
                  f"({counts[top].total_gflops:.3g} GFLOP/image, {counts[top].params / 1e6:.1f}M params)")
    else:
        basis += "; no growth"
    basis += "; reads the baseline's goals"
    c1 = counts[1.0]
    return Estimate(method, f"{p['model']} x{p['width']:g}, sharable layers" + (f", grown to {top:g}x" if steps
                                                                                 else ""),
                    c1.params, c1.total_gflops, repeat(works, seeds), gpu_jobs=seeds * gpu,
                    cpu_jobs=seeds * cpu + figures + 1, basis=basis, conditional_gpu_jobs=seeds * steps,
                    conditional_cpu_jobs=seeds * steps)


def prior_estimate(config: dict) -> Estimate:
    from workflow.methods.prior.networks import build_network
    from workflow.methods.prior.transfer import epochs_for

    p = config["prior"]
    source = suite_tasks(config["suites"][p["source_suite"]])[p["source_task"]]
    target = suite_tasks(config["suites"][p["target_suite"]])[p["target_task"]]
    s_shape = image_shape(config, config["suites"][p["source_suite"]]["dataset"])
    t_shape = image_shape(config, config["suites"][p["target_suite"]]["dataset"])
    spec = {"model": p["model"], "width": p["width"]}
    with torch.device("meta"):
        c_src = count(build_network(spec, s_shape, source.classes), s_shape)
        c_tgt = count(build_network(spec, t_shape, target.classes), t_shape)
    src = Cost.of(c_src, trained=["all"], bytes_per_image=FLOAT_BYTES * math.prod(s_shape))
    tgt = Cost.of(c_tgt, trained=["all"], bytes_per_image=FLOAT_BYTES * math.prod(t_shape))
    pt, sw = p["pretrain"]["train"], p["swag"]["train"]
    works = (fit(src, source.train, source.val, pt["epochs"], pt["batch_size"])
             + evaluate(src, source.val + source.test)
             + fit(src, source.train, source.val, sw["epochs"], sw["batch_size"]))
    t, sg = p["transfer"], p["transfer"]["sgld"]
    batch = t["train"]["batch_size"]
    # transfer.run_transfer: the MAP lambda grid of every arm always runs (SGLD takes the arm's MAP-selected lambda)
    map_runs = sum(1 if arm == "sgd" else len(t["prior_scales"]) for arm in t["arms"])
    sgld_runs = len(t["arms"]) if "sgld" in t["inference"] else 0
    per_seed = []
    for n in t["n_per_class"]:
        n_train = n * target.classes
        one_map = [Work(tgt, n_train, batch, epochs_for(t["steps"], n_train, batch))] + \
            evaluate(tgt, target.val + target.test)
        cycle = max(sg["samples_per_cycle"], math.ceil(epochs_for(sg["steps"], n_train, batch) / sg["cycles"]))
        one_sgld = [Work(tgt, n_train, batch, cycle * sg["cycles"])] + \
            evaluate(tgt, target.val + target.test, times=sg["cycles"] * sg["samples_per_cycle"])
        per_seed += repeat(one_map, map_runs) + repeat(one_sgld, sgld_runs)
    seeds = len(p["seeds"])
    works += repeat(per_seed, seeds)
    jobs = seeds * len(t["n_per_class"])
    return Estimate("prior", f"{p['model']} at {t_shape[1]}x{t_shape[2]}", c_tgt.params, c_tgt.total_gflops, works,
                    gpu_jobs=2 + jobs, cpu_jobs=seeds + 1 + 1,
                    basis=f"pretrain {pt['epochs']} + SWAG {sw['epochs']} epochs on {p['source_suite']} "
                          f"({source.train} train images); transfer to {p['target_suite']} ({target.train} train "
                          f"images): {seeds} seeds x N in {t['n_per_class']} x ({map_runs} MAP runs over arms x "
                          f"prior scales + {sgld_runs} SGLD runs), each about {t['steps']} steps of batch {batch} "
                          f"(SGLD: {sg['cycles'] * sg['samples_per_cycle']} samples evaluated)")


def subspace_estimate(config: dict) -> Estimate:
    from workflow.methods.subspace import paths as subspace_paths
    from workflow.methods.subspace.training import build_model, parse_model

    s = config["subspace"]
    task = suite_tasks(subspace_paths.suite(config))[0]
    shape = image_shape(config, s["dataset"])
    image_bytes = FLOAT_BYTES * math.prod(shape)
    models = subspace_paths.models(config)
    works, seen = [], {}
    with torch.device("meta"):
        for name in models:
            spec = parse_model(name)
            c = count(build_model(spec, model=s["model"], in_shape=shape, num_classes=task.classes,
                                  width=s["width"]), shape)
            seen[name] = (spec, c)
            works += fit(Cost.of(c, trained=["all"], bytes_per_image=image_bytes), task.train, task.val,
                         s["train"]["epochs"], s["train"]["batch_size"])
    alphas = np.linspace(0, 1, s["alpha_points"])
    points = len({round(float(a), 10) for a in alphas} | {round(float(1 - a), 10) for a in alphas})
    evals = []
    for name, (spec, c) in seen.items():
        cost = Cost.of(c, trained=["all"], bytes_per_image=image_bytes)
        if spec.kind == "standard":
            evals += evaluate(cost, task.test)
        else:  # each point: BatchNorm re-estimated over the training split (batch 128), then the test split
            n = 1 if spec.kind == "simplex" else points
            evals += [Work(cost, task.train, 128, n, train=False)] + evaluate(cost, task.test, times=n)
    seeds = len(s["seeds"])
    standard = seen[models[0]][1]
    return Estimate("subspace", f"{s['model']} x{s['width']:g} (1-{max(sp.anchors for sp, _ in seen.values())} "
                                f"anchors)", standard.params, standard.total_gflops,
                    repeat(works + evals, seeds), gpu_jobs=seeds * (len(models) + 1), cpu_jobs=2 + 1,
                    basis=f"{s['dataset']}: {task.train} train images; {len(models)} models per seed "
                          f"({', '.join(models)}) x {s['train']['epochs']} epochs, batch {s['train']['batch_size']}, "
                          f"{seeds} seeds; evaluation: {points} alpha points per line/curve, each with a BatchNorm "
                          f"pass over the training split")


def dpnas_sample(config: dict, n: int = DPNAS_SAMPLE) -> dict:
    """The forward cost of ``n`` feasible nets drawn by a random (epsilon = 1) search of the paper space, as the
    search draws its first 1,500 nets: mean GFLOPs per image, operators, embedding length and parameters, the
    per-net GFLOPs, and how many nets were drawn (infeasible ones included)."""
    from workflow.methods.dpnas.encoder import build_encoder
    from workflow.methods.dpnas.qlearning import Agent
    from workflow.methods.dpnas.space import SearchSpace

    d = config["dpnas"]
    shape = image_shape(config, d["dataset"])
    space = SearchSpace.from_config(d["space"], image_size=shape[1], in_channels=shape[0],
                                    classes=dataset_classes(d["dataset"])[0])
    agent = Agent(space)
    rows, i = [], 0
    while len(rows) < n:
        layers = space.layers(agent.sample(1.0, np.random.default_rng([0, i])))
        i += 1
        if not space.feasible(layers):
            continue
        with torch.device("meta"):
            enc = build_encoder(layers, shape[0], shape[1], d["classifier"]["bn_eps"])
        c = count(enc, shape)
        rows.append((c.total_gflops, c.calls["all"], enc.out_features, c.params))
    a = np.asarray(rows, dtype=float)
    return {"gflops": float(a[:, 0].mean()), "calls": float(a[:, 1].mean()), "embedding": float(a[:, 2].mean()),
            "params": float(a[:, 3].mean()), "per_net": a[:, 0], "drawn": i}


def dpnas_estimate(config: dict, sample: int = DPNAS_SAMPLE) -> Estimate:
    from workflow.methods.dpnas.task import suite_spec

    d, seeds = config["dpnas"], len(config["seeds"])
    classes = dataset_classes(d["dataset"])[0]
    task = suite_tasks(suite_spec(d, classes))[0]
    shape = image_shape(config, d["dataset"])
    image_bytes = FLOAT_BYTES * math.prod(shape)
    stats = dpnas_sample(config, sample)
    enc_gflops, enc_calls, emb, per_net = stats["gflops"], int(round(stats["calls"])), stats["embedding"], \
        stats["per_net"]
    enc_params, head_params = int(round(stats["params"])), int(round(emb * classes))
    head_gflops = 2 * emb * classes / 1e9
    cls = d["classifier"]
    # the search: the encoder runs forward only (no gradient), the bias-free linear classifier trains on the cache
    encoder = Cost(0.0, enc_gflops, 0, enc_calls, image_bytes, frozen_params=enc_params)
    head = Cost(head_gflops, 0.0, 1, 0, FLOAT_BYTES * emb, trained_params=head_params)
    total = task.train + task.val + task.test

    def scoring() -> list[Work]:  # scoring.score_prior with the cache: embed once, then the linear classifier
        return ([Work(encoder, total, cls["batch_size"], train=False, extra_bytes_per_image=FLOAT_BYTES * emb)]
                + fit(head, task.train, task.val, cls["epochs"], cls["batch_size"], eval_batch=1024)
                + evaluate(head, task.test))

    scored = sum(int(count_) for _, count_ in d["search"]["epsilon_schedule"])
    chosen = 3 * d["hypotheses"]["per_group"]
    resampled = chosen * (1 + len(d["hypotheses"]["resample_seeds"]))
    full = Cost(enc_gflops + head_gflops, 0.0, enc_calls + 1, 0, image_bytes,
                trained_params=enc_params + head_params)
    full_works = (fit(full, task.train, task.val, d["hypotheses"]["full_train_epochs"], cls["batch_size"],
                      eval_batch=1024) + evaluate(full, task.test))
    export = [Work(encoder, total, cls["batch_size"], train=False, extra_bytes_per_image=FLOAT_BYTES * emb)]
    works = repeat(scoring(), scored + resampled) + repeat(full_works, chosen) + export
    spread = f"median {np.median(per_net):.3g}, max {per_net.max():.3g}"
    return Estimate("dpnas", f"random-weight encoders of the paper space at {shape[1]}x{shape[2]} (mean of "
                             f"{sample})", enc_params + head_params, enc_gflops, repeat(works, seeds),
                    gpu_jobs=seeds * 4,
                    cpu_jobs=seeds * 4 + 1,
                    basis=f"{d['dataset']}: {task.train} train / {task.val} val / {task.test} test images. UPPER "
                          f"BOUND: all {scored} counted nets of the epsilon schedule scored (a duplicate net reuses "
                          f"its score and costs nothing; an infeasible one is not trained), each: one forward pass "
                          f"of the encoder over all {total} images + a linear classifier on the {emb:.0f}-long "
                          f"(mean) embedding for all {cls['epochs']} epochs (early stopping not counted); "
                          f"hypotheses: {resampled} more scorings, {chosen} nets trained end to end for "
                          f"{d['hypotheses']['full_train_epochs']} epochs; encoder cost = mean over {sample} random "
                          f"feasible nets ({enc_gflops:.3g} GFLOP/image; {spread}; the later greedy phases may "
                          f"favour other nets); params: the sample's mean (they vary per net)")


def estimates(config: dict | None = None, dpnas_sample_size: int = DPNAS_SAMPLE) -> list[Estimate]:
    """Every method of the registry that the paper config enables, in registry order."""
    from workflow.methods.registry import LIFELONG_METHODS, NAMES

    config = config or paper_config()
    enabled = [m for m in NAMES if m in config["methods"]]
    out = {}
    if "baseline" in enabled:
        out["baseline"] = baseline_estimate(config)
    for m in ("cpg", "packnet"):
        if m in enabled:
            out[m] = cpg_estimate(config, m)
    if any(m in enabled for m in LIFELONG_METHODS):
        out.update({e.method: e for e in sidetune_estimates(config)})
    if "prior" in enabled:
        out["prior"] = prior_estimate(config)
    if "subspace" in enabled:
        out["subspace"] = subspace_estimate(config)
    if "dpnas" in enabled:
        out["dpnas"] = dpnas_estimate(config, dpnas_sample_size)
    missing = [m for m in enabled if m not in out]
    if missing:
        raise SystemExit(f"benchmarks.gpu_hours has no estimate for method(s) {missing}: add one")
    return [out[m] for m in enabled]


def paper_config() -> dict:
    from workflow.config import merged_config

    return merged_config(["--configfile", "config/paper.yaml"], root=ROOT)


def table(config: dict | None = None, dpnas_sample_size: int = DPNAS_SAMPLE) -> pd.DataFrame:
    return pd.DataFrame([e.row() for e in estimates(config, dpnas_sample_size)], columns=COLUMNS)


# --- the report ----------------------------------------------------------------------------------------------------

def gpu_rules(root: Path = ROOT) -> set[str]:
    """The rules whose jobs hold a GPU: those whose resources are ``train_resources()`` (rules/common.smk)."""
    names = set()
    for smk in sorted((root / "rules").glob("*.smk")):
        blocks = re.split(r"^(?:rule|checkpoint) (\w+):", smk.read_text(), flags=re.M)
        names |= {name for name, body in zip(blocks[1::2], blocks[2::2]) if "train_resources(" in body}
    return names


def device_check_job_seconds() -> str:
    """The device check's seconds per 1-epoch GPU job (start-up dominated), for the report."""
    if not DEVICE_CHECK.exists():
        return "no device check record"
    dc = pd.read_csv(DEVICE_CHECK)
    dc = dc[dc["rule"].isin(gpu_rules())]
    per_job = dc["seconds_total"] / dc["jobs"]
    return (f"{per_job.min():.0f}-{per_job.max():.0f} s per job, median {per_job.median():.0f} s, over the "
            f"{len(per_job)} GPU rules of benchmarks/device_check_h200.csv")


def markdown(frame: pd.DataFrame) -> str:
    total = {lvl: frame[f"gpu_hours_{lvl}"].sum() for lvl in LEVELS}
    a = ASSUMPTIONS

    def constant(name, key, what):
        return f"| {name} | {a['low'][key]:g} | {a['mid'][key]:g} | {a['high'][key]:g} | {what} |"

    lines = [
        "# GPU hours of the paper config: an ESTIMATE, not a measurement",
        "",
        "Generated by `.venv/bin/python -m benchmarks.gpu_hours` (benchmarks/gpu_hours.py), which also writes "
        "benchmarks/gpu_hours.csv; rerun it after changing config/paper.yaml. No run of config/paper.yaml has been "
        "timed yet. The device check (benchmarks/device_check.sh on an H200) ran 1-epoch stages on a few generated "
        f"images per class: its times ({device_check_job_seconds()}) are start-up, and cannot be scaled. This "
        "estimate counts the work that config/paper.yaml asks for and divides it by assumed speeds.",
        "",
        f"**Total for all {len(frame)} methods: about {total['mid']:.0f} GPU hours (range {total['low']:.0f} to "
        f"{total['high']:.0f}).** DP-NAS ({frame.set_index('method')['gpu_hours_mid'].get('dpnas', 0):.0f} h) and "
        f"the prior ({frame.set_index('method')['gpu_hours_mid'].get('prior', 0):.0f} h) take most of it. The "
        "methods share only the inputs that `basis` names, so a cluster can run them side by side.",
        "",
        "## How it is computed",
        "",
        "- **Network cost.** The script builds each method's paper network with the project's own builders (the "
        "ones tests/test_paper_networks.py checks) on the `meta` device. It runs one dummy batch through it. Forward "
        "hooks count the multiply-adds of every Conv2d and Linear layer per image (FLOPs = 2 x MACs; BatchNorm, "
        "activations and pooling are not counted). A dispatch mode counts the operators that launch a kernel, "
        "including the mask and context arithmetic of CPG, BSP and the subspace layers.",
        "- **Work.** The merged config (config/config.yaml + config/paper.yaml) and the stage structure in "
        "workflow/methods/<m>/ and rules/<m>.smk give the work. Each training stage is tasks x epochs x the "
        "training images of the real datasets, then x seeds, attempts, pruning levels, transfer runs, subspace "
        "models or scored nets. The datasets are CIFAR-100 and CIFAR-10 (50,000 train / 10,000 test), "
        "Fashion-MNIST (60,000 / 10,000), Oxford-IIIT Pets (3,680 trainval / 3,669 test) and Flowers-102 "
        "(1,020 / 6,149), with 10% of each class held out for validation as the suites say. A training pass "
        "costs 3 x the forward FLOPs (forward + backward). A frozen part (PNN's base) and every evaluation cost "
        "1 x. The validation split is evaluated after every epoch, and the test splits wherever the code "
        "evaluates them.",
        "- **Time.** A work item takes steps x max(FLOPs per step / THROUGHPUT + weight traffic per step / MEMORY, "
        "kernel launches per step x LAUNCH), plus steps x STEP_OVERHEAD, plus host bytes / HOST_BANDWIDTH. Each "
        "method then adds its GPU jobs x JOB_OVERHEAD. Only jobs that hold a GPU are charged: the rules whose "
        "resources are `train_resources()`. Collect, choose, grow and figure jobs run on a CPU, and the shared "
        "`download` jobs are left out. The job counts match `snakemake -n --configfile config/paper.yaml` "
        "(tests/test_gpu_hours.py checks this), plus CPG's growth step, which the dry run cannot see.",
        "- **Upper bounds.** CPG and PackNet are counted with every pruning level and every retraining epoch, "
        "and CPG's one growth step (1.0 -> 1.5) taken on the first task. DP-NAS is counted with every counted "
        "net of its epsilon schedule scored and no early stopping. Its cost per net is the mean over "
        f"{DPNAS_SAMPLE} random feasible nets of the paper search space.",
        "",
        "## Assumptions",
        "",
        "| name | low | mid | high | what |",
        "| --- | --- | --- | --- | --- |",
        constant("THROUGHPUT", "throughput_tflops", "sustained TFLOP/s on one H200-class GPU. fp32, with cuDNN "
                 "convolutions in TF32 (PyTorch's default); deterministic kernels, cudnn.benchmark off"),
        constant("MEMORY", "memory_tbps", "TB/s for the weight-sized work of a step: "
                 f"{WEIGHT_BYTES['train']} bytes per trained parameter, {WEIGHT_BYTES['train_masked']} in CPG's "
                 "masked layers"),
        constant("LAUNCH", "launch_us", "us of host time per operator (x3 in a training step). This bounds small "
                 "networks such as ResNet-20/44 at batch 128 and the FCN4 side"),
        constant("STEP_OVERHEAD", "step_overhead_ms", "ms per batch: the index gather, the optimizer, and the "
                 "Trainer's two .item() syncs"),
        constant("HOST_BANDWIDTH", "host_gbps", "GB/s. The data live in host memory, and every batch is gathered "
                 "there and copied to the GPU"),
        constant("JOB_OVERHEAD", "job_overhead_s", "s of start-up per GPU job: CUDA, imports, loading the data "
                 "(the device check's 1-epoch jobs: see above)"),
        "",
        "The low column takes every low value and the high column every high value: the range is wide on "
        "purpose.",
        "",
        "## Estimate per method",
        "",
        "The columns:",
        "",
        "- GPU hours at the mid assumptions, with the low-high range next to them.",
        "- `time by`: the terms that make up the mid time. `compute` is FLOPs plus weight traffic, `launch` is "
        "kernel launches, `step` is the per-batch overhead, `host` is the copies from host memory, and `jobs` is "
        "job start-up.",
        "- `PFLOP`: forward, backward and evaluation FLOPs together.",
        "- `image passes`: training passes of one image through the method's trained network.",
        "",
        "| method | network | GFLOP/image | image passes | GPU jobs | PFLOP | GPU hours (mid) | low-high "
        "| time by (mid) |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | --- | --- |",
    ]
    for r in frame.itertuples(index=False):
        lines.append(f"| {r.method} | {r.network} | {r.gflops_per_image:g} | {r.image_passes:,} | {r.gpu_jobs} | "
                     f"{r.pflop:g} | **{r.gpu_hours_mid:g}** | {r.gpu_hours_low:g}-{r.gpu_hours_high:g} | "
                     f"{r.mid_time_by} |")
    lines += [f"| **total** | | | | {int(frame['gpu_jobs'].sum())} | {frame['pflop'].sum():.3g} | "
              f"**{total['mid']:.3g}** | {total['low']:.3g}-{total['high']:.3g} | |", "",
              "What each row counts:", ""]
    lines += [f"- **{r.method}**: {r.basis}." for r in frame.itertuples(index=False)]
    lines += [
        "",
        "## Replacing the estimate with measured numbers",
        "",
        "1. **Time a real paper run.** `snakemake --cores all --configfile config/paper.yaml --profile "
        "config/profiles/slurm` writes one Snakemake benchmark record per job under "
        "benchmarks/rules/<rule>/.... `.venv/bin/python -m benchmarks.budget --records-only <run folder>` sums "
        "them per rule (jobs, seconds, peak memory). A method's GPU hours are the seconds of its GPU rules / "
        "3600. Its rules are those in the `rules` file of its registry record (workflow/methods/registry.py).",
        "2. **Scale a device check.** Rerun `OUT=<folder> bash benchmarks/device_check.sh`. Give it an overlay "
        "(`EXTRA_CONFIG`) that restores the paper schedules on real data for one task and one seed (e.g. "
        "`baseline.train.epochs: 100`; that machine has no network, so copy the datasets under `data.root` "
        "first), and a longer `DAG_TIMEOUT`. Its rule_times.csv then gives the seconds per "
        "epoch. Scale those to the whole config with the image passes in benchmarks/gpu_hours.csv.",
        "3. **Calibrate this estimate.** Put measured values into `ASSUMPTIONS` in benchmarks/gpu_hours.py (e.g. "
        "THROUGHPUT = the FLOPs of one measured epoch / its seconds), then rerun the script.",
        "",
    ]
    return "\n".join(lines)


def main():
    frame = table()
    frame.to_csv(CSV, index=False)
    REPORT.write_text(markdown(frame))
    with pd.option_context("display.width", 200, "display.max_colwidth", 40):
        print(frame.drop(columns=["basis"]).to_string(index=False))
    print(f"total GPU hours: mid {frame['gpu_hours_mid'].sum():.3g} (low {frame['gpu_hours_low'].sum():.3g}, high "
          f"{frame['gpu_hours_high'].sum():.3g}); wrote {CSV.relative_to(ROOT)} and {REPORT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
