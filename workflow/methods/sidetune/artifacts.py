"""Files the side-tuning rules pass along: the pretrained base, the distilled side and the cached features.
Each holds what is needed to rebuild the module (architecture name, widths, input shape) next to its weights."""

from __future__ import annotations

from ...errors import CorruptFile, UserError
from ...io import torch_load, torch_save
from ...models import build_backbone
from .base import state_hash
from .side import build_side


def save_base(path, backbone, *, model: str, width: float, in_shape, source: dict) -> str:
    digest = state_hash(backbone)
    torch_save(path, {"state_dict": backbone.state_dict(), "model": model, "width": width,
                      "in_shape": list(in_shape), "sha256": digest, "source": source})
    return digest


def load_base(path):
    """(backbone, file contents); the backbone's state hash is checked against the one recorded."""
    state = torch_load(path)
    backbone = build_backbone(state["model"], tuple(state["in_shape"]), state["width"])
    backbone.load_state_dict(state["state_dict"])
    if state_hash(backbone) != state["sha256"]:
        raise CorruptFile(f"{path}: the base's weights do not match their recorded hash; delete it and rerun")
    return backbone, state


def save_side(path, side, *, channels, norm_groups: int, in_shape) -> None:
    torch_save(path, {"state_dict": side.state_dict(), "channels": list(channels), "norm_groups": norm_groups,
                      "out_features": side.out_features, "in_shape": list(in_shape)})


def load_side(path):
    state = torch_load(path)
    side = build_side(state["in_shape"], state["channels"], state["out_features"], state["norm_groups"])
    side.load_state_dict(state["state_dict"])
    return side


def save_features(path, features: list[dict], base_sha256: str) -> None:
    torch_save(path, {"tasks": features, "base_sha256": base_sha256})


def load_features(path, base_sha256: str) -> list[dict]:
    state = torch_load(path)
    if state["base_sha256"] != base_sha256:
        raise UserError(f"{path} was computed with another base; delete it and rerun snakemake")
    return state["tasks"]
