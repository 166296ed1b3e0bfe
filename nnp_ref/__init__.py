"""nnp_ref: a readable reference implementation of Behler-Parrinello neural network potentials.

The folders follow the method's pipeline (see docs/architecture.md):
``descriptors`` (neighbours, cutoffs, symmetry functions) -> ``model``
(scaling, element networks, potential, ASE calculator) -> ``training``
(preprocessing, loss, optimisers, loop) -> ``dynamics`` (MD) ->
``analysis`` (errors, observables, plots); ``data`` (reference data),
``io`` (n2p2 and nnp_ref files), ``cli`` and ``course`` (lectures, demo).
"""

from nnp_ref.descriptors.symmetry_functions import SymmetryFunction, SymmetryFunctionSet
from nnp_ref.model.calculator import NNPCalculator
from nnp_ref.model.potential import Potential, evaluate, evaluate_atoms
from nnp_ref.model.scaling import Scaling

__version__ = "0.1.0"

__all__ = [
    "NNPCalculator",
    "Potential",
    "Scaling",
    "SymmetryFunction",
    "SymmetryFunctionSet",
    "evaluate",
    "evaluate_atoms",
]
