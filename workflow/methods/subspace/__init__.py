"""Learning Neural Network Subspaces (Wortsman et al. 2021): lines, curves and simplexes of networks trained in
one run. ``layers`` (subspace conv/linear/BatchNorm), ``training`` (sampling + cos^2 hook), ``evaluation``."""

from .layers import coefficients, cos_squared, sample_point, set_point, subspace_layers  # noqa: F401
from .training import ModelSpec, SubspaceSampling, noisy_labels, parse_model, train_model  # noqa: F401
from .evaluation import alpha_curve, simplex_row, standard_rows  # noqa: F401
