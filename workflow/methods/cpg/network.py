"""The CPG network: a sharable backbone, one head per task, and each finished task's private state.

Per task k the network keeps, outside the shared weights (``tasks[k-1]``): its BatchNorm parameters and running
statistics, the biases of the sharable layers, its binarised picking mask, its width multiplier and class count.
Restoring them is what makes old tasks exact: the shared BatchNorm modules are retrained by every new task.

Width: the multiplier m counts parameters, so channels scale by sqrt(m) (a conv's parameters grow as width^2); the
model builder rounds the scaled channel counts its own way (VGG16-BN truncates, as the original: 64 -> 78, 512 ->
627, its FCs 4096 -> 5016 at m = 1.5). Growing copies every sharable weight, conv or FC, into the top-left block
``[:out_old, :in_old]`` of the wider layer; the new entries are free (owner 0). Every conv and linear layer the
builder makes through ``layers.conv`` / ``layers.linear`` is sharable (VGG16-BN: 13 convs and its 2 FCs); the
task heads are plain, one per task, on the backbone's ``out_features``.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass

import torch
from torch import nn

from ...errors import UserError
from ...models import Layers, build_backbone
from .layers import SharableConv2d, SharableLinear, norm_layers, sharable_layers

SHARABLE = Layers(conv=SharableConv2d, linear=SharableLinear, norm=nn.BatchNorm2d)
BN_KEYS = ("weight", "bias", "running_mean", "running_var", "num_batches_tracked")


@dataclass
class NetSpec:
    model: str
    in_shape: tuple
    base_width: float
    multiplier: float = 1.0

    @property
    def width(self) -> float:
        return self.base_width * math.sqrt(self.multiplier)


class CPGNet(nn.Module):
    """Sharable backbone + per-task heads. ``forward`` uses the head of ``active`` (the task being trained)."""

    def __init__(self, spec: NetSpec, layers: Layers = SHARABLE):
        super().__init__()
        self.spec = spec
        self.backbone = build_backbone(spec.model, spec.in_shape, spec.width, layers)
        self.heads = nn.ModuleList()
        self.tasks: list[dict] = []  # private state of each task (see module docstring)
        self.active = 0              # 0-based index of the head in use

    def forward(self, x):
        return self.heads[self.active](self.backbone(x))

    @property
    def num_tasks(self) -> int:
        return len(self.heads)

    def add_head(self, num_classes: int) -> nn.Linear:
        head = nn.Linear(self.backbone.out_features, num_classes)
        if hasattr(self.backbone, "init_head"):  # the architecture's own head initialisation (VGG: N(0, 0.01))
            self.backbone.init_head(head)
        self.heads.append(head.to(self.device))
        self.active = len(self.heads) - 1
        return self.heads[-1]

    @property
    def device(self) -> torch.device:
        return next(self.backbone.parameters()).device

    # -- per-task private state --------------------------------------------------------------------------------
    def capture_task_state(self, task_index: int, *, picked: dict | None = None, reuse_all_old: bool = False) -> dict:
        """Snapshot of task ``task_index``'s private state from the live modules (clones, on the CPU).

        ``picked`` defaults to the binarised picking masks attached to the layers; ``reuse_all_old`` marks a task
        that uses every old weight (PackNet)."""
        if picked is None:
            picked = {n: p.cpu().clone() for n, m in sharable_layers(self.backbone) if (p := m.picked()) is not None}
        state = {
            "multiplier": self.spec.multiplier,
            "num_classes": self.heads[task_index].out_features,
            "bn": {n: {k: getattr(m, k).detach().cpu().clone() for k in BN_KEYS} for n, m in norm_layers(self.backbone)},
            "bias": {n: m.bias.detach().cpu().clone() for n, m in sharable_layers(self.backbone) if m.bias is not None},
            "picked": picked,
            "reuse_all_old": reuse_all_old,
        }
        if task_index < len(self.tasks):
            self.tasks[task_index] = state
        else:
            self.tasks.append(state)
        return state

    # -- (de)serialisation -------------------------------------------------------------------------------------
    def to_state(self) -> dict:
        backbone = {k: v.detach().cpu().clone() for k, v in self.backbone.state_dict().items()
                    if not k.endswith(".picking")}
        return {"spec": vars(self.spec).copy(), "backbone": backbone,
                "heads": [{k: v.detach().cpu().clone() for k, v in h.state_dict().items()} for h in self.heads],
                # A deep copy: capture_task_state replaces entries of self.tasks, and states saved earlier (the
                # prune sweep keeps one per level) must not see a later level's BatchNorm, biases or picks.
                "tasks": copy.deepcopy(self.tasks)}

    @classmethod
    def from_state(cls, state: dict, device="cpu") -> "CPGNet":
        spec = dict(state["spec"])
        spec["in_shape"] = tuple(spec["in_shape"])
        net = cls(NetSpec(**spec))
        net.backbone.load_state_dict(state["backbone"])
        for h in state["heads"]:
            head = nn.Linear(h["weight"].shape[1], h["weight"].shape[0])
            head.load_state_dict(h)
            net.heads.append(head)
        net.tasks = copy.deepcopy(state["tasks"])
        net.active = max(len(net.heads) - 1, 0)
        return net.to(device)


def new_network(model: str, in_shape, base_width: float, multiplier: float = 1.0, device="cpu") -> CPGNet:
    return CPGNet(NetSpec(model, tuple(in_shape), base_width, multiplier)).to(device)


def _copy_top_left(dst: torch.Tensor, src: torch.Tensor) -> None:
    if src.dim() != dst.dim() or any(s > d for s, d in zip(src.shape, dst.shape)):
        raise UserError(f"cannot place a {tuple(src.shape)} tensor inside {tuple(dst.shape)}: the wider network "
                        f"must have at least as many channels in every layer")
    dst[tuple(slice(0, s) for s in src.shape)] = src


def widen(net: CPGNet, multiplier: float) -> CPGNet:
    """A copy of ``net`` at a larger parameter multiplier: old weights in the top-left block, new entries free.

    New entries keep the fresh layer's initialisation (owner 0, so they are free for the next task); the live
    BatchNorm and bias values are copied into the first channels. Heads and per-task states are unchanged.
    """
    if multiplier < net.spec.multiplier:
        raise UserError(f"cannot shrink the network from multiplier {net.spec.multiplier} to {multiplier}")
    wide = CPGNet(NetSpec(net.spec.model, net.spec.in_shape, net.spec.base_width, multiplier)).to(net.device)
    old_state = net.backbone.state_dict()
    with torch.no_grad():
        # The wide owner buffers start at 0, so after copying the old block every new entry is free.
        for key, value in wide.backbone.state_dict().items():
            if key in old_state:
                src = old_state[key]
                if src.dim() == 0:
                    value.copy_(src)
                else:
                    _copy_top_left(value, src)
    for h in net.heads:
        head = nn.Linear(h.in_features, h.out_features).to(net.device)
        head.load_state_dict(h.state_dict())
        wide.heads.append(head)
    wide.tasks = [dict(t) for t in net.tasks]
    wide.active = net.active
    return wide


def task_view(net: CPGNet, task_index: int, *, state_of: int | None = None, head_of: int | None = None) -> nn.Module:
    """The plain network that task ``task_index`` (0-based) sees at inference, as the original's inference mode.

    Built at the task's own width from plain layers; every sharable weight is sliced to that width and multiplied
    by the task's fixed mask 1[owner == k] + 1[1 <= owner < k] * picked_k (k = task_index + 1); BatchNorm and
    biases come from the task's private state and the head is its own. Because the slices, masks and private
    state never change after the task finished, this gives bit-identical logits at any later time.

    ``state_of`` / ``head_of`` substitute another task's BatchNorm+biases / head: the #8 failure, for tests.
    """
    k = task_index + 1
    if task_index >= len(net.tasks):
        raise UserError(f"task {task_index} has not been trained by this network ({len(net.tasks)} tasks)")
    own = net.tasks[task_index]
    private = net.tasks[task_index if state_of is None else state_of]
    spec = NetSpec(net.spec.model, net.spec.in_shape, net.spec.base_width, own["multiplier"])
    plain = build_backbone(spec.model, spec.in_shape, spec.width)
    shared = dict(sharable_layers(net.backbone))
    reuse_all = own.get("reuse_all_old", False)
    with torch.no_grad():
        for name, module in plain.named_modules():
            if name in shared:
                src = shared[name]
                cut = tuple(slice(0, s) for s in module.weight.shape)
                owner = src.owner[cut]
                mask = (owner == k).to(module.weight.dtype)
                old = (owner >= 1) & (owner < k)
                if reuse_all:
                    mask = mask + old.to(mask.dtype)
                elif name in own["picked"]:
                    mask = mask + (old & own["picked"][name].to(old.device)).to(mask.dtype)
                module.weight.copy_(src.weight[cut] * mask)
                if module.bias is not None:
                    module.bias.copy_(private["bias"][name])
            elif isinstance(module, nn.modules.batchnorm._BatchNorm):
                for key in BN_KEYS:
                    getattr(module, key).copy_(private["bn"][name][key])
    head_src = net.heads[task_index if head_of is None else head_of]
    view = _TaskView(plain, nn.Linear(head_src.in_features, head_src.out_features))
    view.head.load_state_dict(head_src.state_dict())
    return view.to(net.device).eval()


class _TaskView(nn.Module):
    def __init__(self, backbone: nn.Module, head: nn.Linear):
        super().__init__()
        self.backbone, self.head = backbone, head

    def forward(self, x):
        return self.head(self.backbone(x))
