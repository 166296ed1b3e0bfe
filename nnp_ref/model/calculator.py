"""ASE calculator: a thin adapter from ``ase.Atoms`` to :func:`nnp_ref.model.potential.evaluate`."""

from __future__ import annotations

from ase.calculators.calculator import Calculator, all_changes
from ase.stress import full_3x3_to_voigt_6_stress

from nnp_ref.model.potential import Potential, evaluate


class NNPCalculator(Calculator):
    """ASE calculator for an nnp_ref :class:`~nnp_ref.model.potential.Potential`.

    Results: ``energy``, ``free_energy`` (the same), ``energies`` (per atom),
    ``forces`` and, for periodic cells, ``stress`` (Voigt, eV/Å^3, ASE's
    sign). After each calculation ``calc.extrapolations`` lists the
    symmetry-function values outside the training range as
    (atom, function index, G, G_min, G_max); ``extrapolation="warn"`` or
    ``"raise"`` turns them into a warning or an error.
    """

    implemented_properties = ["energy", "free_energy", "energies", "forces", "stress"]

    def __init__(self, potential: Potential, extrapolation: str = "count", **kwargs):
        super().__init__(**kwargs)
        if extrapolation not in ("count", "warn", "raise", "ignore"):
            raise ValueError(
                f"extrapolation must be 'count', 'warn', 'raise' or 'ignore', got {extrapolation!r}"
            )
        self.potential = potential
        self.extrapolation = extrapolation
        self.extrapolations: list = []

    def calculate(self, atoms=None, properties=("energy",), system_changes=all_changes):
        super().calculate(atoms, properties, system_changes)
        want_stress = "stress" in properties and any(self.atoms.pbc)
        result = evaluate(
            self.potential,
            self.atoms.get_chemical_symbols(),
            self.atoms.get_positions(),
            self.atoms.get_cell().array,
            self.atoms.get_pbc(),
            forces=True,
            stress=want_stress,
            extrapolation=self.extrapolation,
        )
        self.extrapolations = result.extrapolations
        self.results["energy"] = result.energy
        self.results["free_energy"] = result.energy
        self.results["energies"] = result.energies_n
        self.results["forces"] = result.forces_nc
        if want_stress:
            self.results["stress"] = full_3x3_to_voigt_6_stress(result.stress_cc)
