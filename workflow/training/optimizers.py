"""torch's optimizers without their torch.compile guards, for jobs that never compile.

In torch 2.14 every optimizer ``step`` (its ``_use_grad_for_differentiable`` wrapper) and the first call of
``zero_grad``, ``add_param_group``, ``state_dict`` and ``load_state_dict`` (``torch._disable_dynamo``) import
torch._dynamo: about 1.3 s of CPU in every process that trains, as much as a short job's whole work (the default DAG
has about 115 such jobs). The guards only matter under torch.compile, which this project never uses, so the
optimizers below call the same update code without them: the same numbers, bit for bit, and the same state dicts
(tests/test_training.py). On a torch whose guards look otherwise, ``eager`` returns the class unchanged (slower,
never different)."""

from __future__ import annotations

import types

import torch
from torch.optim import optimizer as _optimizer


def _guard_code(module, name: str):
    """The code object of the wrapper that torch's private decorator ``module.name`` makes, or None where this
    torch has no such decorator (private API: checked, not assumed)."""
    decorator = getattr(module, name, None)
    try:
        return decorator(lambda *a, **k: None).__code__
    except Exception:  # absent, or another signature
        return None


_STEP_GUARD = _guard_code(_optimizer, "_use_grad_for_differentiable")
_METHOD_GUARD = _guard_code(getattr(torch, "_compile", None), "_disable_dynamo")


def _unguarded(fn, guard):
    """The function that torch's ``guard`` wrapper ``fn`` calls, or None when ``fn`` is not that wrapper."""
    if (guard is not None and isinstance(fn, types.FunctionType) and fn.__code__ is guard
            and callable(getattr(fn, "__wrapped__", None))):
        return fn.__wrapped__
    return None


def eager(cls: type) -> type:
    """A subclass of the optimizer ``cls`` whose guarded methods call torch's own code directly."""
    namespace = {}
    for name in dir(cls):
        plain = _unguarded(getattr(cls, name, None), _METHOD_GUARD)
        if plain is not None:
            namespace[name] = plain
    plain_step = _unguarded(getattr(cls, "step", None), _STEP_GUARD)
    if plain_step is not None:
        def step(self, closure=None):
            # the guard's other effect, kept: gradients off during the update unless the optimizer is differentiable
            with torch.set_grad_enabled(self.defaults.get("differentiable", False)):
                return plain_step(self, closure)

        namespace["step"] = step
    if not namespace:
        return cls
    return type(cls.__name__, (cls,), {"__module__": __name__, "__qualname__": cls.__name__,
                                      "__doc__": cls.__doc__, **namespace})


Optimizer = eager(torch.optim.Optimizer)
SGD = eager(torch.optim.SGD)
Adam = eager(torch.optim.Adam)
AdamW = eager(torch.optim.AdamW)
