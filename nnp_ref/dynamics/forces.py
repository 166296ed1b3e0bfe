"""Force functions for MD: ``forces_fn(R_nc) -> (E_pot, F_nc)`` on plain arrays.

Two ways to the forces of positions R_nc (Å, eV):

- :class:`PotentialForces`: straight from an nnp_ref potential (no ``Atoms``),
  with a neighbour list reused across steps (Verlet skin list,
  ``nnp_ref.descriptors.skin``) and the memory-lean force path;
- :class:`ASEForces`: any ASE calculator, through ``atoms.positions``.

:func:`make_forces_fn` picks the first for an ``NNPCalculator`` of a 2G
potential and the second otherwise. Both count their calls and the
wall-clock time spent inside (``n_calls``, ``time_s``).
"""

from __future__ import annotations

import time

import numpy as np
from ase import Atoms
from ase.geometry import complete_cell

from nnp_ref.descriptors.skin import SkinNeighbourList
from nnp_ref.descriptors.symmetry_functions import element_indices
from nnp_ref.model.calculator import NNPCalculator
from nnp_ref.model.potential import MIN_DISTANCE, energy_and_forces


def wrap_positions(R_nc: np.ndarray, cell_cc: np.ndarray, pbc_c: np.ndarray) -> np.ndarray:
    """Shift atoms by whole cell vectors into the cell along periodic directions.

    Atoms already inside keep their exact coordinates (R - 0 @ cell).
    """
    if not np.any(pbc_c):
        return R_nc
    S_nc = np.floor(R_nc @ np.linalg.inv(complete_cell(cell_cc)))  # cell shifts
    S_nc[:, ~np.asarray(pbc_c, dtype=bool)] = 0.0
    return R_nc - S_nc @ cell_cc


class ASEForces:
    """``forces_fn(R_nc) -> (E_pot, F_nc)`` backed by the calculator of ``atoms``.

    The calculator sees the positions shifted by whole cell vectors so that
    they stay within ``margin`` (a fraction of the cell) of the cell along
    periodic directions. An atom is re-shifted only when it gets further out
    than that: wrapping at the cell faces instead would make atoms that
    vibrate across a face jump by a cell vector every few steps and force the
    calculator to rebuild its neighbour list (EMT on 500 Cu atoms: 2.2x
    slower). The forces do not depend on the shifts. ``time_s`` and
    ``n_calls`` count the wall-clock time in the calculator and its calls.
    """

    def __init__(self, atoms: Atoms, margin: float = 0.25):
        if atoms.calc is None:
            raise ValueError("atoms has no calculator: set atoms.calc before running MD")
        self.atoms = atoms
        self.margin = margin
        self.cell_cc = atoms.cell.array.copy()
        self.inv_cell_cc = np.linalg.inv(complete_cell(self.cell_cc))
        self.pbc_c = atoms.pbc.copy()
        self.S_nc = np.zeros((len(atoms), 3))  # cell shifts: calculator sees R - S @ cell
        self.time_s = 0.0
        self.n_calls = 0

    def __call__(self, R_nc: np.ndarray) -> tuple[float, np.ndarray]:
        frac_nc = R_nc @ self.inv_cell_cc - self.S_nc  # fractional coordinates seen
        outside_nc = (frac_nc < -self.margin) | (frac_nc >= 1.0 + self.margin)
        far_n = np.any(outside_nc & self.pbc_c, axis=1)
        if far_n.any():
            self.S_nc[far_n] = np.floor(R_nc[far_n] @ self.inv_cell_cc) * self.pbc_c
        self.atoms.positions = R_nc - self.S_nc @ self.cell_cc
        start = time.perf_counter()
        F_nc = self.atoms.get_forces()  # forces first: calculators compute E with F
        E_pot = self.atoms.get_potential_energy()
        self.time_s += time.perf_counter() - start
        self.n_calls += 1
        return float(E_pot), np.asarray(F_nc, dtype=np.float64)


class PotentialForces:
    """``forces_fn(R_nc) -> (E_pot, F_nc)`` straight from an nnp_ref potential, no ``Atoms``.

    Arrays in, arrays out: the element indices are fixed once, the
    neighbour list is a :class:`~nnp_ref.descriptors.skin.SkinNeighbourList`
    reused across steps (rebuilt when an atom has moved half the ``skin``,
    Å), and each call is :func:`~nnp_ref.model.potential.energy_and_forces`
    (the memory-lean path, with evaluate's checks). Extrapolation is counted
    (``n_extrapolations``, summed over calls), not warned at every step;
    ``run_md`` reports the total at the end. ``time_s`` and ``n_calls`` as
    :class:`ASEForces`.
    """

    def __init__(self, potential, atoms: Atoms, skin: float = 1.0, min_distance=None,
                 always_rebuild: bool = False, raise_on_extrapolation: bool = False):  # fmt: skip
        self.potential = potential
        self.elem_n = element_indices(atoms.get_chemical_symbols(), potential.elements)
        self.cell_cc = atoms.cell.array.copy()
        self.pbc_c = atoms.pbc.copy()
        self.min_distance = MIN_DISTANCE if min_distance is None else min_distance
        self.neighbours = SkinNeighbourList(
            potential.cutoff, skin, self.cell_cc, self.pbc_c, always_rebuild=always_rebuild
        )
        self.extrapolation = "raise" if raise_on_extrapolation else "off"
        self.n_extrapolations = 0
        self.time_s = 0.0
        self.n_calls = 0

    def __call__(self, R_nc: np.ndarray) -> tuple[float, np.ndarray]:
        start = time.perf_counter()
        E_pot, F_nc, n_extrapolations = energy_and_forces(
            self.potential,
            self.elem_n,
            self.neighbours.update(R_nc),
            self.extrapolation,
            self.min_distance,
        )
        self.n_extrapolations += n_extrapolations
        self.time_s += time.perf_counter() - start
        self.n_calls += 1
        return E_pot, F_nc


def make_forces_fn(atoms: Atoms, skin: float = 1.0):
    """The direct array path for an NNPCalculator of a 2G potential, else :class:`ASEForces`."""
    calc = atoms.calc
    if isinstance(calc, NNPCalculator) and not hasattr(
        calc.potential, "electronegativity_networks"
    ):
        return PotentialForces(
            calc.potential,
            atoms,
            skin=skin,
            min_distance=calc.min_distance,
            raise_on_extrapolation=calc.extrapolation == "raise",
        )
    return ASEForces(atoms)


__all__ = ["ASEForces", "PotentialForces", "make_forces_fn", "wrap_positions"]
