"""One module per method; each builds on workflow.training, workflow.models and workflow.data."""

import importlib


def lazy_exports(package: str, exports: dict[str, tuple[str, ...]]):
    """A package's module ``__getattr__`` (PEP 562) for ``exports`` ({".submodule": (names, ...)}): a name loads its
    submodule on first access, so importing a torch-free submodule (``paths``, ``claims``) never imports torch."""
    where = {name: module for module, names in exports.items() for name in names}

    def __getattr__(name: str):
        if name in where:
            return getattr(importlib.import_module(where[name], package), name)
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    return __getattr__
