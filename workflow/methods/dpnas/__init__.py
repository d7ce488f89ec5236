"""DP-NAS (Mundt, Pliushch & Ramesh, CVPR-W 2021): Q-learning search over random-weight CNN encoders ("deep
priors"), scored by a linear classifier trained on their fixed embeddings; hypotheses 2 (no initialisation
lottery) and 3 (full training helps little for good priors); export of a prior's embeddings.

Modules: :mod:`netstring` (net strings), :mod:`space` (states, transitions, feasibility), :mod:`encoder`
(random-weight encoder), :mod:`scoring` (cached embeddings + linear classifier), :mod:`qlearning` (agent),
:mod:`search` (resumable search loop), :mod:`hypotheses` (resample / full training), :mod:`export`,
and the torch-free :mod:`tables` (buffer reader, hypotheses columns, summary; for the collect job) and
:mod:`selection` (which nets the hypotheses study; for the select job).

Submodules load lazily (PEP 562): ``workflow.methods.dpnas.hypotheses`` as an attribute imports that module on
first access, so importing a torch-free submodule (``tables``, ``selection``) never imports torch.
"""

import importlib
import pkgutil

_SUBMODULES = frozenset(m.name for m in pkgutil.iter_modules(__path__))
__all__ = sorted(_SUBMODULES)


def __getattr__(name: str):
    if name in _SUBMODULES:
        return importlib.import_module(f".{name}", __name__)  # also binds it as this package's attribute
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted({*globals(), *_SUBMODULES})
