"""nnp_ref: a readable reference implementation of Behler-Parrinello neural network potentials.

The folders follow the method's pipeline (see docs/architecture.md):
``descriptors`` (neighbours, cutoffs, symmetry functions) -> ``model``
(scaling, element networks, potential, ASE calculator) -> ``training``
(preprocessing, loss, optimisers, loop) -> ``dynamics`` (MD) ->
``analysis`` (errors, observables, plots); ``data`` (reference data),
``io`` (n2p2 and nnp_ref files), ``cli`` and ``course`` (lectures, demo).
"""

import importlib

__version__ = "0.1.0"

# The friendly names, imported on first use (PEP 562) so that `import nnp_ref` (and
# `nnp-ref --help`) does not load Numba, ASE and matplotlib.
_EXPORTS = {
    "NNPCalculator": "nnp_ref.model.calculator",
    "Potential": "nnp_ref.model.potential",
    "Scaling": "nnp_ref.model.scaling",
    "SymmetryFunction": "nnp_ref.descriptors.symmetry_functions",
    "SymmetryFunctionSet": "nnp_ref.descriptors.symmetry_functions",
    "evaluate": "nnp_ref.model.potential",
    "evaluate_atoms": "nnp_ref.model.potential",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name):
    if name not in _EXPORTS:
        raise AttributeError(f"module 'nnp_ref' has no attribute {name!r}")
    value = getattr(importlib.import_module(_EXPORTS[name]), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(list(globals()) + __all__)
