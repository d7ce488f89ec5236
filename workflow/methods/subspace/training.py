"""Training a subspace with the shared Trainer: one sampled point per batch plus beta * cos^2 (Algorithm 1).

Model names: ``standard`` (plain network; ``standard<k>`` for the k-th member of the standard ensemble), ``line``, ``curve``, ``simplex<n>``; suffix ``_layerwise`` draws an
independent point for every subspace layer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import torch

from ...errors import UserError
from ...models import build_classifier
from ...training import Hook, TrainConfig, Trainer, seed_everything
from .layers import coefficients, cos_squared, num_anchors, sample_point, set_point, subspace_layers, subspace_modules


@dataclass(frozen=True)
class ModelSpec:
    name: str
    kind: str          # standard | line | curve | simplex
    vertices: int = 2
    layerwise: bool = False

    @property
    def anchors(self) -> int:
        return num_anchors(self.kind, self.vertices)

    @property
    def centre(self):
        """The midpoint: alpha = 0.5, or the simplex centroid t_i = 1/n."""
        return torch.full((self.vertices,), 1.0 / self.vertices) if self.kind == "simplex" else 0.5


def parse_model(name: str) -> ModelSpec:
    m = re.fullmatch(r"(standard\d*|line|curve|simplex(\d+))(_layerwise)?", name)
    if not m or (m.group(1).startswith("standard") and m.group(3)):
        raise UserError(f"unknown subspace model '{name}'; use standard, line, curve or simplex<n>, "
                        f"optionally with '_layerwise' (not for standard)")
    kind = "simplex" if m.group(2) else re.sub(r"\d+$", "", m.group(1))
    vertices = int(m.group(2)) if m.group(2) else 2
    if kind == "simplex" and vertices < 2:
        raise UserError(f"'{name}': a simplex needs at least 2 vertices")
    return ModelSpec(name, kind, vertices, bool(m.group(3)))


def build_model(spec: ModelSpec, *, model: str, in_shape, num_classes: int, width: float):
    """The registry's ``model`` with subspace layers; a standard network gets the same layers with one anchor, so
    it shares the subspaces' initialisation (Kaiming normal) and differs only in what is trained."""
    return build_classifier(model, in_shape, num_classes, width, layers=subspace_layers(spec.kind, spec.vertices))


class SubspaceSampling(Hook):
    """Per batch: sample a point (one per layer if layerwise) and add beta * cos^2(w_i, w_j) for a random
    anchor pair i < j (the curve's control point and every simplex vertex included)."""

    def __init__(self, spec: ModelSpec, beta: float, seed: int):
        self.spec, self.beta = spec, beta
        self.generator = torch.Generator().manual_seed(seed)

    def on_batch_start(self, trainer):
        s = self.spec
        if s.layerwise:
            for m in subspace_modules(trainer.model):
                m.set_coefficients(coefficients(s.kind, sample_point(s.kind, s.vertices, self.generator)))
        else:
            set_point(trainer.model, s.kind, sample_point(s.kind, s.vertices, self.generator))

    def extra_loss(self, trainer):
        if self.beta == 0:
            return None
        i, j = sorted(torch.randperm(self.spec.anchors, generator=self.generator)[:2].tolist())
        return self.beta * cos_squared(trainer.model, i, j)

    def after_step(self, trainer):
        # Park the model at the midpoint after every step: the next batch samples a new point anyway, and the
        # validation after the epoch's last step (and the saved model) then see alpha = 0.5 / the centroid.
        set_point(trainer.model, self.spec.kind, self.spec.centre)

    def state_dict(self):
        return {"generator": self.generator.get_state()}

    def load_state_dict(self, state):
        self.generator.set_state(state["generator"])


def noisy_labels(y: torch.Tensor, fraction: float, num_classes: int, seed: int) -> torch.Tensor:
    """Replace the labels of a random ``fraction`` of examples by randint(num_classes) (may equal the true one)."""
    if fraction <= 0:
        return y
    g = torch.Generator().manual_seed(seed)
    idx = torch.randperm(len(y), generator=g)[: int(round(fraction * len(y)))]
    y = y.clone()
    y[idx] = torch.randint(0, num_classes, (len(idx),), generator=g)
    return y


def model_seed(seed: int, name: str) -> int:
    """Training seed of one model of result seed ``seed``: standard members ``standard<k>`` get seed*100 + k
    (independent runs for the standard ensemble); every subspace starts from seed*100."""
    m = re.fullmatch(r"standard(\d+)", name)
    return seed * 100 + (int(m.group(1)) if m else 0)


def train_model(task, name: str, params: dict, *, seed: int, device="cpu", checkpoint_path=None,
                progress_file=None, threads=None):
    """Train one model (standard or subspace) on ``task``; returns (model, spec, history)."""
    spec = parse_model(name)
    seed_everything(seed, threads=threads)
    net = build_model(spec, model=params["model"], in_shape=task.train.x.shape[1:], num_classes=task.num_classes,
                      width=params["width"]).to(device)
    hooks = [] if spec.kind == "standard" else [SubspaceSampling(spec, params["beta"], seed)]
    train = type(task.train)(task.train.x, noisy_labels(task.train.y, params.get("label_noise", 0.0),
                                                         task.num_classes, params.get("noise_seed", 0)))
    trainer = Trainer(net, TrainConfig.from_dict(params["train"]), hooks=hooks, device=device, seed=seed,
                      checkpoint_path=checkpoint_path, desc=f"subspace {name}", progress_file=progress_file)
    history = trainer.fit(train, task.val)
    return net, spec, history


__all__ = ["ModelSpec", "parse_model", "build_model", "SubspaceSampling", "noisy_labels", "train_model"]
