"""The search space: MetaQNN-style states, the enumerator's transition rules and the feasibility limits.

A state is the tuple ``(layer_type, layer_depth, filter_depth, filter_size, stride, padding, image_size,
fc_size, terminate)``; an action is the next state (Q-values are keyed by ``(state, next_state)``).
``layer_depth`` counts convolutions: a conv adds 1, a residual block 2, a pool 0.

Transition rules (as the original enumerator):

- start / conv / wrn / pool -> conv of kernel ``k < image`` (padding 0 or ``(k-1)//2``; for ``k = 1`` both are 0,
  so that action is listed twice, doubling its chance under random sampling, as in the original) while
  ``depth + 1 <= max_conv``; -> residual block (3x3, stride 1, pad 1) while ``image > 3`` and
  ``depth + 2 <= max_conv``.
- conv / wrn -> max-pool of kernel ``k < image`` and stride ``s <= k`` with ``(image - k) % s == 0``. Never a pool
  first, never pool -> pool.
- conv / wrn / pool -> terminate when ``depth >= min_conv``, or (forced) when no conv fits any more.

Feasibility (checked on a finished net, not during enumeration): final image size ``<= max_image_size`` and
classifier input ``C*H*W <= max_num_fc_input``. Infeasible nets are not trained (reward 0).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import NamedTuple

from ...errors import UserError
from .netstring import Conv, End, Pool, embedding_shape, out_size

START, CONV, WRN, POOL = "start", "conv", "wrn", "max_pool"


class State(NamedTuple):
    layer_type: str
    layer_depth: int
    filter_depth: int
    filter_size: int
    stride: int
    padding: int
    image_size: int
    fc_size: int
    terminate: int


STATE_FIELDS = list(State._fields)


@dataclass
class SearchSpace:
    """Enumerator settings (``dpnas.space`` in the config) plus the data's image size, channels and classes."""

    image_size: int
    in_channels: int
    classes: int
    conv_sizes: list = field(default_factory=lambda: [1, 3, 5, 7, 9, 11])
    conv_features: list = field(default_factory=lambda: [16, 32, 64, 128, 256, 512, 1024])
    conv_strides: list = field(default_factory=lambda: [1])
    pool_sizes: list = field(default_factory=lambda: [2, 3, 4])
    pool_strides: list = field(default_factory=lambda: [2, 3, 4])
    min_conv: int = 2
    max_conv: int = 12
    max_image_size: int = 8
    max_num_fc_input: int = 20000

    @classmethod
    def from_config(cls, section: dict, *, image_size: int, in_channels: int, classes: int) -> "SearchSpace":
        known = {f.name for f in dataclasses.fields(cls)} - {"image_size", "in_channels", "classes"}
        unknown = sorted(set(section) - known)
        if unknown:
            raise UserError(f"unknown dpnas.space keys {unknown}; allowed: {sorted(known)}")
        space = cls(image_size=image_size, in_channels=in_channels, classes=classes, **section)
        if space.min_conv > space.max_conv:
            raise UserError(f"dpnas.space.min_conv ({space.min_conv}) exceeds max_conv ({space.max_conv})")
        return space

    # -- states ------------------------------------------------------------------------------------------------
    def start(self) -> State:
        return State(START, 0, 0, 0, 0, 0, self.image_size, 0, 0)

    def actions(self, state: State) -> list[State]:
        """Every next state allowed after ``state``, in a fixed order (duplicates kept, see module doc)."""
        if state.terminate:
            return []
        img, depth = state.image_size, state.layer_depth
        convs = []
        if depth + 1 <= self.max_conv:
            for k in self.conv_sizes:
                if k >= img:
                    continue
                for f in self.conv_features:
                    for s in self.conv_strides:
                        for p in (0, (k - 1) // 2):
                            new = out_size(img, k, s, p)
                            if new >= 1:
                                convs.append(State(CONV, depth + 1, f, k, s, p, new, 0, 0))
        if img > 3 and depth + 2 <= self.max_conv:
            convs += [State(WRN, depth + 2, f, 3, 1, 1, img, 0, 0) for f in self.conv_features]
        pools = []
        if state.layer_type in (CONV, WRN):
            for k in self.pool_sizes:
                if k >= img:
                    continue
                for s in self.pool_strides:
                    if s <= k and (img - k) % s == 0:
                        pools.append(State(POOL, depth, state.filter_depth, k, s, 0, out_size(img, k, s, 0), 0, 0))
        ends = []
        if state.layer_type != START and (depth >= self.min_conv or not convs):
            ends.append(state._replace(terminate=1))
        return convs + pools + ends

    # -- states <-> layers -------------------------------------------------------------------------------------
    def layers(self, trajectory: list[State]) -> list:
        """Net layers of a trajectory ``[start, s1, ..., terminal]``."""
        out = []
        for s in trajectory[1:]:
            if s.terminate:
                out.append(End(self.classes))
            elif s.layer_type == CONV:
                out.append(Conv(s.filter_depth, s.filter_size, s.stride, s.padding, 1))
            elif s.layer_type == WRN:
                out.append(Conv(s.filter_depth, 3, 1, 1, 0))
            else:
                out.append(Pool(s.filter_size, s.stride))
        return out

    def trajectory(self, layers) -> list[State]:
        """The states visited by a net (the inverse of :meth:`layers`), used to replay stored nets."""
        states = [self.start()]
        for layer in layers:
            prev = states[-1]
            if isinstance(layer, End):
                states.append(prev._replace(terminate=1))
            elif isinstance(layer, Conv) and layer.residual:
                states.append(State(WRN, prev.layer_depth + 2, layer.features, 3, 1, 1, prev.image_size, 0, 0))
            elif isinstance(layer, Conv):
                states.append(State(CONV, prev.layer_depth + 1, layer.features, layer.kernel, layer.stride,
                                    layer.padding, out_size(prev.image_size, layer.kernel, layer.stride,
                                                            layer.padding), 0, 0))
            else:
                states.append(State(POOL, prev.layer_depth, prev.filter_depth, layer.kernel, layer.stride, 0,
                                    out_size(prev.image_size, layer.kernel, layer.stride, 0), 0, 0))
        return states

    # -- feasibility -------------------------------------------------------------------------------------------
    def feasible(self, layers) -> bool:
        """Final image size <= max_image_size and classifier input C*H*W <= max_num_fc_input."""
        c, h, w = embedding_shape(layers, self.in_channels, self.image_size)
        return h <= self.max_image_size and c * h * w <= self.max_num_fc_input
