"""The base network: pretrained on a source pool, then frozen for the whole task sequence.

Frozen means three things, all needed for "the base is unchanged": its parameters get no gradient, it is never
given to an optimizer, and it stays in eval mode even when the Trainer calls ``model.train()`` (otherwise its
BatchNorm running statistics would drift towards each new task).
"""

from __future__ import annotations

import hashlib

import torch
from torch import nn

from ...config import disjoint_image_shares
from ...data.suites import Split, class_groups
from ...errors import UserError
from ...training import predict_logits
from .. import baseline


class FrozenBase(nn.Module):
    """A pretrained backbone that never trains: no gradients, and ``train()`` always means eval mode."""

    def __init__(self, backbone: nn.Module):
        super().__init__()
        self.net = backbone
        for p in self.net.parameters():
            p.requires_grad_(False)
        self.out_features = backbone.out_features
        self.train(False)

    def train(self, mode: bool = True):
        return super().train(False)

    @torch.no_grad()
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)

    @torch.no_grad()
    def taps(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Intermediate activations for lateral connections: the last 4-d output of the backbone's top-level
        ``features`` blocks at each spatial resolution (for a CIFAR ResNet: the end of each stage)."""
        feats = getattr(self.net, "features", None)
        if not isinstance(feats, nn.Sequential):
            raise UserError("pnn needs a base whose blocks are an nn.Sequential `features` (small_cnn, resnet*, "
                            "vgg16_bn, fcn4); set sidetune.base.model to one of them")
        by_size: dict[tuple, torch.Tensor] = {}
        h = x
        for block in feats:
            h = block(h)
            if h.dim() == 4:
                by_size[tuple(h.shape[-2:])] = h  # later blocks at the same size overwrite earlier ones
        if not by_size:
            raise UserError("pnn needs a convolutional base (sidetune.base.model), not an MLP")
        return list(by_size.values())


def state_hash(module: nn.Module) -> str:
    """sha256 over the whole state dict (parameters and buffers such as BatchNorm statistics), in key order."""
    digest = hashlib.sha256()
    for name, tensor in sorted(module.state_dict().items()):
        digest.update(name.encode())
        digest.update(str(tuple(tensor.shape)).encode() + str(tensor.dtype).encode())
        digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()


def check_disjoint(source_spec: dict, task_spec: dict, data) -> None:
    """The base must not see the continual tasks' training images: on one dataset, the two suites' classes must not
    overlap (on different datasets, e.g. CIFAR-10 vs CIFAR-100 in the paper, or on disjoint image shares, they
    cannot)."""
    if source_spec["dataset"] != task_spec["dataset"] or disjoint_image_shares(source_spec, task_spec):
        return
    source = {c for g in class_groups(source_spec, data) for c in g}
    tasks = {c for g in class_groups(task_spec, data) for c in g}
    shared = sorted(source & tasks)
    if shared:
        raise UserError(f"the side-tuning source pool (sidetune.source_suite) and the task suite (sidetune.suite) "
                        f"share classes {shared} of '{source_spec['dataset']}': the base would be pretrained on "
                        f"the tasks' data. Give the two suites disjoint class_groups, or image_share entries with "
                        f"the same parts and seed and different parts.")


def pretrain_base(source_task, *, model: str, width: float, train: dict, seed: int, device, progress_file=None):
    """Pretrain a classifier on the whole source pool (one task of all source classes) with the per-task
    baseline's training routine; the base is its backbone (the classifier head is dropped)."""
    net, history, result = baseline.train_task(source_task, model=model, width=width, train=train, seed=seed,
                                               device=device, progress_file=progress_file)
    return net.backbone, history, result


def base_features(base: nn.Module, split: Split, *, device="cpu", batch_size: int = 512) -> torch.Tensor:
    """The base's output for every example of a split (eval mode, no gradient): computed once and reused for
    every epoch, which is exact because the base is frozen and the input transform is deterministic."""
    return predict_logits(base, split.x, device=device, batch_size=batch_size)


# --- cached inputs: [base features | flattened image] in one tensor -----------------------------------------

def pack(features: torch.Tensor, images: torch.Tensor) -> torch.Tensor:
    """One (N, D + C*H*W) tensor, so a cached split goes through the shared Trainer's batching unchanged."""
    return torch.cat([features.float(), images.flatten(1)], dim=1)


def unpack(x: torch.Tensor, feature_dim: int, image_shape) -> tuple[torch.Tensor, torch.Tensor]:
    return x[:, :feature_dim], x[:, feature_dim:].reshape(len(x), *image_shape)


def packed_split(features: torch.Tensor, split: Split) -> Split:
    return Split(pack(features, split.x), split.y)

