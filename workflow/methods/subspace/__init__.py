"""Learning Neural Network Subspaces (Wortsman et al. 2021): lines, curves and simplexes of networks trained in
one run. ``layers`` (subspace conv/linear/BatchNorm), ``training`` (sampling + cos^2 hook), ``evaluation``, and the
torch-free ``paths`` (the rules' input functions)."""

from .. import lazy_exports

# Names load lazily (PEP 562): importing the torch-free ``paths`` never imports torch.
_EXPORTS = {
    ".layers": ("coefficients", "cos_squared", "sample_point", "set_point", "subspace_layers"),
    ".training": ("ModelSpec", "SubspaceSampling", "noisy_labels", "parse_model", "train_model"),
    ".evaluation": ("alpha_curve", "simplex_row", "standard_rows"),
}
__all__ = [name for names in _EXPORTS.values() for name in names]
__getattr__ = lazy_exports(__name__, _EXPORTS)
