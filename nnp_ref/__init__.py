"""nnp_ref: a readable reference implementation of Behler-Parrinello neural network potentials.

The pieces, one module per idea: ``neighbours`` (periodic neighbour list),
``cutoff`` and ``compact`` (cutoff and compact functions),
``symmetry_functions`` (ACSF and their derivatives), ``scaling``,
``activations`` and ``network`` (hand-written backpropagation),
``potential`` (energy, forces, stress), ``calculator`` (ASE adapter),
``io.n2p2`` (n2p2/RuNNer files), ``md`` and ``analysis``.
"""

from nnp_ref.calculator import NNPCalculator
from nnp_ref.potential import Potential, evaluate, evaluate_atoms
from nnp_ref.scaling import Scaling
from nnp_ref.symmetry_functions import SymmetryFunction, SymmetryFunctionSet

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
