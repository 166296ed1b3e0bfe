"""ASE calculator: a thin adapter from ``ase.Atoms`` to :func:`nnp_ref.model.potential.evaluate`."""

from __future__ import annotations

from ase.calculators.calculator import Calculator, all_changes
from ase.stress import full_3x3_to_voigt_6_stress

from nnp_ref.model.potential import MIN_DISTANCE, Potential, check_extrapolation_mode, evaluate


class NNPCalculator(Calculator):
    """ASE calculator for an nnp_ref :class:`~nnp_ref.model.potential.Potential`.

    Results: ``energy``, ``free_energy`` (the same), ``energies`` (per atom),
    ``forces`` and, for periodic cells, ``stress`` (Voigt, eV/Å^3, ASE's
    sign). After each calculation ``calc.extrapolations`` lists the
    symmetry-function values outside the training range as
    (atom, function index, G, G_min, G_max), and ``calc.n_extrapolations``
    counts them over all calculations. ``extrapolation``: "warn" (default,
    one warning per calculation with the counts and the worst atom),
    "raise" or "off" (see :func:`~nnp_ref.model.potential.evaluate`).
    Forces and stress come from the memory-lean path (no stored dG/dR);
    atoms closer than ``min_distance`` Å are refused.

    A 4G potential (:class:`~nnp_ref.model.fourth_generation.FourthGenerationPotential`)
    also gives the equilibrated ``charges`` (``atoms.get_charges()``); the total
    charge is ``atoms.info["charge"]``, its ``energies`` are the short-range
    atomic energies plus the electrostatic share 1/2 Q_i ((C + S) Q)_i, and it
    has no stress.
    """

    implemented_properties = ["energy", "free_energy", "energies", "forces", "stress", "charges"]

    def __init__(
        self,
        potential: Potential,
        extrapolation: str = "warn",
        min_distance: float = MIN_DISTANCE,
        **kwargs,
    ):
        super().__init__(**kwargs)
        check_extrapolation_mode(extrapolation)
        self.potential = potential
        self.extrapolation = extrapolation
        self.min_distance = min_distance
        self.extrapolations: list = []
        self.n_extrapolations = 0

    def calculate(self, atoms=None, properties=("energy",), system_changes=all_changes):
        super().calculate(atoms, properties, system_changes)
        if hasattr(self.potential, "electronegativity_networks"):  # 4G-HDNNP
            self._calculate_fourth_generation()
            return
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
            store_derivatives=False,
            min_distance=self.min_distance,
        )
        self.extrapolations = result.extrapolations
        self.n_extrapolations += len(result.extrapolations)
        self.results["energy"] = result.energy
        self.results["free_energy"] = result.energy
        self.results["energies"] = result.energies_n
        self.results["forces"] = result.forces_nc
        if want_stress:
            self.results["stress"] = full_3x3_to_voigt_6_stress(result.stress_cc)

    def _calculate_fourth_generation(self):
        from nnp_ref.model.fourth_generation import evaluate_atoms

        result = evaluate_atoms(self.potential, self.atoms)
        Q_n = result.charges_n
        share_n = 0.5 * Q_n * ((result.C_nn + result.S_nn) @ Q_n)  # sums to E_elec
        self.results["energy"] = result.energy
        self.results["free_energy"] = result.energy
        self.results["energies"] = result.energies_n + share_n
        self.results["forces"] = result.forces_nc
        self.results["charges"] = Q_n
