"""Learning Neural Network Subspaces (Wortsman et al. 2021): lines, curves and simplexes of networks trained in
one run. ``layers`` (subspace conv/linear/BatchNorm), ``training`` (sampling + cos^2 hook), ``evaluation``, and the
torch-free ``paths`` (the rules' input functions)."""

import importlib

# Names load lazily (PEP 562): importing the torch-free ``paths`` never imports torch.
_EXPORTS = {
    ".layers": ("coefficients", "cos_squared", "sample_point", "set_point", "subspace_layers"),
    ".training": ("ModelSpec", "SubspaceSampling", "noisy_labels", "parse_model", "train_model"),
    ".evaluation": ("alpha_curve", "simplex_row", "standard_rows"),
}
_WHERE = {name: module for module, names in _EXPORTS.items() for name in names}
__all__ = list(_WHERE)


def __getattr__(name: str):
    if name in _WHERE:
        return getattr(importlib.import_module(_WHERE[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
