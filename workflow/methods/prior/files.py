"""The prior on disk, named as the original names it, plus a manifest of the parameter order.

``<prefix>_model.pt``     {"state_dict": the pretrained network's state_dict, "network": its spec}
``<prefix>_mean.pt``      mu, float32 (P,)
``<prefix>_variance.pt``  sigma^2 (clamped), float32 (P,)
``<prefix>_covmat.pt``    the low-rank factor D, float32 (P, K), K <= 20: covariance diag(sigma^2) + D D^T
``<prefix>_manifest.json`` {"parameters": [[name, shape], ...], "size": P, "rank": K, ...}

The vectors are the backbone's ``named_parameters()`` flattened in manifest order (BatchNorm affine parameters
included, running statistics and the head excluded). Loading checks that order against the model it is applied
to: a prior of a different architecture (or width, or parameter order) is refused with a message.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from ...errors import UserError
from ...io import read_json, torch_load, torch_save, write_json

SUFFIXES = ("model", "mean", "variance", "covmat")


def prior_paths(prefix) -> dict[str, Path]:
    prefix = str(prefix)
    paths = {s: Path(f"{prefix}_{s}.pt") for s in SUFFIXES}
    paths["manifest"] = Path(f"{prefix}_manifest.json")
    return paths


def parameter_manifest(module: nn.Module) -> list[list]:
    return [[name, list(p.shape)] for name, p in module.named_parameters()]


def save_prior(prefix, *, backbone: nn.Module, model_state: dict, network: dict, stats: dict,
               extra: dict | None = None) -> dict[str, Path]:
    paths = prior_paths(prefix)
    manifest = parameter_manifest(backbone)
    size = sum(int(torch.Size(shape).numel()) for _, shape in manifest)
    if stats["mean"].numel() != size:
        raise ValueError(f"SWAG mean has {stats['mean'].numel()} entries but the backbone has {size} parameters")
    torch_save(paths["model"], {"state_dict": model_state, "network": network})
    torch_save(paths["mean"], stats["mean"])
    torch_save(paths["variance"], stats["variance"])
    torch_save(paths["covmat"], stats["factor"])
    write_json(paths["manifest"], {"parameters": manifest, "size": size, "rank": int(stats["factor"].shape[1]),
                                   "network": network, "covariance": "diag(variance) + covmat @ covmat.T",
                                   **(extra or {})})
    return paths


def check_manifest(manifest: dict, backbone: nn.Module, where: str) -> None:
    """Raise a UserError unless ``backbone``'s parameters have the manifest's names, shapes and order."""
    expected = [(n, list(s)) for n, s in manifest["parameters"]]
    actual = [(n, list(s)) for n, s in parameter_manifest(backbone)]
    if expected == actual:
        return
    for k, (e, a) in enumerate(zip(expected, actual)):
        if e != a:
            detail = f"parameter {k} is {a[0]} {a[1]} in the model but {e[0]} {e[1]} in the prior"
            break
    else:
        detail = f"the model has {len(actual)} parameter tensors, the prior {len(expected)}"
    raise UserError(f"prior {where} does not fit this model: {detail}. The prior was fitted for network "
                    f"{manifest.get('network')}; use the same model/width in the config, or refit the prior "
                    f"(delete the prior files and rerun snakemake).")


def load_prior(prefix, backbone: nn.Module) -> dict:
    """Load mean, variance, factor and the pretrained state, after checking the manifest against ``backbone``."""
    paths = prior_paths(prefix)
    manifest = read_json(paths["manifest"])
    check_manifest(manifest, backbone, str(prefix))
    stats = {"mean": torch_load(paths["mean"]), "variance": torch_load(paths["variance"]),
             "factor": torch_load(paths["covmat"])}
    size = manifest["size"]
    shapes = {"mean": (size,), "variance": (size,), "factor": (size, manifest["rank"])}
    for key, shape in shapes.items():
        if tuple(stats[key].shape) != shape:
            raise UserError(f"prior file {paths['covmat' if key == 'factor' else key]} has shape "
                            f"{tuple(stats[key].shape)}, its manifest says {shape}: the files are from different "
                            f"fits; delete them and rerun snakemake.")
    stats["model"] = torch_load(paths["model"])
    stats["manifest"] = manifest
    return stats
