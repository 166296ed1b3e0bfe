r"""Labellers: turn a structure into a reference energy and forces, with provenance.

A *labeller* is any picklable object with

- ``identity: str`` - a canonical description of the method and every
  setting that changes the numbers (e.g. ``"pyscf:rks:pbe/def2-svp:charge=0:spin=0"``).
  The database keys each structure by a hash of its numbers, positions,
  cell and this string, so two methods never share a row.
- ``check(atoms, name)`` - raise ``ValueError`` (one line that contains
  ``name``) for input the method cannot handle. Cheap: it runs on every
  structure before any expensive calculation starts.
- ``__call__(atoms) -> Label`` - the expensive calculation. A method that
  fails on this structure (e.g. an SCF that does not converge) raises
  :class:`LabelError` with the reason; the database records it.

:class:`ASELabeller` wraps any ASE calculator (EMT, LJ, whatever the user
has); :class:`nnp_ref.data.pyscf_labeller.PySCFLabeller` is the quantum
chemistry implementation of the same interface.

Units: every :class:`Label` is in eV and eV/Å; a labeller converts its
code's units at this boundary.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
from ase import Atoms

MIN_DISTANCE = 0.5  # Å: closer atoms are an input error ("overlapping atoms")


class LabelError(RuntimeError):
    """The method ran but gave no usable label for this structure (reason in the message)."""


@dataclass
class Label:
    """The reference result of one structure.

    energy: float, total energy, eV
    forces_nc: (n, 3) float64, forces, eV/Å
    provenance: dict of plain values (method, code, version, wall_time_s,
        converged, scf_cycles, ...), stored next to the label.
    """

    energy: float
    forces_nc: np.ndarray
    provenance: dict = field(default_factory=dict)


def minimum_distance(atoms: Atoms) -> float:
    """Smallest interatomic distance (minimum image for periodic cells), Å; inf for one atom."""
    if len(atoms) < 2:
        return float("inf")
    D_nn = atoms.get_all_distances(mic=bool(np.any(atoms.pbc)))
    return float(D_nn[np.triu_indices(len(atoms), k=1)].min())


def check_geometry(atoms: Atoms, name: str, min_distance: float = MIN_DISTANCE) -> None:
    """Common input checks: atoms present, finite positions, no overlapping atoms."""
    if len(atoms) == 0:
        raise ValueError(f"{name} has no atoms")
    if not np.all(np.isfinite(atoms.positions)):
        raise ValueError(f"{name} has NaN/inf positions")
    d_min = minimum_distance(atoms)
    if d_min < min_distance:
        raise ValueError(
            f"{name} has overlapping atoms (closest pair {d_min:.3f} Å < {min_distance} Å)"
        )


def structure_name(atoms: Atoms, index: int) -> str:
    """How errors name a structure: index, formula and its comment/source if any."""
    extra = atoms.info.get("comment") or atoms.info.get("source")
    return f"structure {index} ({atoms.get_chemical_formula()}{', ' + str(extra) if extra else ''})"


class ASELabeller:
    """Any ASE calculator as a labeller.

    ``calculator`` is an ASE calculator instance (it is copied to worker
    processes by pickling) and ``identity`` a description of it; the default
    is the class name plus its parameters, which is unique for ASE's
    parameter-driven calculators (EMT, LennardJones, ...).
    """

    def __init__(self, calculator, identity: str | None = None):
        self.calculator = calculator
        if identity is None:
            params = getattr(calculator, "parameters", {}) or {}
            text = ",".join(f"{k}={params[k]!r}" for k in sorted(params))
            identity = f"ase:{type(calculator).__name__}({text})"
        self.identity = identity

    def check(self, atoms: Atoms, name: str) -> None:
        check_geometry(atoms, name)

    def __call__(self, atoms: Atoms) -> Label:
        import ase

        work = atoms.copy()
        work.calc = self.calculator
        start = time.perf_counter()
        energy = float(work.get_potential_energy())
        forces = np.array(work.get_forces(), dtype=float)
        wall = time.perf_counter() - start
        if not (np.isfinite(energy) and np.all(np.isfinite(forces))):
            raise LabelError(f"{type(self.calculator).__name__} returned NaN/inf")
        provenance = {
            "method": self.identity,
            "code": "ase",
            "code_version": ase.__version__,
            "wall_time_s": wall,
            "converged": True,
        }
        return Label(energy, forces, provenance)


def make_labeller(method: str, **options):
    """A labeller from a method string.

    ``"emt"`` and ``"lj"`` are ASE's toy calculators; anything of the form
    ``"functional/basis"`` (``"pbe/def2-svp"``, ``"hf/sto-3g"``) is PySCF
    with ``options`` passed to :class:`~nnp_ref.data.pyscf_labeller.PySCFLabeller`.
    """
    name = method.strip().lower()
    if name in ("emt", "lj"):
        if options:
            raise ValueError(f"method {method!r} takes no options, got {sorted(options)}")
        from nnp_ref.data.datasets import make_calculator

        return ASELabeller(make_calculator(name))
    if "/" in name:
        from nnp_ref.data.pyscf_labeller import PySCFLabeller

        return PySCFLabeller(method, **options)
    raise ValueError(
        f"unknown method {method!r}: use 'emt', 'lj' or 'functional/basis' "
        "(e.g. 'pbe/def2-svp', 'hf/sto-3g')"
    )
